// Conditional state changes of a refund, each with its events (and the intent's refund total) in one transaction.
import type { Updateable } from 'kysely';
import type { Db } from '../db/schema.js';
import type { RefundRow, RefundsTable } from '../db/schema-refunds-webhooks.js';
import type { ServiceContext } from './context.js';
import { recordEventAbout } from './events.js';
import { REFUND_OPEN, type RefundStatus, refundEventType } from './refund-state.js';
import { refundView } from './refund-view.js';
import { type RefundPayloadKind, recordPayload } from './transitions.js';

/** A WeChat payload about a refund, kept with its intent (visible with ?expand[]=wechat_payloads). */
export function recordRefundPayload(
  db: Db,
  refund: RefundRow,
  kind: RefundPayloadKind,
  body: string,
  now: number,
): Promise<void> {
  return recordPayload(db, refund.payment_intent, kind, body, now);
}

/** Writes `refund.<type>` and `charge.refund.updated` (for clients built for WooshPay) for a refund row. */
export async function recordRefundEvents(db: Db, row: RefundRow, type: string, now: number): Promise<void> {
  const data = refundView(row);
  await recordEventAbout(db, row, type, data, now);
  await recordEventAbout(db, row, 'charge.refund.updated', data, now);
}

/**
 * Moves a refund to `to` with `UPDATE … WHERE status IN (open)`. A refund that fails or is canceled gives its
 * amount back to the intent (a canceled one, never seen by WeChat, also its slot among the 50). Returns the
 * updated row, or undefined when another process got there first (nothing changed, no event written).
 * `heldLease` is for a sender deciding from its own try: the change then also needs the send lease it took to be
 * still its own and WeChat not to have accepted the refund meanwhile, so a send that stalled past its lease cannot
 * fail a refund the process that took it over has had accepted.
 */
export async function settleRefund(
  ctx: ServiceContext,
  refundId: string,
  to: Exclude<RefundStatus, 'pending'>,
  patch: Updateable<RefundsTable> = {},
  heldLease?: number,
): Promise<RefundRow | undefined> {
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    let update = trx
      .updateTable('refunds')
      .set({
        ...patch,
        status: to,
        next_attempt_at: null,
        next_query_at: to === 'requires_action' ? (patch.next_query_at ?? null) : null,
        updated: now,
      })
      .where('id', '=', refundId);
    // A cancel is only for a refund WeChat has never accepted; the caller holds its send lease.
    update =
      to === 'canceled'
        ? update.where('status', '=', 'pending').where('submitted', '=', 0)
        : update.where('status', 'in', [...REFUND_OPEN]);
    if (to === 'requires_action') update = update.where('status', '=', 'pending');
    if (heldLease !== undefined)
      update = update.where('sending_until', '=', heldLease).where('submitted', '=', 0);
    const result = await update.executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    const row = await trx
      .selectFrom('refunds')
      .selectAll()
      .where('id', '=', refundId)
      .executeTakeFirstOrThrow();
    if (to === 'failed' || to === 'canceled') {
      const slot = to === 'canceled' ? 1 : 0;
      const given = await trx
        .updateTable('payment_intents')
        .set((eb) => ({
          amount_refunded: eb('amount_refunded', '-', row.amount),
          refund_count: eb('refund_count', '-', slot),
          updated: now,
        }))
        .where('id', '=', row.payment_intent)
        .where('amount_refunded', '>=', row.amount)
        .executeTakeFirst();
      if (Number(given.numUpdatedRows) !== 1)
        throw new Error(`refund ${row.id}: intent total is below its amount`);
    }
    await recordRefundEvents(trx, row, refundEventType(to), now);
    return row;
  });
}

/** Raised inside the transaction to roll back a correction the intent's refund total cannot take. */
class ExceedsUnrefunded extends Error {}

/**
 * Marks succeeded a refund held as failed that WeChat reports paid back (it said REFUNDCLOSE before, or a refusal
 * failed it): `UPDATE … WHERE status = 'failed'`, then its amount reserved on the intent again with `UPDATE …
 * WHERE amount_refunded + ? <= amount` (a failed refund kept its slot among the 50), its events and the
 * `alert` (refund.wechat_status_conflict) in one transaction. Returns the updated row; 'not_failed' when the refund
 * is no longer failed (another notify or query corrected it first); 'exceeds_unrefunded' when the intent's other
 * refunds leave less than its amount unrefunded, and then nothing changed.
 */
export async function markFailedRefundSucceeded(
  ctx: ServiceContext,
  refundId: string,
  patch: Updateable<RefundsTable>,
  alert: Record<string, unknown>,
): Promise<RefundRow | 'not_failed' | 'exceeds_unrefunded'> {
  const now = ctx.now();
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('refunds')
        .set({
          ...patch,
          status: 'succeeded',
          failure_reason: null,
          next_attempt_at: null,
          next_query_at: null,
          updated: now,
        })
        .where('id', '=', refundId)
        .where('status', '=', 'failed')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return 'not_failed' as const;
      const row = await trx
        .selectFrom('refunds')
        .selectAll()
        .where('id', '=', refundId)
        .executeTakeFirstOrThrow();
      const taken = await trx
        .updateTable('payment_intents')
        .set((eb) => ({ amount_refunded: eb('amount_refunded', '+', row.amount), updated: now }))
        .where('id', '=', row.payment_intent)
        .where((eb) => eb(eb('amount_refunded', '+', row.amount), '<=', eb.ref('amount')))
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) throw new ExceedsUnrefunded();
      await recordRefundEvents(trx, row, refundEventType('succeeded'), now);
      await recordEventAbout(trx, row, 'refund.wechat_status_conflict', alert, now);
      return row;
    });
  } catch (error) {
    if (error instanceof ExceedsUnrefunded) return 'exceeds_unrefunded';
    throw error;
  }
}
