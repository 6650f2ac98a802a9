// The notify follow-up: orderquery for intents whose notify has not come, on the configured schedule.
import type { ServiceContext } from '../domain/context.js';
import { queryIntent } from '../domain/reconcile.js';
import { nextQueryAt } from '../domain/state.js';

const LEASE_MS = 60_000;

/** Queries every due intent once; returns how many were queried. A worker loop calls this. */
export async function runFollowUps(ctx: ServiceContext, options: { limit?: number } = {}): Promise<number> {
  const now = ctx.now();
  const due = await ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('status', 'in', ['requires_action', 'processing'])
    .where('next_query_at', '<=', now)
    .orderBy('next_query_at')
    .limit(options.limit ?? 50)
    .execute();
  let queried = 0;
  for (const intent of due) {
    // Claim by moving next_query_at forward conditionally, so two workers never query the same intent at once.
    const claim = await ctx.db
      .updateTable('payment_intents')
      .set({ next_query_at: now + LEASE_MS })
      .where('id', '=', intent.id)
      .where('next_query_at', '=', intent.next_query_at)
      .executeTakeFirst();
    if (Number(claim.numUpdatedRows) !== 1) continue;
    queried++;
    try {
      const after = await queryIntent(ctx, intent);
      if (after.status === 'requires_action' || after.status === 'processing') {
        const count = intent.query_count + 1;
        await ctx.db
          .updateTable('payment_intents')
          .set({
            query_count: count,
            next_query_at: nextQueryAt(
              intent.ordered_at ?? intent.created,
              count,
              ctx.config.followUpScheduleSeconds,
              ctx.config.followUpEverySeconds,
              intent.expires_at,
            ),
          })
          .where('id', '=', intent.id)
          .execute();
      }
    } catch (error) {
      ctx.log.warn(
        { intent: intent.id, err: (error as Error).message },
        'orderquery follow-up failed; retried after the lease',
      );
    }
  }
  return queried;
}
