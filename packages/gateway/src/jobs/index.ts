// The background jobs and the loop that runs them.
import { runCheckoutSessions } from '../domain/checkout-sessions.js';
import type { ServiceContext } from '../domain/context.js';
import { runCloses } from './expiry.js';
import { runFollowUps } from './follow-up.js';
import { runPayoutRecovery } from './payout-recovery.js';
import { runRefundAndWebhookJobs } from './webhook-delivery.js';

export { runCloses, runFollowUps };

/** Runs the jobs every `intervalMs` until stopped. */
export function startWorker(ctx: ServiceContext, intervalMs = 5_000): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      try {
        await runFollowUps(ctx);
        await runCloses(ctx);
        await runPayoutRecovery(ctx);
        await runCheckoutSessions(ctx);
        await runRefundAndWebhookJobs(ctx);
      } catch (error) {
        ctx.log.warn({ err: (error as Error).message }, 'worker run failed');
      }
    });
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
