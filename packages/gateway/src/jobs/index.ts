// The background jobs and the loop that runs them.
import { runCheckoutSessions } from '../domain/checkout-sessions.js';
import type { ServiceContext } from '../domain/context.js';
import { runCloses } from './expiry.js';
import { runFollowUps } from './follow-up.js';
import { runPayoutRecovery } from './payout-recovery.js';
import { closeRetiredOrders } from './retired-closes.js';
import { runRefundAndWebhookJobs } from './webhook-delivery.js';

export { runCloses, runFollowUps };

/** One background job: a pass over whatever of its work is due. */
export interface WorkerJob {
  /** For the log. */
  name: string;
  run(ctx: ServiceContext): Promise<unknown>;
}

/** What one pass of the worker runs, in this order. */
export const WORKER_JOBS: readonly WorkerJob[] = [
  { name: 'follow-ups', run: (ctx) => runFollowUps(ctx) },
  { name: 'closes', run: (ctx) => runCloses(ctx) },
  { name: 'retired-order-closes', run: (ctx) => closeRetiredOrders(ctx) },
  { name: 'payout-recovery', run: (ctx) => runPayoutRecovery(ctx) },
  { name: 'checkout-sessions', run: (ctx) => runCheckoutSessions(ctx) },
  { name: 'refunds-and-webhooks', run: (ctx) => runRefundAndWebhookJobs(ctx) },
];

/**
 * Runs a pass of the jobs `intervalMs` after the previous pass ended, until stopped. Passes never overlap nor queue
 * up: a pass slower than the interval (WeChat being slow) only delays the next one. A job that throws is logged and
 * the pass goes on with the next job. stop() waits for the job in progress only; the rest of its pass is skipped.
 */
export function startWorker(
  ctx: ServiceContext,
  intervalMs = 5_000,
  jobs: readonly WorkerJob[] = WORKER_JOBS,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;
  const runPass = async () => {
    for (const job of jobs) {
      if (stopped) return;
      try {
        await job.run(ctx);
      } catch (error) {
        ctx.log.warn(
          { job: job.name, err: (error as Error)?.message ?? String(error) },
          'a worker job failed',
        );
      }
    }
  };
  const scheduleNext = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      pass = runPass().finally(() => {
        pass = undefined;
        scheduleNext();
      });
    }, intervalMs);
    timer.unref();
  };
  scheduleNext();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
