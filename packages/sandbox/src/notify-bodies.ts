// The XML bodies of notifies, built from the ledger: the signed payment notify and the refund
// notify whose req_info is encrypted with the merchant's key (the sandbox key for what was placed
// through /sandboxnew). Each comes with a forged twin for the bad_signature_notify fault.
import { buildXml, encryptReqInfo, sign } from '@wxpay/sdk';
import type { Order } from './ledger/orders.js';
import type { Refund } from './ledger/refunds.js';
import type { Merchant } from './merchants.js';
import { signingKey } from './sandboxnew.js';
import { compactTime, dateTime } from './time.js';

/** The payment fields every paid order reports (orderquery, micropay, payment notify). */
export function paidFields(order: Order): Record<string, string> {
  const fields: Record<string, string> = {
    openid: order.openid ?? '',
    is_subscribe: 'N',
    trade_type: order.tradeType,
    bank_type: 'OTHERS',
    total_fee: String(order.totalFee),
    fee_type: order.feeType,
    cash_fee: String(order.totalFee),
    cash_fee_type: order.feeType,
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    time_end: order.paidAt === undefined ? '' : compactTime(order.paidAt),
  };
  if (order.attach) fields.attach = order.attach;
  if (order.deviceInfo) fields.device_info = order.deviceInfo;
  return fields;
}

/** A forged signature (or key): the same length, its first character changed, so it never verifies. */
function forge(signature: string): string {
  const first = signature[0] === 'A' ? 'B' : 'A';
  return first + signature.slice(1);
}

export function paymentNotify(
  order: Order,
  merchant: Merchant,
  nonce: string,
): { body: string; forgedBody: string } {
  const fields: Record<string, string> = {
    return_code: 'SUCCESS',
    appid: order.appid,
    mch_id: order.mchId,
    nonce_str: nonce,
    result_code: 'SUCCESS',
    ...paidFields(order),
  };
  // Notifies carry no sign_type, but are signed the way (and with the key) the order was placed.
  const signature = sign(fields, signingKey(merchant, order.keyRealm), order.signType);
  return {
    body: buildXml({ ...fields, sign: signature }),
    forgedBody: buildXml({ ...fields, sign: forge(signature) }),
  };
}

export function refundNotify(
  refund: Refund,
  order: Order,
  merchant: Merchant,
  nonce: string,
): { body: string; forgedBody: string } {
  const info = {
    transaction_id: refund.transactionId,
    out_trade_no: refund.outTradeNo,
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    total_fee: String(order.totalFee),
    settlement_total_fee: String(order.totalFee),
    refund_fee: String(refund.refundFee),
    settlement_refund_fee: String(refund.refundFee),
    refund_status: refund.status,
    success_time: refund.successAt === undefined ? '' : dateTime(refund.successAt),
    refund_recv_accout: '支付用户的零钱',
    refund_account: refund.refundAccount,
    refund_request_source: 'API',
  };
  const outer = (reqInfo: string) =>
    buildXml({
      return_code: 'SUCCESS',
      appid: order.appid,
      mch_id: order.mchId,
      nonce_str: nonce,
      req_info: reqInfo,
    });
  // The forged twin is encrypted with another key, so it cannot be decrypted.
  const key = signingKey(merchant, refund.keyRealm);
  return {
    body: outer(encryptReqInfo(info, key)),
    forgedBody: outer(encryptReqInfo(info, forge(key))),
  };
}
