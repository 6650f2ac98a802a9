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
 */
export async function settleRefund(
  ctx: ServiceContext,
  refundId: string,
  to: Exclude<RefundStatus, 'pending'>,
  patch: Updateable<RefundsTable> = {},
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
