// downloadbill and downloadfundflow: CSV on success (gzip on request), XML errors otherwise.
import { fundFlowBill, type TradeBillType, tradeBill } from '../bill.js';
import { dateKey } from '../time.js';
import { DATE } from '../validate.js';
import { NONCE, PAY_ROW, SIGN_TYPE } from './common.js';
import type { Answer, CallContext, EndpointDef } from './types.js';

/** WeChat serves a day's bill only once the day is over. */
function dayProblem(ctx: CallContext): Answer | undefined {
  if (ctx.fields.bill_date! >= dateKey(ctx.now)) return { kind: 'fail', msg: 'invalid bill_date' };
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
    const early = dayProblem(ctx);
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
