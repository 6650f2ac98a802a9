// Table types of hosted checkout (sessions and the intents each one created) and dashboard logins.

export interface CheckoutSessionsTable {
  id: string;
  account_id: string;
  livemode: number;
  /** open | complete | expired */
  status: string;
  amount: number;
  currency: string;
  description: string;
  /** JSON array of { name, quantity, amount }. */
  line_items: string;
  success_url: string;
  cancel_url: string;
  metadata: string;
  /** The intent the page shows now; after completion, the one that was paid. */
  payment_intent: string | null;
  expires_at: number;
  completed_at: number | null;
  created: number;
  updated: number;
  /** When the job last tried to settle the session past its deadline (migration 012). */
  settle_tried_at: number | null;
}

/** Every intent a session created (one per flow, and a new one per "new QR code"). */
export interface CheckoutSessionIntentsTable {
  intent_id: string;
  session_id: string;
  created: number;
}

export interface DashboardSessionsTable {
  /** sha256 of the cookie value; the value itself is never stored. */
  token_hash: string;
  account_id: string;
  livemode: number;
  csrf_token: string;
  expires_at: number;
  created: number;
  /** The API key the session was opened with (migration 006); null for sessions from before it. */
  api_key_id: string | null;
}

export interface CheckoutTables {
  checkout_sessions: CheckoutSessionsTable;
  checkout_session_intents: CheckoutSessionIntentsTable;
  dashboard_sessions: DashboardSessionsTable;
}
