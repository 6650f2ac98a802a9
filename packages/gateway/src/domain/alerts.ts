// What a merchant should look at: events saying that a message claiming to come from WeChat was refused, or that
// WeChat and the gateway disagree about where money is. They are in the events list and go to webhooks like any
// event; each is also recorded in `event_alerts` in its transaction, and the dashboard's overview lists the latest,
// so they are seen without a webhook.
import type { Db, EventsTable } from '../db/schema.js';
import type { AuthContext, ServiceContext } from './context.js';

export const ALERT_TYPES = [
  'payment_intent.notify_rejected',
  'payment_intent.wechat_status_conflict',
  'refund.wechat_status_conflict',
  'refund.notify_rejected',
  'checkout.session.completed_after_expiry',
] as const;

const ALERTS = new Set<string>(ALERT_TYPES);

export const isAlert = (eventType: string): boolean => ALERTS.has(eventType);

export interface Alert {
  id: string;
  type: (typeof ALERT_TYPES)[number];
  created: number;
  data: Record<string, unknown>;
  /** The payment the alert is about (a refund's own payment for a refund), if any. */
  paymentIntent: string | null;
  /** The refund, for a refund's alert. */
  refund: string | null;
}

/**
 * The mode an alert is filed under when nothing in it names one (a notify that cannot be read, or names no order
 * of ours): live once the account has a live key in use, since the sandbox never sends such a notify, so that the
 * merchant's live dashboard shows it; test otherwise.
 */
export async function unattributedMode(ctx: ServiceContext, accountId: string): Promise<boolean> {
  const live = await ctx.db
    .selectFrom('api_keys')
    .select('id')
    .where('account_id', '=', accountId)
    .where('livemode', '=', 1)
    .where('revoked', 'is', null)
    .executeTakeFirst();
  return live !== undefined;
}

/** How long an alert about an unverifiable notify stands for every later one like it. */
export const UNVERIFIED_ALERT_WINDOW_MS = 3600_000;

/** Reasons a notify is refused before anything in it could be verified: anyone can post one. */
export const UNVERIFIED_REASONS: ReadonlySet<string> = new Set(['signature_invalid', 'req_info_invalid']);

/**
 * Whether an alert of `type` and `reason` about the same object (or about none) was raised for the account in
 * this mode within the last UNVERIFIED_ALERT_WINDOW_MS. A notify refused before it could be verified (a bad
 * signature, an undecryptable req_info) can be posted by anyone, as often as they like: such an alert is raised
 * once per window and object, not once per request (each is still logged). Signed ones are always alerted.
 */
export async function unverifiedAlertRaised(
  db: Db,
  alert: { accountId: string; livemode: boolean; type: string; reason: string; objectId: string | null },
  now: number,
): Promise<boolean> {
  if (!UNVERIFIED_REASONS.has(alert.reason)) return false;
  const recent = await db
    .selectFrom('event_alerts')
    .innerJoin('events', 'events.id', 'event_alerts.event_id')
    .select('events.data')
    .where('event_alerts.account_id', '=', alert.accountId)
    .where('event_alerts.livemode', '=', alert.livemode ? 1 : 0)
    .where('event_alerts.created', '>', now - UNVERIFIED_ALERT_WINDOW_MS)
    .where('events.type', '=', alert.type)
    .where((eb) =>
      alert.objectId === null
        ? eb('events.object_id', 'is', null)
        : eb('events.object_id', '=', alert.objectId),
    )
    .execute();
  return recent.some((row) => (JSON.parse(row.data) as { reason?: unknown }).reason === alert.reason);
}

/** The newest `limit` alerts of the account in this mode, newest first. */
export async function recentAlerts(ctx: ServiceContext, auth: AuthContext, limit = 10): Promise<Alert[]> {
  const rows = await ctx.db
    .selectFrom('event_alerts')
    .innerJoin('events', 'events.id', 'event_alerts.event_id')
    .selectAll('events')
    .where('event_alerts.account_id', '=', auth.accountId)
    .where('event_alerts.livemode', '=', auth.livemode ? 1 : 0)
    .orderBy('event_alerts.created', 'desc')
    .orderBy('event_alerts.event_id', 'desc')
    .limit(limit)
    .execute();
  const refundIds = rows.filter((r) => r.type.startsWith('refund.') && r.object_id).map((r) => r.object_id!);
  const refundIntents = new Map(
    refundIds.length
      ? (
          await ctx.db
            .selectFrom('refunds')
            .select(['id', 'payment_intent'])
            .where('account_id', '=', auth.accountId)
            .where('id', 'in', refundIds)
            .execute()
        ).map((r) => [r.id, r.payment_intent])
      : [],
  );
  return rows.map((row) => toAlert(row, refundIntents));
}

function toAlert(row: EventsTable, refundIntents: Map<string, string>): Alert {
  const data = JSON.parse(row.data) as Record<string, unknown>;
  const isRefund = row.type.startsWith('refund.');
  let paymentIntent: string | null = null;
  if (isRefund) paymentIntent = refundIntents.get(row.object_id ?? '') ?? null;
  else if (typeof data.payment_intent === 'string') paymentIntent = data.payment_intent;
  else if (row.object_id?.startsWith('pi_')) paymentIntent = row.object_id;
  return {
    id: row.id,
    type: row.type as Alert['type'],
    created: row.created,
    data,
    paymentIntent,
    refund: isRefund ? row.object_id : null,
  };
}
