// Closes orders that expired, and runs cancels that had to wait for WeChat's 5-minute closeorder rule.
import type { IntentRow } from '../db/schema.js';
import type { ServiceContext } from '../domain/context.js';
import { closeIntent } from '../domain/reconcile.js';
import { forEachClaimed } from './claim.js';

const OPEN = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing'] as const;

/** Closes every due intent; returns how many were closed or settled. A worker loop calls this. */
export async function runCloses(ctx: ServiceContext, options: { limit?: number } = {}): Promise<number> {
  const now = ctx.now();
  const earliestClose = now - ctx.config.closeDelaySeconds * 1000;
  const due = (id?: string) => {
    let q = ctx.db
      .selectFrom('payment_intents')
      .selectAll()
      .where('status', 'in', [...OPEN])
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('close_at', '<=', now)]))
      .where((eb) => eb.or([eb('ordered_at', 'is', null), eb('ordered_at', '<=', earliestClose)]));
    if (id) q = q.where('id', '=', id);
    return q;
  };
  const rows = await due()
    .limit(options.limit ?? 50)
    .execute();
  // Claimed per intent, so that two workers never close the same one at once.
  return forEachClaimed(
    ctx.db,
    'close',
    rows,
    (row) => due(row.id).executeTakeFirst(),
    async (intent: IntentRow) => {
      const reason =
        intent.expires_at <= now && intent.close_at === null
          ? 'expired'
          : (intent.cancellation_reason ?? 'requested');
      try {
        await closeIntent(ctx, intent, reason);
        return true;
      } catch (error) {
        ctx.log.warn(
          { intent: intent.id, err: (error as Error).message },
          'closing an intent failed; retried on the next run',
        );
        return false;
      }
    },
  );
}
