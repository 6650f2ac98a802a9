// Trade and fund-flow bills: WeChat's CSV (every value prefixed with a backtick) read line by line
// from the reply stream, so a large bill never has to sit in memory.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { yuanToFen } from './money.js';

/** Column headers of the trade bill (对账单), mapped to WeChat's API field names. */
const TRADE_COLUMNS: Record<string, string> = {
  交易时间: 'trade_time',
  公众账号ID: 'appid',
  商户号: 'mch_id',
  特约商户号: 'sub_mch_id',
  子商户号: 'sub_mch_id',
  设备号: 'device_info',
  微信订单号: 'transaction_id',
  商户订单号: 'out_trade_no',
  用户标识: 'openid',
  交易类型: 'trade_type',
  交易状态: 'trade_state',
  付款银行: 'bank_type',
  货币种类: 'fee_type',
  应结订单总金额: 'settlement_total_fee',
  代金券金额: 'coupon_fee',
  代金券或立减优惠金额: 'coupon_fee',
  微信退款单号: 'refund_id',
  商户退款单号: 'out_refund_no',
  退款金额: 'refund_fee',
  充值券退款金额: 'coupon_refund_fee',
  代金券或立减优惠退款金额: 'coupon_refund_fee',
  退款类型: 'refund_channel',
  退款状态: 'refund_status',
  商品名称: 'body',
  商户数据包: 'attach',
  手续费: 'service_charge',
  费率: 'rate',
  订单金额: 'total_fee',
  申请退款金额: 'apply_refund_fee',
  费率备注: 'rate_remark',
  退款申请时间: 'refund_time',
  退款成功时间: 'refund_success_time',
};

const TRADE_SUMMARY_COLUMNS: Record<string, string> = {
  总交易单数: 'total_count',
  应结订单总金额: 'settlement_total_fee',
  总退款金额: 'refund_fee',
  退款总金额: 'refund_fee',
  充值券退款总金额: 'coupon_refund_fee',
  企业红包退款金额: 'coupon_refund_fee',
  手续费总金额: 'service_charge',
  订单总金额: 'total_fee',
  申请退款总金额: 'apply_refund_fee',
};

const FUND_COLUMNS: Record<string, string> = {
  记账时间: 'booking_time',
  微信支付业务单号: 'biz_transaction_id',
  资金流水单号: 'fund_flow_id',
  业务名称: 'biz_name',
  业务类型: 'biz_type',
  收支类型: 'financial_type',
  '收支金额（元）': 'amount',
  '账户结余（元）': 'balance',
  资金变更提交申请人: 'applicant',
  备注: 'memo',
  业务凭证号: 'voucher_no',
};

const FUND_SUMMARY_COLUMNS: Record<string, string> = {
  资金流水总笔数: 'total_count',
  收入笔数: 'income_count',
  收入金额: 'income_amount',
  支出笔数: 'expense_count',
  支出金额: 'expense_amount',
};

/** Columns that hold yuan amounts; they come back as integer fen. */
const AMOUNT_FIELDS = new Set([
  'settlement_total_fee',
  'coupon_fee',
  'refund_fee',
  'coupon_refund_fee',
  'service_charge',
  'total_fee',
  'apply_refund_fee',
  'amount',
  'balance',
  'income_amount',
  'expense_amount',
]);
const COUNT_FIELDS = new Set(['total_count', 'income_count', 'expense_count']);

/** A row of the trade bill. Amounts are integer fen. Columns WeChat adds keep their Chinese header. */
export interface TradeBillRow {
  trade_time: string;
  appid: string;
  mch_id: string;
  sub_mch_id?: string;
  device_info?: string;
  transaction_id: string;
  out_trade_no: string;
  openid?: string;
  trade_type?: string;
  trade_state: string;
  bank_type?: string;
  fee_type?: string;
  settlement_total_fee?: number;
  coupon_fee?: number;
  refund_id?: string;
  out_refund_no?: string;
  refund_fee?: number;
  coupon_refund_fee?: number;
  refund_channel?: string;
  refund_status?: string;
  body?: string;
  attach?: string;
  service_charge?: number;
  rate?: string;
  total_fee?: number;
  apply_refund_fee?: number;
  rate_remark?: string;
  [column: string]: string | number | undefined;
}

