// 企业付款: promotion/transfers (mch_appid + mchid) and gettransferinfo.
import { settleTransfer, TRANSFER_SETTLE_SECONDS, type Transfer } from '../ledger/payouts.js';
import { dateKey, dateTime } from '../time.js';
import { fingerprint, IP, MERCHANT_NO } from '../validate.js';
import { NONCE, PAYOUT_ROW } from './common.js';
import { type Answer, type CallContext, type EndpointDef, refused, type Services } from './types.js';

/** Every sandbox payer's verified real name, for check_name=FORCE_CHECK. */
export const SANDBOX_REAL_NAME = '测试用户';
const MIN_AMOUNT = 30;
const MAX_AMOUNT = 2_000_000;
/** How many transfers one user may receive from one merchant per day. */
const DAILY_TRANSFERS_PER_USER = 10;

function transferReply(t: Transfer, ctx: CallContext): Answer {
  return {
    kind: 'ok',
    fields: {
      device_info: ctx.fields.device_info,
      partner_trade_no: t.partnerTradeNo,
      payment_no: t.paymentNo,
      payment_time: dateTime(t.createdAt),
    },
  };
}

export const transfers: EndpointDef = {
  ...PAYOUT_ROW,
  appidField: 'mch_appid',
  mchIdField: 'mchid',
  name: 'transfers',
  path: '/mmpaymkttransfers/promotion/transfers',
  rules: [
    { name: 'mch_appid', required: true, max: 32 },
    { name: 'mchid', required: true, max: 32 },
    { name: 'device_info', max: 32 },
    NONCE,
    { name: 'partner_trade_no', required: true, max: 32, pattern: MERCHANT_NO },
    { name: 'openid', required: true, max: 64 },
    { name: 'check_name', required: true, oneOf: ['NO_CHECK', 'FORCE_CHECK'] },
    { name: 're_user_name', max: 64 },
    { name: 'amount', required: true, int: { min: 1 } },
    { name: 'desc', required: true, max: 100 },
    { name: 'spbill_create_ip', max: 32, pattern: IP },
  ],
  handle(ctx) {
    const { fields, ledger, now } = ctx;
    const mchId = ctx.merchant.mchId;
    const print = fingerprint(fields);
    const existing = ledger.transfer(mchId, fields.partner_trade_no!);
    if (existing) {
      // Re-entrant: the same partner_trade_no reports the first result and never pays again.
      if (existing.fingerprint !== print)
        return refused('PARAM_ERROR', '商户订单号重复，且参数与原请求不一致');
      return transferReply(existing, ctx);
    }
    if (fields.check_name === 'FORCE_CHECK' && !fields.re_user_name) {
      return refused('PARAM_ERROR', 'check_name为FORCE_CHECK时，re_user_name必填');
    }
    const amount = Number(fields.amount);
    if (amount < MIN_AMOUNT || amount > MAX_AMOUNT) return refused('AMOUNT_LIMIT', '付款金额超出限制');
    if (fields.check_name === 'FORCE_CHECK' && fields.re_user_name !== SANDBOX_REAL_NAME) {
      return refused('NAME_MISMATCH', '真实姓名不一致');
    }
    const today = dateKey(now);
    const sentToday = [...ledger.transfers.values()].filter(
      (t) => t.mchId === mchId && t.openid === fields.openid && dateKey(t.createdAt) === today,
    ).length;
    if (sentToday >= DAILY_TRANSFERS_PER_USER) return refused('SENDNUM_LIMIT', '该用户今日付款次数超过限制');
    if (ledger.balance(mchId) < amount) return refused('NOTENOUGH', '余额不足');
    const transfer = ledger.saveTransfer({
      mchId,
      appid: fields.mch_appid!,
      partnerTradeNo: fields.partner_trade_no!,
      paymentNo: ledger.newId('payment', now),
      openid: fields.openid!,
      amount,
      desc: fields.desc!,
      checkName: fields.check_name!,
      reUserName: fields.re_user_name || undefined,
      status: 'PROCESSING',
      reason: undefined,
      createdAt: now,
      paidAt: undefined,
      fingerprint: print,
    });
    ledger.move(mchId, 'transfer', -amount, transfer.partnerTradeNo, transfer.paymentNo, now);
    scheduleTransferSettlement(ctx, transfer);
    return transferReply(transfer, ctx);
  },
};

/** TRANSFER_SETTLE_SECONDS after it was made, a PROCESSING transfer succeeds, or fails and the money returns. */
export function scheduleTransferSettlement(services: Services, transfer: Transfer): void {
  const { ledger, clock } = services;
  clock.at(transfer.createdAt + TRANSFER_SETTLE_SECONDS * 1000, () => {
    const current = ledger.transfer(transfer.mchId, transfer.partnerTradeNo);
    if (current?.status !== 'PROCESSING') return;
    const settled = ledger.saveTransfer(settleTransfer(current, clock.now()));
    if (settled.status === 'FAILED') {
      ledger.move(
        settled.mchId,
        'transfer_return',
        settled.amount,
        settled.partnerTradeNo,
        settled.paymentNo,
        clock.now(),
      );
    }
  });
}

export const getTransferInfo: EndpointDef = {
  ...PAYOUT_ROW,
  name: 'gettransferinfo',
  path: '/mmpaymkttransfers/gettransferinfo',
  rules: [
    { name: 'appid', required: true, max: 32 },
    { name: 'mch_id', required: true, max: 32 },
    NONCE,
    { name: 'partner_trade_no', required: true, max: 32, pattern: MERCHANT_NO },
  ],
  handle(ctx) {
    const t = ctx.ledger.transfer(ctx.merchant.mchId, ctx.fields.partner_trade_no!);
    if (!t) return refused('NOT_FOUND', '指定单号数据不存在');
    return {
      kind: 'ok',
      fields: {
        partner_trade_no: t.partnerTradeNo,
        detail_id: t.paymentNo,
        status: t.status,
        reason: t.reason,
        openid: t.openid,
        transfer_name: t.reUserName,
        payment_amount: t.amount,
        transfer_time: dateTime(t.createdAt),
        payment_time: t.paidAt === undefined ? undefined : dateTime(t.paidAt),
        desc: t.desc,
      },
    };
  },
};
