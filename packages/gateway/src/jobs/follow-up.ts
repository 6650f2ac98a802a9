// The notify follow-up: orderquery for intents whose notify has not come, on the configured schedule; micropay
// orders are polled until their deadline and then reversed.
import type { ServiceContext } from '../domain/context.js';
import { followUpMicropay } from '../domain/micropay.js';
import { queryIntent } from '../domain/reconcile.js';
import { nextQueryAt } from '../domain/state.js';
import { claimFollowUps } from './claim.js';

/** Queries every due intent once; returns how many were queried. A worker loop calls this. */
export async function runFollowUps(ctx: ServiceContext, options: { limit?: number } = {}): Promise<number> {
  const claimed = await claimFollowUps(ctx.db, ctx.now(), options.limit ?? 50);
  for (const intent of claimed) {
    try {
      const after = await queryIntent(ctx, intent);
      if (after.status !== 'requires_action' && after.status !== 'processing') continue;
      if (after.trade_type === 'MICROPAY') {
        await followUpMicropay(ctx, after);
        continue;
      }
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
    } catch (error) {
      ctx.log.warn(
        { intent: intent.id, err: (error as Error).message },
        'orderquery follow-up failed; retried after the lease',
      );
    }
  }
  return claimed.length;
}