export interface TradeBillSummary {
  total_count: number;
  settlement_total_fee?: number;
  refund_fee?: number;
  coupon_refund_fee?: number;
  service_charge?: number;
  total_fee?: number;
  apply_refund_fee?: number;
  [column: string]: string | number | undefined;
}

export interface FundFlowRow {
  booking_time: string;
  biz_transaction_id: string;
  fund_flow_id: string;
  biz_name: string;
  biz_type: string;
  financial_type: string;
  amount: number;
  balance: number;
  applicant?: string;
  memo?: string;
  voucher_no?: string;
  [column: string]: string | number | undefined;
}

export interface FundFlowSummary {
  total_count: number;
  income_count: number;
  income_amount: number;
  expense_count: number;
  expense_amount: number;
  [column: string]: string | number | undefined;
}

export type BillKind = 'trade' | 'fundflow';

/**
 * Splits one bill line into its values. Data lines prefix every value with a backtick, so they are
 * split on ",`", which keeps a comma inside a product name intact; header lines have no backticks.
 */
export function splitBillLine(line: string): string[] {
  return line.startsWith('`') ? line.slice(1).split(',`') : line.split(',');
}

function toRecord(headers: readonly string[], values: readonly string[], names: Record<string, string>) {
  const out: Record<string, string | number> = {};
  headers.forEach((header, index) => {
    const name = names[header] ?? header;
    const value = values[index] ?? '';
    if (AMOUNT_FIELDS.has(name) && value !== '') out[name] = yuanToFen(value);
    else if (COUNT_FIELDS.has(name) && value !== '') out[name] = Number.parseInt(value, 10);
    else out[name] = value;
  });
  return out;
}

/**
 * A bill being read from WeChat. Iterate it for the rows; `summary` is set once the iteration has
 * reached the end. `collect()` reads everything at once, for small bills.
 */
export class Bill<Row, Summary> implements AsyncIterable<Row> {
  /** The header line's column names, as WeChat wrote them. */
  headers: string[] = [];
  /** The totals line, available after the rows have been read. */
  summary: Summary | undefined;
  readonly #lines: AsyncIterator<string>;
  readonly #kind: BillKind;
  #consumed = false;

  constructor(stream: Readable, kind: BillKind) {
    this.#lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })[
      Symbol.asyncIterator
    ]();
    this.#kind = kind;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Row> {
    if (this.#consumed) throw new Error('a Bill can be read only once');
    this.#consumed = true;
    const [rowNames, summaryNames] =
      this.#kind === 'trade' ? [TRADE_COLUMNS, TRADE_SUMMARY_COLUMNS] : [FUND_COLUMNS, FUND_SUMMARY_COLUMNS];
    let summaryHeaders: string[] | undefined;
    for (;;) {
      const next = await this.#lines.next();
      if (next.done) break;
      const line = next.value.replace(/^\uFEFF/, '');
      if (line.trim() === '') continue;
      if (this.headers.length === 0) {
        this.headers = splitBillLine(line);
      } else if (summaryHeaders) {
        this.summary = toRecord(summaryHeaders, splitBillLine(line), summaryNames) as Summary;
      } else if (line.startsWith('`')) {
        yield toRecord(this.headers, splitBillLine(line), rowNames) as Row;
      } else {
        summaryHeaders = splitBillLine(line);
      }
    }
  }

  /** Reads the whole bill into memory. */
  async collect(): Promise<{ headers: string[]; rows: Row[]; summary: Summary | undefined }> {
    const rows: Row[] = [];
    for await (const row of this) rows.push(row);
    return { headers: this.headers, rows, summary: this.summary };
  }
}

export type TradeBill = Bill<TradeBillRow, TradeBillSummary>;
export type FundFlowBill = Bill<FundFlowRow, FundFlowSummary>;
