// The payout tables (red packets, transfers, coupons) as Kysely types; merged into `Database` in schema.ts.
import type { Selectable } from 'kysely';

export interface PayoutsTable {
  /** rp_… (red packet), tr_… (transfer) or cpn_… (coupon). */
  id: string;
  account_id: string;
  livemode: number;
  /** redpack | transfer | coupon */
  kind: string;
  /** normal | fission for red packets; null otherwise. */
  subtype: string | null;
  /** api (/v1) | baas (/baas). */
  source: string;
  /** mch_billno or partner_trade_no: stored before WeChat is called and reused on every resend. */
  wechat_no: string;
  status: string;
  /** Fen; null for coupons. */
  amount: number | null;
  openid: string;
  /** JSON: the exact fields sent to WeChat (without nonce and sign), so a resend is identical. */
  request: string;
  /** JSON: WeChat's send reply, once there is one. */
  result: string | null;
  /** send_listid, payment_no or coupon_id. */
  wechat_id: string | null;
  /** JSON: the latest gethbinfo / gettransferinfo reply. */
  detail: string | null;
  /** JSON: gethbinfo's receivers [{openid, amount, rcv_time}]. */
  hblist: string | null;
  failure_code: string | null;
  failure_message: string | null;
  /** JSON array of numbers given up after WeChat said definitively that they did not pay. */
  superseded_numbers: string;
  /** The latest raw WeChat reply. */
  raw_result: string | null;
  attempts: number;
  /** When the recovery / status-sync job should look at the record next; null once final. */
  next_attempt_at: number | null;
  created: number;
  updated: number;
}

/** Every WeChat reply a payout got, in order (send, resend, query). */
export interface PayoutRepliesTable {
  id: string;
  payout_id: string;
  /** send | query */
  kind: string;
  body: string;
  created: number;
}

export interface PayoutTables {
  payouts: PayoutsTable;
  payout_replies: PayoutRepliesTable;
}

export type PayoutRow = Selectable<PayoutsTable>;
