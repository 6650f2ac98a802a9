// Refund follow-up: resend refunds whose outcome is unknown (same out_refund_no), and refundquery accepted refunds
// whose notify has not come.
import type { ServiceContext } from '../domain/context.js';
import { refundQueryDelayMs } from '../domain/refund-state.js';
import { queryRefund, REQUIRES_ACTION_QUERY_DELAY_MS, sendRefund } from '../domain/refunds.js';

const QUERY_LEASE_MS = 60_000;

/** Resends every due unsubmitted refund; returns how many were sent. */
export async function runRefundResends(
  ctx: ServiceContext,
  options: { limit?: number } = {},
): Promise<number> {
  const now = ctx.now();
  const due = await ctx.db
    .selectFrom('refunds')
    .selectAll()
    .where('status', '=', 'pending')
    .where('submitted', '=', 0)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('sending_until', 'is', null), eb('sending_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(options.limit ?? 50)
    .execute();
  let sent = 0;
  for (const refund of due) {
    try {
      // sendRefund claims the refund's send lease itself; a lost race is a no-op.
      await sendRefund(ctx, refund);
      sent++;
    } catch (error) {
      ctx.log.warn(
        { refund: refund.id, err: (error as Error).message },
        'refund resend failed; retried later',
      );
    }
  }
  return sent;
}

/** refundquery for every due accepted refund; returns how many were queried. */
export async function runRefundQueries(
  ctx: ServiceContext,
  options: { limit?: number } = {},
): Promise<number> {
  const now = ctx.now();
  const due = await ctx.db
    .selectFrom('refunds')
    .selectAll()
    .where('status', 'in', ['pending', 'requires_action'])
    .where('submitted', '=', 1)
    .where('next_query_at', '<=', now)
    .orderBy('next_query_at')
    .limit(options.limit ?? 50)
    .execute();
  let queried = 0;
  for (const refund of due) {
    // Claim by moving next_query_at forward conditionally, so two workers never query the same refund at once.
    const claim = await ctx.db
      .updateTable('refunds')
      .set({ next_query_at: now + QUERY_LEASE_MS })
      .where('id', '=', refund.id)
      .where('next_query_at', '=', refund.next_query_at)
      .executeTakeFirst();
    if (Number(claim.numUpdatedRows) !== 1) continue;
    queried++;
    try {
      const after = await queryRefund(ctx, refund);
      // Still open: the next look replaces the claim lease, or the refund would be queried every minute.
      if (after.status === 'pending' || after.status === 'requires_action') {
        const count = refund.query_count + 1;
        const delayMs =
          after.status === 'pending' ? refundQueryDelayMs(count) : REQUIRES_ACTION_QUERY_DELAY_MS;
        await ctx.db
          .updateTable('refunds')
          .set({ query_count: count, next_query_at: ctx.now() + delayMs })
          .where('id', '=', refund.id)
          .where('status', '=', after.status)
          .execute();
      }
    } catch (error) {
      ctx.log.warn(
        { refund: refund.id, err: (error as Error).message },
        'refundquery failed; retried after the lease',
      );
    }
  }
  return queried;
}

export async function runRefundSync(ctx: ServiceContext): Promise<{ resent: number; queried: number }> {
  return { resent: await runRefundResends(ctx), queried: await runRefundQueries(ctx) };
}
