// The notify follow-up: orderquery for intents whose notify has not come, on the configured schedule; micropay
// orders are polled until their deadline and then reversed. A confirm that died during its WeChat call is resumed
// from what it stored before the call.
import type { IntentRow } from '../db/schema.js';
import type { ServiceContext } from '../domain/context.js';
import { followUpMicropay, resumeAbandonedMicropay } from '../domain/micropay.js';
import { queryIntent } from '../domain/reconcile.js';
import { nextQueryAt } from '../domain/state.js';
import { claimFollowUps } from './claim.js';

/** The statuses whose orders the job keeps asking about, once claimed (see claimFollowUps). */
const FOLLOWED_UP: readonly string[] = ['requires_confirmation', 'requires_action', 'processing'];

/**
 * A claimed intent as the follow-up starts from it. A micropay whose confirm died is taken over (processing);
 * undefined when a new confirm has taken the lease since the claim, which then settles it itself. A unifiedorder
 * whose confirm died is only queried: the payer never got its prepay, yet WeChat is asked all the same.
 */
async function startingPoint(ctx: ServiceContext, intent: IntentRow): Promise<IntentRow | undefined> {
  if (intent.status !== 'requires_confirmation' || intent.trade_type !== 'MICROPAY') return intent;
  return resumeAbandonedMicropay(ctx, intent);
}

/** Queries every due intent once; returns how many were queried. A worker loop calls this. */
export async function runFollowUps(ctx: ServiceContext, options: { limit?: number } = {}): Promise<number> {
  const claimed = await claimFollowUps(ctx.db, ctx.now(), options.limit ?? 50);
  for (const row of claimed) {
    try {
      const intent = await startingPoint(ctx, row);
      if (!intent) continue;
      const after = await queryIntent(ctx, intent);
      if (!FOLLOWED_UP.includes(after.status)) continue;
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
        // The schedule of the order queried: a confirm that placed another order meanwhile set its own.
        .where('out_trade_no', '=', intent.out_trade_no)
        .execute();
    } catch (error) {
      ctx.log.warn(
        { intent: row.id, err: (error as Error).message },
        'orderquery follow-up failed; retried after the lease',
      );
    }
  }
  return claimed.length;
}
