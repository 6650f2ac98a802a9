// The SQLite driver: a commit resolves only once the write-ahead log holding it is synced to disk (and, the first
// time, the log's directory), whichever Kysely API ran it; the sync runs off the event loop without holding the
// connection, and a failed sync stops every later write.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { Checkpointer } from '../src/db/checkpointer.ts';
import { cachingStatements, connect } from '../src/db/connect.ts';
import { DurabilityError, DurableSqliteDialect, type DurableSqliteOptions } from '../src/db/sqlite-driver.ts';
import { waitFor } from './support/sandbox-gateway.ts';

interface Tables {
  t: { n: number };
}

const dir = mkdtempSync(join(tmpdir(), 'wxpay-durability-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A new database file in WAL mode, as connect() opens it. */
function walDatabase() {
  const path = join(dir, `db-${files++}.sqlite`);
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  return { path, database };
}

/** A database on a real file in WAL mode whose log syncs wait until the test lets them finish. */
async function open(options: Pick<DurableSqliteOptions, 'syncDirectory'> = {}) {
  const { path, database } = walDatabase();
  const held: { release: () => void }[] = [];
  let calls = 0;
  let fail: Error | undefined;
  const dialect = new DurableSqliteDialect({
    ...options,
    database: cachingStatements(database),
    walPath: `${path}-wal`,
    // The real fdatasync is exercised through connect() below; here the test decides when a sync finishes.
    syncFile: async (_file: FileHandle) => {
      calls++;
      await new Promise<void>((resolve) => held.push({ release: resolve }));
      if (fail) throw fail;
    },
  });
  const db = new Kysely<Tables>({ dialect });
  // The create table is a write and waits for its sync: let it finish so each test starts with nothing pending.
  const created = sql`create table t (n integer not null)`.execute(db);
  await until(() => held.length > 0);
  held.shift()!.release();
  await created;
  return {
    db,
    walSync: dialect.driver.walSync!,
    held,
    calls: () => calls,
    /** From now on, every sync fails with `error`. */
    failWith: (error: Error) => {
      fail = error;
    },
    /** Waits until a sync has started, then lets it finish. */
    releaseNext: async () => {
      await until(() => held.length > 0);
      held.shift()!.release();
      await settle();
    },
    /** Lets every sync started so far finish. */
    releaseAll: async () => {
      while (held.length) held.shift()!.release();
      await settle();
    },
  };
}

/** Waits (at most 5 s) until `condition` holds: the first sync also opens the log file on the thread pool. */
function until(condition: () => boolean): Promise<true> {
  return waitFor(condition.toString(), async () => condition() || undefined, 5000);
}

/** Lets pending promise callbacks and I/O callbacks run. */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function track<T>(promise: Promise<T>) {
  const state = { done: false, error: undefined as unknown, promise };
  promise.then(
    () => {
      state.done = true;
    },
    (error) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
}

describe('SQLite durable commits', () => {
  test('a transaction resolves only after the log holding its commit has been synced', async () => {
    const { db, held, calls, releaseAll } = await open();
    const before = calls();
    const insert = track(db.transaction().execute((trx) => trx.insertInto('t').values({ n: 1 }).execute()));
    await until(() => calls() === before + 1);
    assert.equal(insert.done, false, 'the transaction must wait for its sync');
    // The row is committed (visible), just not yet promised durable.
    assert.equal((await db.selectFrom('t').selectAll().execute()).length, 1);
    held.shift()!.release();
    await until(() => insert.done);
    assert.equal(insert.error, undefined);
    await releaseAll();
    await db.destroy();
  });

  test('waiting for the disk does not hold the connection: the next transaction runs meanwhile', async () => {
    const { db, releaseNext } = await open();
    const first = track(db.transaction().execute((trx) => trx.insertInto('t').values({ n: 1 }).execute()));
    await settle();
    assert.equal(first.done, false);
    let secondRan = false;
    const second = track(
      db.transaction().execute(async (trx) => {
        secondRan = true;
        const rows = await trx.selectFrom('t').select('n').execute();
        await trx
          .insertInto('t')
          .values({ n: rows.length + 1 })
          .execute();
      }),
    );
    await settle();
    assert.equal(secondRan, true, 'the second transaction got the connection while the first waited');
    assert.equal(first.done, false);
    assert.equal(second.done, false);
    await releaseNext();
    await releaseNext();
    await until(() => first.done && second.done);
    assert.equal(first.error ?? second.error, undefined);
    await db.destroy();
  });

  test('commits made while a sync runs share the next sync', async () => {
    const { db, held, calls, walSync, releaseAll } = await open();
    const base = calls();
    const first = track(db.insertInto('t').values({ n: 0 }).execute());
    await until(() => calls() === base + 1);
    const rest = [1, 2, 3, 4, 5].map((n) =>
      track(db.transaction().execute((trx) => trx.insertInto('t').values({ n }).execute())),
    );
    await settle();
    // All five committed while the first sync was held; none started a sync of its own.
    assert.equal(calls(), base + 1);
    held.shift()!.release();
    await until(() => first.done && calls() === base + 2);
    await settle();
    assert.equal(calls(), base + 2, 'one more sync covers the five commits');
    assert.equal(
      rest.some((r) => r.done),
      false,
    );
    const syncsBefore = walSync.syncs;
    await releaseAll();
    await until(() => rest.every((r) => r.done));
    assert.equal(walSync.syncs, syncsBefore + 1);
    assert.equal(
      rest.every((r) => r.error === undefined),
      true,
    );
    await db.destroy();
  });

  test('a transaction that only read does not wait for a sync', async () => {
    const { db, calls } = await open();
    const before = calls();
    const rows = await db.transaction().execute((trx) => trx.selectFrom('t').selectAll().execute());
    assert.deepEqual(rows, []);
    await settle();
    assert.equal(calls(), before, 'no sync was started');
    await db.destroy();
  });

  test('a write outside a transaction waits for its sync; a read does not', async () => {
    const { db, releaseAll } = await open();
    const write = track(db.insertInto('t').values({ n: 7 }).execute());
    await settle();
    assert.equal(write.done, false);
    const read = await db.selectFrom('t').select('n').execute();
    assert.deepEqual(read, [{ n: 7 }]);
    await releaseAll();
    await until(() => write.done);
    assert.equal(write.error, undefined);
    await db.destroy();
  });

  test('a failed sync fails that commit and every later write, with an error that says what to do', async () => {
    const { db, failWith, releaseNext } = await open();
    failWith(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const insert = track(db.transaction().execute((trx) => trx.insertInto('t').values({ n: 1 }).execute()));
    await releaseNext();
    await until(() => insert.done);
    assert.ok(insert.error instanceof DurabilityError, String(insert.error));
    assert.match(
      (insert.error as Error).message,
      /could not be synced to disk \(EIO: i\/o error, fdatasync\).*check the disk, then restart/,
    );
    await assert.rejects(db.insertInto('t').values({ n: 2 }).execute(), DurabilityError);
    await assert.rejects(
      db.transaction().execute((trx) => trx.insertInto('t').values({ n: 3 }).execute()),
      DurabilityError,
    );
    // Reads still answer, and the refused writes never ran: no row a reader could act on.
    assert.deepEqual(await db.selectFrom('t').select('n').execute(), [{ n: 1 }]);
    await db.destroy();
  });

  test("a controlled transaction's commit resolves only after its sync, while the next transaction runs meanwhile", async () => {
    const { db, calls, releaseNext } = await open();
    const before = calls();
    const trx = await db.startTransaction().execute();
    await trx.insertInto('t').values({ n: 1 }).execute();
    const commit = track(trx.commit().execute());
    await until(() => calls() === before + 1);
    await settle();
    assert.equal(commit.done, false, 'the commit must wait for its sync');
    let otherRan = false;
    const other = track(
      db.transaction().execute(async (next) => {
        otherRan = true;
        await next.insertInto('t').values({ n: 2 }).execute();
      }),
    );
    await settle();
    assert.equal(otherRan, true, 'the connection was handed on at COMMIT');
    assert.deepEqual(await db.selectFrom('t').select('n').orderBy('n').execute(), [{ n: 1 }, { n: 2 }]);
    assert.equal(commit.done, false);
    await releaseNext();
    await until(() => commit.done);
    assert.equal(commit.error, undefined);
    // The other transaction committed after the first sync started: it needs the next one.
    assert.equal(other.done, false);
    await releaseNext();
    await until(() => other.done);
    assert.equal(other.error, undefined);
    await db.destroy();
  });

  test("a controlled transaction's commit rejects when its sync fails, and the caller's rollback then is harmless", async () => {
    const { db, failWith, releaseNext } = await open();
    failWith(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const trx = await db.startTransaction().execute();
    await trx.insertInto('t').values({ n: 1 }).execute();
    const commit = track(trx.commit().execute());
    await releaseNext();
    await until(() => commit.done);
    assert.ok(commit.error instanceof DurabilityError, String(commit.error));
    await trx.rollback().execute();
    await assert.rejects(db.insertInto('t').values({ n: 2 }).execute(), DurabilityError);
    await db.destroy();
  });

  test("on a held connection, a transaction's commit waits for its sync and later queries still run", async () => {
    const { db, calls, releaseNext } = await open();
    const before = calls();
    const steps: string[] = [];
    const work = track(
      db.connection().execute(async (connection) => {
        await connection.transaction().execute((trx) => trx.insertInto('t').values({ n: 1 }).execute());
        steps.push('committed');
        await connection.insertInto('t').values({ n: 2 }).execute();
        return connection.selectFrom('t').select('n').orderBy('n').execute();
      }),
    );
    await until(() => calls() === before + 1);
    await settle();
    assert.deepEqual(steps, [], "the transaction's commit must wait for its sync");
    // Meanwhile the connection serves others.
    assert.deepEqual(await db.selectFrom('t').select('n').execute(), [{ n: 1 }]);
    await releaseNext();
    await until(() => steps.length === 1);
    // The write after the transaction commits on its own and waits for its sync when the connection is released.
    await releaseNext();
    await until(() => work.done);
    assert.equal(work.error, undefined);
    assert.deepEqual(await work.promise, [{ n: 1 }, { n: 2 }]);
    await db.destroy();
  });

  test("the first sync also syncs the log's directory, so a new log file survives a power loss; later syncs do not", async () => {
    const directories: number[] = [];
    const { db, calls, releaseNext } = await open({
      syncDirectory: async (directory) => {
        await settle();
        directories.push((await directory.stat()).ino);
      },
    });
    // open() waited for the create table's commit, the first on this log.
    assert.deepEqual(
      directories,
      [statSync(dir).ino],
      'the directory holding the log was synced before that commit resolved',
    );
    for (const n of [1, 2, 3]) {
      const before = calls();
      const insert = track(db.insertInto('t').values({ n }).execute());
      await until(() => calls() === before + 1);
      await releaseNext();
      await until(() => insert.done);
      assert.equal(insert.error, undefined);
    }
    assert.equal(directories.length, 1, 'the directory is synced once, not per commit');
    await db.destroy();
  });

  test("a failed sync of the log's directory fails the commit like a failed sync of the log", async () => {
    const { path, database } = walDatabase();
    const db = new Kysely<Tables>({
      dialect: new DurableSqliteDialect({
        database: cachingStatements(database),
        walPath: `${path}-wal`,
        syncFile: async () => {},
        syncDirectory: async () => {
          throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
        },
      }),
    });
    await assert.rejects(sql`create table t (n integer not null)`.execute(db), (error) => {
      assert.ok(error instanceof DurabilityError, String(error));
      assert.match(error.message, /could not be synced to disk \(EIO: i\/o error, fsync\)/);
      return true;
    });
    await assert.rejects(
      db.transaction().execute((trx) => trx.insertInto('t').values({ n: 1 }).execute()),
      DurabilityError,
    );
    await db.destroy();
  });

  test('closing the database first lets every commit still waiting for the disk have its sync', async () => {
    const { db, calls, releaseNext } = await open();
    const before = calls();
    const first = track(db.insertInto('t').values({ n: 1 }).execute());
    await until(() => calls() === before + 1);
    // Committed while the first sync runs: it needs the next one, which has not started yet.
    const second = track(db.insertInto('t').values({ n: 2 }).execute());
    await settle();
    const destroyed = track(db.destroy());
    await releaseNext();
    await until(() => first.done);
    await settle();
    assert.equal(destroyed.done, false, "the log file must stay open for the second commit's sync");
    await releaseNext();
    await until(() => second.done && destroyed.done);
    assert.equal(first.error ?? second.error ?? destroyed.error, undefined);
  });

  test('connect() puts a file database in WAL mode and really syncs the log after commits', async () => {
    const path = join(dir, 'connect.sqlite');
    const connection = connect(`sqlite:${path}`);
    const db = connection.db as unknown as Kysely<Tables>;
    await sql`create table t (n integer not null)`.execute(db);
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
    assert.equal(mode.rows[0]?.journal_mode, 'wal');
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
    assert.equal(sync.rows[0]?.synchronous, 1, 'NORMAL: the driver syncs the log itself');
    const walSync = connection.sqliteDriver!.walSync!;
    const before = walSync.syncs;
    await db.transaction().execute((trx) => trx.insertInto('t').values({ n: 1 }).execute());
    assert.equal(walSync.syncs, before + 1, 'the commit waited for a real fdatasync of the log');
    await connection.close();
    // The committed row is in the file, read by another connection.
    const check = new SQLite(path, { readonly: true });
    assert.deepEqual(check.prepare('select n from t').all(), [{ n: 1 }]);
    check.close();
  });
});

test('a database reached through a symbolic link syncs the log SQLite really writes', async () => {
  const target = join(dir, 'linked-target.sqlite');
  new SQLite(target).close();
  const link = join(dir, 'link.sqlite');
  symlinkSync(target, link);
  const connection = connect(`sqlite:${link}`);
  const db = connection.db as unknown as Kysely<Tables>;
  await sql`create table t (n integer not null)`.execute(db);
  await db.insertInto('t').values({ n: 1 }).execute();
  assert.ok(connection.sqliteDriver!.walSync!.syncs > 0);
  assert.equal(connection.sqliteDriver!.walSync!.failure, undefined);
  await connection.close();
});

describe('SQLite checkpoints on a worker thread', () => {
  test('a worker that cannot run says so once, so the connection takes checkpoints back', async () => {
    const reasons: string[] = [];
    const worker = new Checkpointer(join(dir, 'no-such-database.sqlite'), (reason) => reasons.push(reason));
    await until(() => reasons.length > 0);
    await worker.close();
    assert.equal(reasons.length, 1, reasons.join(' | '));
  });

  test('after the first commits, a worker copies the log into the database file; the connection only keeps a backstop', async () => {
    const path = join(dir, 'checkpoints.sqlite');
    const connection = connect(`sqlite:${path}`);
    const db = connection.db as unknown as Kysely<{ t: { n: number; pad: string } }>;
    await sql`create table t (n integer not null, pad text not null)`.execute(db);
    const pad = 'x'.repeat(2000);
    for (let n = 0; n < 400; n++)
      await db.transaction().execute((trx) => trx.insertInto('t').values({ n, pad }).execute());
    const driver = connection.sqliteDriver!;
    assert.ok(driver.checkpointer, 'the worker starts once the connection has committed 200 times');
    const backstop = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db);
    assert.equal(backstop.rows[0]?.wal_autocheckpoint, 10_000);
    // 400 rows of 2 KB are ~200 pages: far below the backstop, so only the worker can have copied them.
    await until(() => driver.checkpointer!.checkpoints > 0);
    assert.equal(driver.checkpointer!.lastError, undefined);
    await until(() => statSync(path).size > 400 * 2000);
    await connection.close();
    const check = new SQLite(path, { readonly: true });
    assert.equal((check.prepare('select count(*) as c from t').get() as { c: number }).c, 400);
    check.close();
  });
});
