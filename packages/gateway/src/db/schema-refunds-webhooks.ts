// Tables for refunds and webhooks. Times are epoch milliseconds; JSON as text; booleans as 0/1.
import type { Selectable } from 'kysely';

export interface RefundsTable {
  id: string;
  account_id: string;
  livemode: number;
  payment_intent: string;
  amount: number;
  currency: string;
  /** pending | succeeded | failed | canceled | requires_action (WeChat's CHANGE: needs manual handling) */
  status: string;
  reason: string | null;
  metadata: string;
  /** Chosen and stored before WeChat is called, and reused on every retry. */
  out_refund_no: string;
  /** 1 once WeChat has accepted the refund request (then only notify / refundquery can finish it). */
  submitted: number;
  wechat_refund_id: string | null;
  failure_reason: string | null;
  /** When the worker resends an unsubmitted refund (same out_refund_no). */
  next_attempt_at: number | null;
  attempts: number;
  /** Held while a refund call (or a cancel's refundquery) is in flight, so a cancel never races a send. */
  sending_until: number | null;
  /** When the worker calls refundquery for a submitted refund with no notify yet. */
  next_query_at: number | null;
  query_count: number;
  created: number;
  updated: number;
}

export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  livemode: number;
  url: string;
  description: string | null;
  /** JSON array of event types, or ["*"]. */
  enabled_events: string;
  /** enabled | disabled */
  status: string;
  /** whsec_…: kept because it signs; returned only when created or rotated, never logged. */
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  /** Since when every delivery has failed (null: the last one succeeded). After 3 days the endpoint is disabled. */
  failing_since: number | null;
  metadata: string;
  created: number;
  updated: number;
}

/** Marks an event as fanned out to the endpoints that existed then; one row per event. */
export interface EventFanoutsTable {
  event_id: string;
  created: number;
}

/** One row, id 'events': every event created before `fanned_below` has been fanned out. */
export interface WebhookFanoutCursorTable {
  id: string;
  fanned_below: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  account_id: string;
  livemode: number;
  /** pending | succeeded | failed | canceled */
  status: string;
  attempts: number;
  next_attempt_at: number;
  /** A worker holds the delivery until then; another may take it over after. */
  lease_until: number | null;
  /** Start of the current 3-day retry window (reset by a manual retry). */
  window_start: number;
  created: number;
  updated: number;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  event_id: string;
  endpoint_id: string;
  attempted_at: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  /** The first 1 KB of the receiver's answer. */
  response_body: string | null;
}

export interface RefundsWebhooksTables {
  refunds: RefundsTable;
  webhook_endpoints: WebhookEndpointsTable;
  event_fanouts: EventFanoutsTable;
  webhook_fanout_cursor: WebhookFanoutCursorTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type RefundRow = Selectable<RefundsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
