// Refunds: refund (partial, several, idempotent by out_refund_no) and refundquery (numbered fields).
import { checkRefund, type Order } from '../ledger/orders.js';
import type { Refund } from '../ledger/refunds.js';
import { scheduleRefundSuccess } from '../payments.js';
import { dateTime } from '../time.js';
import { MERCHANT_NO, URL_RULE } from '../validate.js';
import { ORDER_REF_RULES, PAY_ROW } from './common.js';
import { type Answer, type CallContext, type EndpointDef, type ReplyFields, refused } from './types.js';

/** refundquery pages its refunds ten at a time when an offset is given. */
const PAGE_SIZE = 10;

function refundReply(refund: Refund, order: Order): Answer {
  return {
    kind: 'ok',
    fields: {
      transaction_id: order.transactionId,
      out_trade_no: order.outTradeNo,
      out_refund_no: refund.outRefundNo,
      refund_id: refund.refundId,
      refund_channel: '',
      refund_fee: refund.refundFee,
      settlement_refund_fee: refund.refundFee,
      total_fee: order.totalFee,
      settlement_total_fee: order.totalFee,
      fee_type: order.feeType,
      cash_fee: order.totalFee,
      cash_refund_fee: refund.refundFee,
    },
  };
}

function findOrder(ctx: CallContext): Order | undefined {
  return ctx.ledger.findOrder(ctx.merchant.mchId, {
    transactionId: ctx.fields.transaction_id || undefined,
    outTradeNo: ctx.fields.out_trade_no || undefined,
  });
}

export const refund: EndpointDef = {
  ...PAY_ROW,
  cert: true,
  name: 'refund',
  path: '/secapi/pay/refund',
  rules: [
    ...ORDER_REF_RULES,
    { name: 'out_refund_no', required: true, max: 64, pattern: MERCHANT_NO },
    { name: 'total_fee', required: true, int: { min: 1 } },
    { name: 'refund_fee', required: true, int: { min: 1 } },
    { name: 'refund_fee_type', oneOf: ['CNY'] },
    { name: 'refund_desc', max: 80 },
    { name: 'refund_account', oneOf: ['REFUND_SOURCE_UNSETTLED_FUNDS', 'REFUND_SOURCE_RECHARGE_FUNDS'] },
    { name: 'notify_url', max: 256, pattern: URL_RULE },
  ],
  handle(ctx) {
    const { fields, ledger, now } = ctx;
    if (!fields.transaction_id && !fields.out_trade_no) return { kind: 'fail', msg: '缺少参数out_trade_no' };
    const order = findOrder(ctx);
    if (!order) return refused('ORDERNOTEXIST', '订单不存在');
    const totalFee = Number(fields.total_fee);
    const refundFee = Number(fields.refund_fee);
    // A resend is the same refund when it names the same order and the same amounts; WeChat's refusal speaks of
    // the amounts only, so a changed refund_desc or notify_url on a retry is still the same refund.
    const print = `${order.outTradeNo}|${totalFee}|${refundFee}|${fields.refund_fee_type || 'CNY'}`;
    const existing = ledger.refund(order.mchId, fields.out_refund_no!);
    if (existing) {
      if (existing.outTradeNo !== order.outTradeNo || existing.fingerprint !== print) {
        return refused('INVALID_REQUEST', '订单金额或退款金额与之前请求不一致，请核实后再试');
      }
      return refundReply(existing, order);
    }
    const next = checkRefund(order, totalFee, refundFee, now);
    if (!next.ok) return refused(next.error.code, next.error.des);
    if (ledger.balance(order.mchId) < refundFee)
      return refused('NOTENOUGH', '基本账户余额不足，请充值后重新发起');
    const created = ledger.saveRefund({
      mchId: order.mchId,
      outTradeNo: order.outTradeNo,
      transactionId: order.transactionId,
      outRefundNo: fields.out_refund_no!,
      refundId: ledger.newId('refund', now),
      refundFee,
      totalFee,
      status: 'PROCESSING',
      createdAt: now,
      successAt: undefined,
      notifyUrl: fields.notify_url || undefined,
      refundAccount: fields.refund_account || 'REFUND_SOURCE_UNSETTLED_FUNDS',
      keyRealm: ctx.keyRealm,
      fingerprint: print,
    });
    ledger.saveOrder(next.value);
    ledger.move(order.mchId, 'refund', -refundFee, created.outRefundNo, created.refundId, now);
    scheduleRefundSuccess(ctx, created);
    return refundReply(created, next.value);
  },
};

export const refundQuery: EndpointDef = {
  ...PAY_ROW,
  name: 'refundquery',
  path: '/pay/refundquery',
  rules: [
    ...ORDER_REF_RULES,
    { name: 'out_refund_no', max: 64, pattern: MERCHANT_NO },
    { name: 'refund_id', max: 32, pattern: /^\d+$/ },
    { name: 'offset', int: { min: 0 } },
  ],
  handle(ctx) {
    const { fields, ledger } = ctx;
    const mchId = ctx.merchant.mchId;
    let refunds: Refund[];
    let order: Order | undefined;
    if (fields.out_refund_no || fields.refund_id) {
      const one = fields.out_refund_no
        ? ledger.refund(mchId, fields.out_refund_no)
        : [...ledger.refunds.values()].find((r) => r.mchId === mchId && r.refundId === fields.refund_id);
      refunds = one ? [one] : [];
      order = one ? ledger.order(mchId, one.outTradeNo) : undefined;
    } else if (fields.transaction_id || fields.out_trade_no) {
      order = findOrder(ctx);
      refunds = order ? ledger.refundsOf(order) : [];
    } else {
      return { kind: 'fail', msg: '缺少参数out_refund_no' };
    }
    if (!order || refunds.length === 0) return refused('REFUNDNOTEXIST', '退款订单查询失败');
    const offset = fields.offset === undefined ? undefined : Number(fields.offset);
    const page = offset === undefined ? refunds : refunds.slice(offset, offset + PAGE_SIZE);
    if (page.length === 0) return refused('REFUNDNOTEXIST', '退款订单查询失败');
    const out: ReplyFields = {
      transaction_id: order.transactionId,
      out_trade_no: order.outTradeNo,
      total_fee: order.totalFee,
      settlement_total_fee: order.totalFee,
      fee_type: order.feeType,
      cash_fee: order.totalFee,
      refund_count: page.length,
    };
    if (offset !== undefined) out.total_refund_count = refunds.length;
    page.forEach((r, n) => {
      out[`out_refund_no_${n}`] = r.outRefundNo;
      out[`refund_id_${n}`] = r.refundId;
      out[`refund_channel_${n}`] = 'ORIGINAL';
      out[`refund_fee_${n}`] = r.refundFee;
      out[`settlement_refund_fee_${n}`] = r.refundFee;
      out[`refund_status_${n}`] = r.status;
      out[`refund_account_${n}`] = r.refundAccount;
      out[`refund_recv_accout_${n}`] = '支付用户的零钱';
      if (r.successAt !== undefined) out[`refund_success_time_${n}`] = dateTime(r.successAt);
    });
    return { kind: 'ok', fields: out };
  },
};
