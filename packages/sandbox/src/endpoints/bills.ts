// downloadbill and downloadfundflow: CSV on success (gzip on request), XML errors otherwise.
import { fundFlowBill, type TradeBillType, tradeBill } from '../bill.js';
import { dateKey, parseCompactTime } from '../time.js';
import { DATE } from '../validate.js';
import { NONCE, PAY_ROW, SIGN_TYPE } from './common.js';
import type { Answer, CallContext, EndpointDef } from './types.js';

/** A day's trade bill is ready at 10:00 (Beijing time) the next day: 34 h after the day began. */
const TRADE_BILL_READY_MS = (24 + 10) * 60 * 60 * 1000;

/**
 * WeChat serves a day's bill only once the day is over, and, when `readyMs` is given, only `readyMs` after the
 * day began; until then it is still being made.
 */
function dayProblem(ctx: CallContext, readyMs?: number): Answer | undefined {
  const billDate = ctx.fields.bill_date!;
  if (billDate >= dateKey(ctx.now)) return { kind: 'fail', msg: 'invalid bill_date' };
  const dayStart = parseCompactTime(`${billDate}000000`);
  if (readyMs !== undefined && dayStart !== undefined && ctx.now < dayStart + readyMs)
    return { kind: 'fail', msg: 'Bill Creating' };
  return undefined;
}

function csv(ctx: CallContext, text: string | undefined): Answer {
  if (text === undefined) return { kind: 'fail', msg: 'No Bill Exist' };
  return { kind: 'csv', text, gzip: ctx.fields.tar_type === 'GZIP' };
}

const BILL_RULES = [
  { name: 'appid', required: true, max: 32 },
  { name: 'mch_id', required: true, max: 32 },
  NONCE,
  SIGN_TYPE,
  { name: 'bill_date', required: true, pattern: DATE },
  { name: 'tar_type', oneOf: ['GZIP'] },
] as const;

export const downloadBill: EndpointDef = {
  ...PAY_ROW,
  reply: 'csv',
  name: 'downloadbill',
  path: '/pay/downloadbill',
  rules: [...BILL_RULES, { name: 'bill_type', oneOf: ['ALL', 'SUCCESS', 'REFUND', 'RECHARGE_REFUND'] }],
  handle(ctx) {
    const early = dayProblem(ctx, TRADE_BILL_READY_MS);
    if (early) return early;
    const mchId = ctx.merchant.mchId;
    const orders = [...ctx.ledger.orders.values()].filter((o) => o.mchId === mchId);
    const refunds = [...ctx.ledger.refunds.values()].filter((r) => r.mchId === mchId);
    const type = (ctx.fields.bill_type || 'ALL') as TradeBillType;
    return csv(ctx, tradeBill(ctx.fields.bill_date!, type, orders, refunds));
  },
};

export const downloadFundFlow: EndpointDef = {
  ...PAY_ROW,
  reply: 'csv',
  cert: true,
  signTypes: 'HMAC-SHA256',
  name: 'downloadfundflow',
  path: '/pay/downloadfundflow',
  rules: [
    ...BILL_RULES,
    { name: 'sign_type', required: true, oneOf: ['HMAC-SHA256'] },
    { name: 'account_type', required: true, oneOf: ['Basic', 'Operation', 'Fees'] },
  ],
  handle(ctx) {
    const early = dayProblem(ctx);
    if (early) return early;
    // Every sandbox movement goes through the basic account; the others are always empty.
    if (ctx.fields.account_type !== 'Basic') return { kind: 'fail', msg: 'No Bill Exist' };
    return csv(ctx, fundFlowBill(ctx.fields.bill_date!, ctx.ledger.movementsOf(ctx.merchant.mchId)));
  },
};
