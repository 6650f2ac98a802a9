// Conditional state changes of an intent, each with its event and WeChat payload in one transaction.
import { type Expression, type ExpressionBuilder, type SqlBool, sql, type Updateable } from 'kysely';
import { insertRow } from '../db/insert-row.js';
import type { Database, Db, IntentRow, PaymentIntentsTable } from '../db/schema.js';
import type { ServiceContext } from './context.js';
import { recordEventAbout } from './events.js';
import { newId } from './ids.js';
import { intentView } from './intent-view.js';
import { alertRetiredOrderPaid } from './retired-orders.js';
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

/** A condition on a payment_intents row, for the WHERE of a conditional UPDATE or a claim. */
export type IntentCondition = (eb: ExpressionBuilder<Database, 'payment_intents'>) => Expression<SqlBool>;

/** No confirm is calling WeChat for the intent: its lease was released, or has run out. */
export function confirmLeaseFree(now: number): IntentCondition {
  return (eb) => eb.or([eb('confirming_until', 'is', null), eb('confirming_until', '<=', now)]);
}

/**
 * A confirm took the lease and never released it: its process died (or lost its database) during the WeChat
 * call, and the lease has run out, so that call can no longer land.
 */
export function confirmLeaseAbandoned(now: number): IntentCondition {
  return (eb) => eb.and([eb('confirming_until', 'is not', null), eb('confirming_until', '<=', now)]);
}

/**
 * The intent still orders under `outTradeNo`. What WeChat says of an order applies to the intent only while that
 * order is the intent's: a failed payment confirmed again gives its number up for a new one (retired-orders.ts),
 * and a late answer about the old order must not move the new one.
 */
export function stillOrdering(outTradeNo: string): IntentCondition {
  return (eb) => eb('out_trade_no', '=', outTradeNo);
}

/** The order was never sent: no confirm stored its order time (and so none took the lease). */
export function neverOrdered(now: number): IntentCondition {
  return (eb) => eb.and([eb('ordered_at', 'is', null), confirmLeaseFree(now)(eb)]);
}

export interface TransitionOptions {
  patch?: Updateable<PaymentIntentsTable>;
  /** A WeChat payload to keep with the intent, whether or not the state changes. */
  payload?: { kind: PayloadKind; body: string };
  /** Clears `confirming_until` in the same UPDATE when it still holds this lease (a confirm's WeChat call). */
  releaseLease?: number;
  /** What else the row must still be, besides in an allowed status (unordered, say); otherwise nothing changes. */
  only?: IntentCondition;
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
      .$if(options.only !== undefined, (q) => q.where(options.only!))
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    await recordEventAbout(trx, row, eventTypeFor(action), intentView(row), now);
    return row;
  });
}

/** What a verified WeChat result says about a paid order (a notify, an orderquery or a micropay reply). */
export interface PaidOrder {
  transaction_id?: string;
  total_fee?: string;
  fee_type?: string;
  /** orderquery's state (SUCCESS or REFUND); a notify or micropay reply means SUCCESS. */
  trade_state?: string;
}

/**
 * Marks an intent paid. Only verified WeChat results call this: a notify, an orderquery reply or a signed micropay
 * reply, about the order `intent` was read with. Returns the succeeded row, or undefined when nothing changed:
 * already succeeded (a duplicate); canceled, which WeChat contradicts, so that payment is recorded and alerted
 * (alertPaidAfterCancel); or the order was given up since, a contradiction too (alertRetiredOrderPaid).
 */
export async function markIntentSucceeded(
  ctx: ServiceContext,
  intent: IntentRow,
  paid: PaidOrder,
  payload: { kind: PayloadKind; body: string },
): Promise<IntentRow | undefined> {
  const succeeded = await transition(ctx, intent.id, 'succeed', {
    patch: {
      wechat_transaction_id: paid.transaction_id ?? null,
      next_query_at: null,
      close_at: null,
      next_action: null,
    },
    payload,
    only: stillOrdering(intent.out_trade_no),
  });
  if (!succeeded) {
    await alertPaidAfterCancel(ctx, intent, paid, payload.kind);
    await alertRetiredOrderPaid(ctx, intent, intent.out_trade_no, paid, payload.kind);
  }
  return succeeded;
}

/**
 * WeChat says an intent we hold as canceled was paid (it closed the order, yet took the money; or a cancel won a
 * race with the payment): the payer is out of pocket for an order the merchant will not fulfil. A canceled intent
 * never becomes succeeded, so the payment is recorded on it (its transaction_id, which makes it refundable) and
 * the merchant alerted, once, to refund or fulfil it.
 */
async function alertPaidAfterCancel(
  ctx: ServiceContext,
  intent: IntentRow,
  paid: PaidOrder,
  source: PayloadKind,
): Promise<void> {
  const intentId = intent.id;
  const now = ctx.now();
  const alerted = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('payment_intents')
      .set({ wechat_transaction_id: paid.transaction_id ?? null, updated: now })
      .where('id', '=', intentId)
      .where('status', '=', 'canceled')
      .where('wechat_transaction_id', 'is', null)
      .where(stillOrdering(intent.out_trade_no))
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    await recordEventAbout(
      trx,
      row,
      'payment_intent.wechat_status_conflict',
      {
        status: row.status,
        wechat_trade_state: paid.trade_state ?? 'SUCCESS',
        transaction_id: paid.transaction_id,
        total_fee: paid.total_fee,
        fee_type: paid.fee_type ?? 'CNY',
        source: source === 'query' ? 'orderquery' : source,
      },
      now,
    );
    return row;
  });
  if (alerted)
    ctx.log.warn({ intent: intentId, source }, 'WeChat reports a payment for an intent we hold as canceled');
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
    only: stillOrdering(intent.out_trade_no),
  });
}

/** Cancels, while the intent still orders under the number it was read with; `only` adds what else it must be. */
export function markIntentCanceled(
  ctx: ServiceContext,
  intent: IntentRow,
  reason: string,
  payload?: { kind: PayloadKind; body: string },
  only?: IntentCondition,
): Promise<IntentRow | undefined> {
  const sameOrder = stillOrdering(intent.out_trade_no);
  return transition(ctx, intent.id, 'cancel', {
    patch: { cancellation_reason: reason, next_query_at: null, close_at: null, next_action: null },
    payload,
    only: only ? (eb) => eb.and([sameOrder(eb), only(eb)]) : sameOrder,
  });
}
