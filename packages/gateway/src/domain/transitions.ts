// Conditional state changes of an intent, each with its event and WeChat payload in one transaction.
import { sql, type Updateable } from 'kysely';
import { insertRow } from '../db/insert-row.js';
import type { Db, IntentRow, PaymentIntentsTable } from '../db/schema.js';
import type { ServiceContext } from './context.js';
import { recordEventAbout } from './events.js';
import { newId } from './ids.js';
import { intentView } from './intent-view.js';
import { allowedFrom, eventTypeFor, type IntentAction, targetOf } from './state.js';

export type PayloadKind =
  | 'prepay'
  | 'micropay'
  | 'notify'
  | 'notify_rejected'
  | 'query'
  | 'close'
  | 'reverse'
  | RefundPayloadKind;

/** WeChat payloads about a refund, kept with the refund's intent too. */
export type RefundPayloadKind = 'refund' | 'refund_query' | 'refund_notify' | 'refund_notify_rejected';

export async function recordPayload(
  db: Db,
  intentId: string,
  kind: PayloadKind,
  body: string,
  now: number,
): Promise<void> {
  await insertRow(db, 'wechat_payloads', { id: newId('pl'), intent_id: intentId, kind, body, created: now });
}

export interface TransitionOptions {
  patch?: Updateable<PaymentIntentsTable>;
  /** A WeChat payload to keep with the intent, whether or not the state changes. */
  payload?: { kind: PayloadKind; body: string };
  /** Clears `confirming_until` in the same UPDATE when it still holds this lease (a confirm's WeChat call). */
  releaseLease?: number;
}

/**
 * Applies `action` with `UPDATE … WHERE id = ? AND status IN (allowed)`, writing the event in the same
 * transaction. Returns the updated row, or undefined when the intent was not in an allowed status
 * (a duplicate notify, a race lost to another process): then nothing changed and no event was written.
 */
export async function transition(
  ctx: ServiceContext,
  intentId: string,
  action: IntentAction,
  options: TransitionOptions = {},
): Promise<IntentRow | undefined> {
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    if (options.payload) await recordPayload(trx, intentId, options.payload.kind, options.payload.body, now);
    const lease = options.releaseLease;
    // RETURNING gives the updated row from the conditional UPDATE itself: no second read.
    const row = await trx
      .updateTable('payment_intents')
      .set({
        ...options.patch,
        status: targetOf(action),
        updated: now,
        ...(lease === undefined
          ? {}
          : {
              confirming_until: sql<
                number | null
              >`case when confirming_until = ${lease} then null else confirming_until end`,
            }),
      })
      .where('id', '=', intentId)
      .where('status', 'in', [...allowedFrom(action)])
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    await recordEventAbout(trx, row, eventTypeFor(action), intentView(row), now);
    return row;
  });
}

/** Marks an intent paid. Only verified WeChat results call this: a notify, an orderquery reply or a signed micropay reply. */
export function markIntentSucceeded(
  ctx: ServiceContext,
  intent: IntentRow,
  transactionId: string | undefined,
  payload: { kind: PayloadKind; body: string },
): Promise<IntentRow | undefined> {
  return transition(ctx, intent.id, 'succeed', {
    patch: {
      wechat_transaction_id: transactionId ?? null,
      next_query_at: null,
      close_at: null,
      next_action: null,
    },
    payload,
  });
}

/** PAYERROR: the intent goes back to requires_payment_method with the reason. */
export function markPaymentFailed(
  ctx: ServiceContext,
  intent: IntentRow,
  failure: { code: string; message: string },
  payload: { kind: PayloadKind; body: string },
): Promise<IntentRow | undefined> {
  return transition(ctx, intent.id, 'fail', {
    patch: { payment_failed: JSON.stringify(failure), next_query_at: null, next_action: null },
    payload,
  });
}

export function markIntentCanceled(
  ctx: ServiceContext,
  intent: IntentRow,
  reason: string,
  payload?: { kind: PayloadKind; body: string },
): Promise<IntentRow | undefined> {
  return transition(ctx, intent.id, 'cancel', {
    patch: { cancellation_reason: reason, next_query_at: null, close_at: null, next_action: null },
    payload,
  });
}
