// The database's tables as Kysely types. Times are epoch milliseconds; JSON is stored as text; booleans as 0/1.
import type { Generated, Insertable, Kysely, Selectable } from 'kysely';
import type { CheckoutTables } from './schema-checkout.js';
import type { CompatTables } from './schema-compat.js';
import type { PayoutTables } from './schema-payouts.js';
import type { RefundsWebhooksTables } from './schema-refunds-webhooks.js';

export interface AccountsTable {
  id: string;
  name: string;
  appid: string;
  mch_id: string;
  /** The merchant's APIv2 key. Never logged nor returned by the API. */
  mch_key: string;
  sign_type: string;
  /** The client certificate (p12) in base64, if any. */
  cert_p12: string | null;
  cert_passphrase: string | null;
  created: number;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  /** sha256 of the whole key; the key itself is never stored. */
  key_hash: string;
  /** sk_test_…abcd, for display. */
  redacted: string;
  livemode: number;
  created: number;
  /** When the key was revoked (epoch ms); null while it works. */
  revoked: number | null;
}

export interface PaymentIntentsTable {
  id: string;
  account_id: string;
  livemode: number;
  amount: number;
  currency: string;
  status: string;
  /** Chosen and stored before WeChat is called, and reused on every retry. */
  out_trade_no: string;
  terminal_type: string | null;
  trade_type: string | null;
  description: string | null;
  metadata: string;
  return_url: string | null;
  client_ip: string | null;
  os_type: string | null;
  openid: string | null;
  next_action: string | null;
  payment_failed: string | null;
  client_result: string | null;
  cancellation_reason: string | null;
  wechat_prepay_id: string | null;
  wechat_transaction_id: string | null;
  /** When the order was placed at WeChat (null: not yet). closeorder is refused for 5 minutes after. */
  ordered_at: number | null;
  /** A cancel that must wait for the 5-minute rule closes at this time. */
  close_at: number | null;
  next_query_at: number | null;
  query_count: number;
  expires_at: number;
  created: number;
  updated: number;
  /** Sum of pending and succeeded refunds; only ever changed by a conditional UPDATE. */
  amount_refunded: number;
  refund_count: number;
  /** While a confirm is calling WeChat (epoch ms): a second confirm is refused until then (migration 007). */
  confirming_until: number | null;
  /** After a failed close: not tried again before this time; null while no close of it has failed (migration 012). */
  next_close_at: number | null;
  /** Closes of this intent that failed in a row; the wait doubles with each. */
  close_failures: number;
  /**
   * When WeChat issued what next_action hands the payer (migration 015): the prepay, or an H5 order's mweb_url,
   * which a renewal may replace under the same prepay_id. It lasts prepayLifetimeMs(trade_type).
   */
  prepay_at: number | null;
}

export interface WechatPayloadsTable {
  id: string;
  intent_id: string;
  /** prepay | micropay | notify | query | close | notify_rejected */
  kind: string;
  body: string;
  created: number;
}

export interface EventsTable {
  id: string;
  account_id: string;
  livemode: number;
  type: string;
  object_id: string | null;
  data: string;
  created: number;
  /** The API request that caused the event (null for workers), and its Idempotency-Key. */
  request_id: string | null;
  idempotency_key: string | null;
}

/** An order number an intent gave up when a failed payment was confirmed again (migration 014). */
export interface RetiredOrdersTable {
  out_trade_no: string;
  intent_id: string;
  account_id: string;
  trade_type: string | null;
  /** When that order was placed at WeChat. */
  ordered_at: number | null;
  /** What orderquery said of it when it was given up (PAYERROR). */
  trade_state: string;
  retired: number;
  /** Set, once, if WeChat ever reports this order paid after all (an alert: the payer may have paid twice). */
  transaction_id: string | null;
  /** When closeorder of this number is due (migration 017); null once it is closed, or has nothing to close. */
  close_at: number | null;
  /** Closes of it that failed in a row; the wait doubles with each. */
  close_failures: number;
}

/** An alert among the events (see domain/alerts.ts), written in the event's transaction. */
export interface EventAlertsTable {
  event_id: string;
  account_id: string;
  livemode: number;
  created: number;
}

export interface IdempotencyKeysTable {
  account_id: string;
  livemode: number;
  key: string;
  request_hash: string;
  /** in_progress | done */
  state: string;
  response_status: number | null;
  response_body: string | null;
  /** When the key was claimed; a takeover of an abandoned key sets it anew, which fences the old request out. */
  created: number;
  /** The object the request created, recorded in the creating transaction. */
  object_id: string | null;
}

export interface MigrationsMarker {
  seq: Generated<number>;
}

export interface Database extends RefundsWebhooksTables, PayoutTables, CheckoutTables, CompatTables {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  payment_intents: PaymentIntentsTable;
  wechat_payloads: WechatPayloadsTable;
  payment_intent_retired_orders: RetiredOrdersTable;
  events: EventsTable;
  event_alerts: EventAlertsTable;
  idempotency_keys: IdempotencyKeysTable;
}

export type Db = Kysely<Database>;
export type AccountRow = Selectable<AccountsTable>;
export type IntentRow = Selectable<PaymentIntentsTable>;
export type NewIntentRow = Insertable<PaymentIntentsTable>;
export type EventRow = Selectable<EventsTable>;
