// Claiming due work so that two gateway processes never run the same job: `SELECT … FOR UPDATE SKIP LOCKED`
// plus a lease on PostgreSQL; a conditional UPDATE of the lease on SQLite (one writer at a time anyway).
import { type Kysely, PostgresAdapter, sql } from 'kysely';
import type { Db, IntentRow } from '../db/schema.js';
import { confirmLeaseAbandoned, type IntentCondition } from '../domain/transitions.js';

/** How long a claimed follow-up belongs to its worker; a killed worker's claims come back after it. */
export const FOLLOW_UP_LEASE_MS = 60_000;

/**
 * The intents the follow-up job asks WeChat about: orders waiting for the payer or for a result, and orders whose
 * confirm died during its WeChat call (the order time stored, the lease run out unreleased): WeChat may have
 * charged the payer. A confirm still within its lease is never one of them.
 */
function followedUp(now: number): IntentCondition {
  return (eb) =>
    eb.or([
      eb('status', 'in', ['requires_action', 'processing']),
      eb.and([
        eb('status', '=', 'requires_confirmation'),
        eb('ordered_at', 'is not', null),
        confirmLeaseAbandoned(now)(eb),
      ]),
    ]);
}

// biome-ignore lint/suspicious/noExplicitAny: any Kysely instance
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Claims up to `limit` intents whose orderquery follow-up is due, by moving their next_query_at to the end of
 * the lease. Returns the rows as they were before the claim; every row is returned to one caller only.
 */
export async function claimFollowUps(db: Db, now: number, limit: number): Promise<IntentRow[]> {
  const leaseEnd = now + FOLLOW_UP_LEASE_MS;
  const due = (q: Db) =>
    q
      .selectFrom('payment_intents')
      .selectAll()
      .where(followedUp(now))
      .where('next_query_at', '<=', now)
      .orderBy('next_query_at')
      .limit(limit);
  if (isPostgres(db)) {
    return db.transaction().execute(async (trx) => {
      // Rows another worker is claiming right now are skipped, not waited for.
      const rows = await due(trx).forUpdate().skipLocked().execute();
      if (rows.length > 0) {
        await trx
          .updateTable('payment_intents')
          .set({ next_query_at: leaseEnd })
          .where(
            'id',
            'in',
            rows.map((r) => r.id),
          )
          .execute();
      }
      return rows;
    });
  }
  const claimed: IntentRow[] = [];
  for (const row of await due(db).execute()) {
    const claim = await db
      .updateTable('payment_intents')
      .set({ next_query_at: leaseEnd })
      .where('id', '=', row.id)
      .where('next_query_at', '=', row.next_query_at)
      .where(followedUp(now))
      .executeTakeFirst();
    if (Number(claim.numUpdatedRows) === 1) claimed.push(row);
  }
  return claimed;
}

/**
 * Runs `work` for each row that no other worker is running at the same time, for jobs that have no lease column
 * (closes). On PostgreSQL a row lock cannot be held across the work, because the work updates that row through
 * other connections; instead a session advisory lock per row is taken with `pg_try_advisory_lock` (skipped when
 * another worker holds it) on one connection kept for the run, released after the row, and released by
 * PostgreSQL if the process dies. `recheck` reloads the row once it is held and returns undefined when it is no
 * longer due (another worker finished it meanwhile). SQLite: one process owns the file, so every row is run.
 */
export async function forEachClaimed<T extends { id: string }>(
  db: Db,
  namespace: string,
  rows: readonly T[],
  recheck: (row: T) => Promise<T | undefined>,
  /** Returns whether the row counts as done. */
  work: (row: T) => Promise<boolean>,
): Promise<number> {
  let done = 0;
  const runOne = async (row: T) => {
    const fresh = await recheck(row);
    if (!fresh) return;
    if (await work(fresh)) done++;
  };
  if (!isPostgres(db)) {
    for (const row of rows) await runOne(row);
    return done;
  }
  await db.connection().execute(async (conn) => {
    for (const row of rows) {
      const key = `${namespace}:${row.id}`;
      const { rows: got } = await sql<{
        ok: boolean;
      }>`SELECT pg_try_advisory_lock(hashtext(${key})) AS ok`.execute(conn);
      if (!got[0]?.ok) continue;
      try {
        await runOne(row);
      } finally {
        await sql`SELECT pg_advisory_unlock(hashtext(${key}))`.execute(conn);
      }
    }
  });
  return done;
}
