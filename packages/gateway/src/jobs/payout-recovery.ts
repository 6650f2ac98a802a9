// Payout recovery and status sync: resends or queries `sending` records (same number), and polls
// gethbinfo / gettransferinfo until each record is final.
import type { ServiceContext } from '../domain/context.js';
import { advancePayout, sendLeaseMs } from '../domain/payout-sending.js';

/** How long a claimed record is left to this worker before another may take it: at least one whole send. */
const MIN_LEASE_MS = 60_000;

/** Advances every due payout once; returns how many were looked at. A worker loop calls this. */
export async function runPayoutRecovery(
  ctx: ServiceContext,
  options: { limit?: number } = {},
): Promise<number> {
  const now = ctx.now();
  const leaseMs = Math.max(MIN_LEASE_MS, sendLeaseMs(ctx));
  const due = await ctx.db
    .selectFrom('payouts')
    .selectAll()
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(options.limit ?? 50)
    .execute();
  let advanced = 0;
  for (const row of due) {
    // Claim by moving next_attempt_at forward conditionally, so two workers never take the same record.
    const claim = await ctx.db
      .updateTable('payouts')
      .set({ next_attempt_at: now + leaseMs })
      .where('id', '=', row.id)
      .where('next_attempt_at', '=', row.next_attempt_at)
      .executeTakeFirst();
    if (Number(claim.numUpdatedRows) !== 1) continue;
    advanced++;
    try {
      await advancePayout(ctx, { ...row, next_attempt_at: now + leaseMs });
    } catch (error) {
      ctx.log.warn(
        { payout: row.id, err: (error as Error).message },
        'payout recovery failed; retried after the lease',
      );
    }
  }
  return advanced;
}
