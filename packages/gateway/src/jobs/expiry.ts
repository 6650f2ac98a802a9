// Closes orders that expired, and runs cancels that had to wait for WeChat's 5-minute closeorder rule. Due intents
// are run oldest due first, and one whose close fails waits behind the others, longer after each failure, so that
// intents WeChat keeps failing for (or a bug) never keep the rest open and payable.
import type { ExpressionBuilder } from 'kysely';
import type { Database, IntentRow } from '../db/schema.js';
import type { ServiceContext } from '../domain/context.js';
import { closeIntent } from '../domain/reconcile.js';
import { isOpen } from '../domain/state.js';
import { forEachClaimed } from './claim.js';

const OPEN = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing'] as const;

/** The wait after the first failed close of an intent; it doubles with each failure in a row, up to the cap. */
export const CLOSE_FIRST_RETRY_MS = 30_000;
export const CLOSE_MAX_RETRY_MS = 15 * 60_000;

/** The wait after failed close number `failures` (1-based) in a row: 30 s doubling to 15 minutes. */
export function closeRetryDelayMs(failures: number): number {
  return Math.min(CLOSE_FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), CLOSE_MAX_RETRY_MS);
}

type IntentsBuilder = ExpressionBuilder<Database, 'payment_intents'>;

/** When the intent's close became due (expired, or its scheduled cancel), or after a failure when it may retry. */
function dueAt(intent: IntentRow, now: number): number {
  if (intent.next_close_at !== null) return intent.next_close_at;
  return intent.close_at !== null && intent.close_at <= now
    ? Math.min(intent.close_at, intent.expires_at)
    : intent.expires_at;
}

/**
 * The due intents, up to `limit`, in the order they are run: by dueAt. Three queries of at most `limit` rows, each
 * served by an index of migration 012 (status, next_close_at, …): expired ones and scheduled cancels that never
 * failed, and failed ones whose wait is over. Intents waiting after a failure are not read at all.
 */
async function dueIntents(ctx: ServiceContext, now: number, limit: number): Promise<IntentRow[]> {
  const earliestClose = now - ctx.config.closeDelaySeconds * 1000;
  const open = () =>
    ctx.db
      .selectFrom('payment_intents')
      .selectAll()
      .where('status', 'in', [...OPEN])
      .where((eb) => closable(eb, earliestClose))
      .limit(limit);
  const lists = await Promise.all([
    open().where('next_close_at', 'is', null).where('expires_at', '<=', now).orderBy('expires_at').execute(),
    open().where('next_close_at', 'is', null).where('close_at', '<=', now).orderBy('close_at').execute(),
    open()
      .where('next_close_at', '<=', now)
      .where((eb) => timeIsUp(eb, now))
      .orderBy('next_close_at')
      .execute(),
  ]);
  const due = new Map(lists.flat().map((row) => [row.id, row]));
  return [...due.values()].sort((a, b) => dueAt(a, now) - dueAt(b, now)).slice(0, limit);
}

/** WeChat refuses closeorder for 5 minutes after the order was placed. */
function closable(eb: IntentsBuilder, earliestClose: number) {
  return eb.or([eb('ordered_at', 'is', null), eb('ordered_at', '<=', earliestClose)]);
}

/** Expired, or a cancel whose scheduled close time has come. */
function timeIsUp(eb: IntentsBuilder, now: number) {
  return eb.or([eb('expires_at', '<=', now), eb('close_at', '<=', now)]);
}

/** The intent as it is now, if it is still due: another worker may have closed it, or failed and pushed it back. */
function reloadIfDue(ctx: ServiceContext, id: string, now: number): Promise<IntentRow | undefined> {
  const earliestClose = now - ctx.config.closeDelaySeconds * 1000;
  return ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', id)
    .where('status', 'in', [...OPEN])
    .where((eb) => timeIsUp(eb, now))
    .where((eb) => closable(eb, earliestClose))
    .where((eb) => eb.or([eb('next_close_at', 'is', null), eb('next_close_at', '<=', now)]))
    .executeTakeFirst();
}

/** Puts an intent whose close failed behind the others until its wait is over; conditional, so counted once. */
async function backOff(ctx: ServiceContext, intent: IntentRow): Promise<number> {
  const failures = intent.close_failures + 1;
  const retryAt = ctx.now() + closeRetryDelayMs(failures);
  await ctx.db
    .updateTable('payment_intents')
    .set({ next_close_at: retryAt, close_failures: failures })
    .where('id', '=', intent.id)
    .where('status', 'in', [...OPEN])
    .where('close_failures', '=', intent.close_failures)
    .execute();
  return retryAt;
}

/** Closes due intents, up to `limit`, oldest due first; returns how many were closed or settled. A worker loop calls this. */
export async function runCloses(ctx: ServiceContext, options: { limit?: number } = {}): Promise<number> {
  const now = ctx.now();
  const rows = await dueIntents(ctx, now, options.limit ?? 50);
  // Claimed per intent, so that two workers never close the same one at once.
  return forEachClaimed(
    ctx.db,
    'close',
    rows,
    (row) => reloadIfDue(ctx, row.id, now),
    async (intent) => {
      const reason =
        intent.expires_at <= now && intent.close_at === null
          ? 'expired'
          : (intent.cancellation_reason ?? 'requested');
      let failure: string;
      try {
        const after = await closeIntent(ctx, intent, reason);
        if (!isOpen(after.status)) return true;
        failure = 'WeChat left the order open';
      } catch (error) {
        failure = (error as Error).message;
      }
      const retryAt = await backOff(ctx, intent);
      ctx.log.warn(
        { intent: intent.id, err: failure, failures: intent.close_failures + 1, retry_at: retryAt },
        'closing an intent failed; retried after the others, later after each failure',
      );
      return false;
    },
  );
}
