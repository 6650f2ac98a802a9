// The Thinkjs-compatible tables as Kysely types: compat_deals and the read-only `deal` view; merged into `Database`.
import type { Selectable } from 'kysely';

/** What a `/wxPay/toPay` order carries beyond its PaymentIntent: the old service's merchant and product ids. */
export interface CompatDealsTable {
  intent_id: string;
  account_id: string;
  /** The old service's order_id: the intent's out_trade_no. */
  order_id: string;
  merchant_id: number;
  product_id: number;
  created: number;
}

/** The view `deal`, with the old service's column names, over payment_intents, compat_deals and wechat_payloads. */
export interface DealView {
  order_id: string;
  product_id: number;
  merchant_id: number;
  transaction_id: string | null;
  /** Yuan, as the old `double` column. */
  price: number;
  price_last: number;
  /** 0 unpaid, 1 paid, 2 expired (closed, canceled or reversed). */
  status: number;
  /** 0 WeChat. */
  mode: number;
  prepayBack: string | null;
  payBack: string | null;
  queryBack: string | null;
  /** SQLite: 'YYYY-MM-DD HH:MM:SS' text in UTC; PostgreSQL: timestamptz. */
  create_at: string | Date;
  update_at: string | Date;
}

export interface CompatTables {
  compat_deals: CompatDealsTable;
  deal: DealView;
}

export type CompatDealRow = Selectable<CompatDealsTable>;
