// WeChat's bill CSV, built from the ledger: a header line, one line per record with every value
// prefixed by a backtick, then a totals header and a totals line. Pure.
import { fenToYuan } from '@wxpay/sdk';
import type { Movement, MovementKind } from './ledger/ledger.js';
import type { Order } from './ledger/orders.js';
import type { Refund } from './ledger/refunds.js';
import { dateKey, dateTime } from './time.js';

export type TradeBillType = 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND';

/** The fee WeChat takes from each payment, and gives back pro rata on refunds: 0.6%. */
const RATE = 0.006;
const RATE_TEXT = '0.60%';

const HEAD =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单总金额,代金券金额';
const TAIL = '商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const HEADERS: Record<TradeBillType, string> = {
  ALL: `${HEAD},微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,${TAIL}`,
  SUCCESS: `${HEAD},商品名称,商户数据包,手续费,费率,订单金额,费率备注`,
  REFUND: `${HEAD},退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,${TAIL}`,
  RECHARGE_REFUND: `${HEAD},退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,${TAIL}`,
};
const TRADE_SUMMARY =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

const line = (values: readonly (string | number)[]) => values.map((v) => `\`${v}`).join(',');
const yuan = (fen: number) => fenToYuan(fen);
const fee = (fen: number) => Math.round(fen * RATE);

/** The trade bill of one day (yyyyMMdd, Beijing time), or undefined when the day has no records. */
export function tradeBill(
  day: string,
  type: TradeBillType,
  orders: readonly Order[],
  refunds: readonly Refund[],
): string | undefined {
  const paid = orders.filter((o) => o.paidAt !== undefined && dateKey(o.paidAt) === day);
  const refunded = refunds.filter(
    (r) =>
      dateKey(r.createdAt) === day &&
      (type !== 'RECHARGE_REFUND' || r.refundAccount === 'REFUND_SOURCE_RECHARGE_FUNDS'),
  );
  const byTrade = new Map(orders.map((o) => [`${o.mchId}|${o.outTradeNo}`, o]));
  const rows: string[] = [];
  let settlement = 0;
  let refundTotal = 0;
  let charges = 0;
  let orderTotal = 0;
  const common = (o: Order, at: number, state: string, settle: number) => [
    dateTime(at),
    o.appid,
    o.mchId,
    '0',
    o.deviceInfo ?? '',
    o.transactionId,
    o.outTradeNo,
    o.openid ?? '',
    o.tradeType,
    state,
    'OTHERS',
    o.feeType,
    yuan(settle),
    '0.00',
  ];
  if (type === 'ALL' || type === 'SUCCESS') {
    for (const o of paid) {
      const charge = fee(o.totalFee);
      settlement += o.totalFee;
      charges += charge;
      orderTotal += o.totalFee;
      const tail = [o.body, o.attach ?? '', yuan(charge), RATE_TEXT, yuan(o.totalFee)];
      rows.push(
        type === 'ALL'
          ? line([
              ...common(o, o.paidAt!, 'SUCCESS', o.totalFee),
              '0',
              '',
              '0.00',
              '0.00',
              '',
              '',
              ...tail,
              '0.00',
              '',
            ])
          : line([...common(o, o.paidAt!, 'SUCCESS', o.totalFee), ...tail, '']),
      );
    }
  }
  if (type !== 'SUCCESS') {
    for (const r of refunded) {
      const o = byTrade.get(`${r.mchId}|${r.outTradeNo}`);
      if (!o) continue;
      const charge = -fee(r.refundFee);
      refundTotal += r.refundFee;
      charges += charge;
      const refundCols = [r.refundId, r.outRefundNo, yuan(r.refundFee), '0.00', 'ORIGINAL', r.status];
      const tail = [o.body, o.attach ?? '', yuan(charge), RATE_TEXT, yuan(o.totalFee), yuan(r.refundFee), ''];
      const times = [dateTime(r.createdAt), r.successAt === undefined ? '' : dateTime(r.successAt)];
      rows.push(
        type === 'ALL'
          ? line([...common(o, r.createdAt, 'REFUND', 0), ...refundCols, ...tail])
          : line([...common(o, r.createdAt, 'REFUND', 0), ...times, ...refundCols, ...tail]),
      );
    }
  }
  if (rows.length === 0) return undefined;
  const summary = line([
    rows.length,
    yuan(settlement),
    yuan(refundTotal),
    '0.00',
    yuan(charges),
    yuan(orderTotal),
    yuan(refundTotal),
  ]);
  return `${HEADERS[type]}\r\n${rows.join('\r\n')}\r\n${TRADE_SUMMARY}\r\n${summary}\r\n`;
}

const FUND_HEADER =
  '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号';
const FUND_SUMMARY = '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额';
const BIZ_NAMES: Record<MovementKind, [string, string]> = {
  payment: ['交易', '交易'],
  refund: ['退款', '退款'],
  reverse: ['交易', '撤销'],
  transfer: ['企业付款', '企业付款'],
  transfer_return: ['企业付款', '企业付款退款'],
  redpack: ['现金红包', '现金红包发放'],
  redpack_refund: ['现金红包', '现金红包退款'],
  bank: ['企业付款到银行卡', '企业付款到银行卡'],
  bank_return: ['企业付款到银行卡', '企业付款到银行卡退票'],
  adjustment: ['充值/提现', '充值'],
};

/** The fund-flow bill of one day from the balance movements, or undefined when there were none. */
export function fundFlowBill(day: string, movements: readonly Movement[]): string | undefined {
  const rows = movements.filter((m) => dateKey(m.at) === day && m.amount !== 0);
  if (rows.length === 0) return undefined;
  let income = 0;
  let incomeCount = 0;
  let expense = 0;
  for (const m of rows) {
    if (m.amount > 0) {
      income += m.amount;
      incomeCount++;
    } else expense -= m.amount;
  }
  const lines = rows.map((m) => {
    const [name, type] = BIZ_NAMES[m.kind];
    return line([
      dateTime(m.at),
      m.bizNo,
      m.id,
      name,
      type,
      m.amount > 0 ? '收入' : '支出',
      yuan(Math.abs(m.amount)),
      yuan(m.balance),
      'system',
      '',
      m.ref,
    ]);
  });
  const summary = line([rows.length, incomeCount, yuan(income), rows.length - incomeCount, yuan(expense)]);
  return `${FUND_HEADER}\r\n${lines.join('\r\n')}\r\n${FUND_SUMMARY}\r\n${summary}\r\n`;
}
