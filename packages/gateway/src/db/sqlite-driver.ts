// A Kysely driver for better-sqlite3 whose commits are on disk before they resolve, without blocking the event
// loop on the disk.
//
// better-sqlite3 builds SQLite with WAL mode's `synchronous` defaulting to NORMAL: COMMIT appends the
// transaction's pages to the write-ahead log and returns without an fsync, so a power loss (or a kernel crash)
// can take back transactions that were reported committed. For the gateway that would break invariant 4: the
// out_trade_no / partner_trade_no stored "before the call" could vanish after WeChat acted on it. SQLite's own
// cure, synchronous=FULL, fsyncs inside COMMIT, on the event loop, once per transaction.
//
// Here COMMIT stays NORMAL, and the driver then fdatasyncs the log file on libuv's thread pool (the first time,
// also the log's directory, whose entry for the new file SQLite never synced). The wait happens in the driver's
// commitTransaction, so a transaction resolves only once a sync that started after its COMMIT has finished,
// whichever Kysely API ran it: transaction(), startTransaction() (whose commit() does not wait for the
// connection's release) or a transaction on connection(). A write outside a transaction waits when its
// connection is released. Commits that land while a sync runs share the next one. The connection goes to the
// next transaction as soon as COMMIT returns, so waiting for the disk never serialises transactions; if the
// committing caller then runs another statement on the same connection (connection()), it queues for it again.
// A failed sync fails that commit and every later one: after an fsync error the kernel may already have dropped
// the unwritten pages, so nothing written since can be promised (PostgreSQL stops for the same reason).
//
// What readers see: a transaction, or a read outside one, can see another transaction's rows between its COMMIT
// and its sync. Anything that acts on what it read writes first (a lease, a claim, a state change), and that
// write's sync covers every earlier page of the log, so no money moves on data that could still be lost.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { BACKSTOP_CHECKPOINT_PAGES, Checkpointer, DEFAULT_CHECKPOINT_PAGES } from './checkpointer.js';

/** Where statements come from: the database itself, or a cache of prepared statements in front of it. */
export interface StatementSource {
  prepare(sql: string): SQLite.Statement;
  close(): void;
}

export interface DurableSqliteOptions {
  /** The open database, through its statement cache (see `cachingStatements`). */
  database: StatementSource;
  /**
   * The write-ahead log to sync after commits, or undefined when there is none to sync (an in-memory database,
   * or a journal mode other than WAL, where SQLite is left at synchronous=FULL).
   */
  walPath: string | undefined;
  /** Makes the log's written pages durable; fdatasync by default. */
  syncFile?: (file: FileHandle) => Promise<void>;
  /** Makes the log's directory entry durable, once, before the first sync counts as done; fsync by default. */
  syncDirectory?: (directory: FileHandle) => Promise<void>;
  /**
   * Moves checkpoints to a worker thread (see checkpointer.ts) once this many commits have been made, so that a
   * short-lived connection (a migration, a test) never starts one.
   */
  checkpointInWorker?: { databasePath: string; afterCommits: number };
}

export class DurabilityError extends Error {
  constructor(cause: unknown) {
    super(
      `The database's write-ahead log could not be synced to disk (${(cause as Error)?.message ?? cause}). ` +
        'Committed transactions may not survive a power loss, so the gateway refuses further writes: ' +
        'check the disk, then restart.',
      { cause },
    );
    this.name = 'DurabilityError';
  }
}

/** Orders log syncs: each waiter is released by the first sync that started after its commit. */
export class WalSync {
  #file: Promise<FileHandle> | undefined;
  #committed = 0;
  #synced = 0;
  #running: Promise<void> | undefined;
  #failure: DurabilityError | undefined;
  /** How many syncs have run (for tests and the benchmark). */
  syncs = 0;

  /** Set once a sync has failed: from then on no write may run, let alone commit. */
  get failure(): DurabilityError | undefined {
    return this.#failure;
  }

  constructor(
    private readonly path: string,
    private readonly syncFile: (file: FileHandle) => Promise<void>,
    private readonly syncDirectory: (directory: FileHandle) => Promise<void>,
  ) {}

  /** Call right after a COMMIT returns: resolves when that commit is on disk. */
  afterCommit(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return this.#waitFor(++this.#committed);
  }

  async #waitFor(target: number): Promise<void> {
    while (this.#synced < target) {
      if (this.#failure) throw this.#failure;
      if (!this.#running) this.#running = this.#sync();
      await this.#running;
    }
  }

  async #sync(): Promise<void> {
    // Every commit counted so far has already returned from SQLite, so this sync covers it.
    const upTo = this.#committed;
    try {
      this.#file ??= this.#openLog();
      await this.syncFile(await this.#file);
      this.syncs++;
      this.#synced = upTo;
    } catch (error) {
      this.#failure ??= new DurabilityError(error);
    } finally {
      this.#running = undefined;
    }
  }

  /** Opens the log to sync it, once its directory entry is on disk: without it a power loss can take the file. */
  async #openLog(): Promise<FileHandle> {
    const directory = await open(dirname(this.path), 'r');
    try {
      await this.syncDirectory(directory);
    } finally {
      await directory.close();
    }
    // Opened for writing: some systems refuse to flush a file opened read-only.
    return open(this.path, 'r+');
  }

  async close(): Promise<void> {
    // Commits still waiting get their sync before the file closes; a failure has already been reported to them.
    await this.#waitFor(this.#committed).catch(() => undefined);
    const file = this.#file;
    this.#file = undefined;
    if (file) await (await file.catch(() => undefined))?.close();
  }
}

/**
 * One acquisition of the single connection. It hands the connection on when a transaction that wrote commits,
 * and queues for it again if it runs another statement afterwards.
 */
class Acquisition implements DatabaseConnection {
  inTransaction = false;
  /** The open transaction has run a statement that writes. */
  wrote = false;
  /** A write outside a transaction committed on this acquisition and its sync has not been awaited yet. */
  needsSync = false;
  released = false;
  #unlock: (() => void) | undefined;

  constructor(
    private readonly database: StatementSource,
    private readonly walSync: WalSync | undefined,
    private readonly mutex: Mutex,
    unlock: () => void,
    /** Called, holding the connection, after each commit that wrote. */
    private readonly committed: () => void,
  ) {
    this.#unlock = unlock;
  }

  /** Hands the connection to the next caller, if this acquisition holds it. */
  unlock(): void {
    this.#unlock?.();
    this.#unlock = undefined;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    this.#unlock ??= await this.mutex.lock();
    const { sql, parameters } = compiledQuery;
    const statement = this.database.prepare(sql);
    // After a failed sync a write is refused before it runs: a row that was never made durable must not be there
    // for a reader to act on, nor for a retry to find.
    if (!statement.readonly && this.walSync?.failure) throw this.walSync.failure;
    const result = run<R>(statement, parameters as unknown[]);
    if (!statement.readonly) {
      if (this.inTransaction) this.wrote = true;
      else {
        // A write outside a transaction commits on its own (autocommit) and needs its sync like a COMMIT.
        this.needsSync = true;
        this.committed();
      }
    }
    return result;
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { sql, parameters, query } = compiledQuery;
    if (!SelectQueryNode.is(query)) throw new Error('SQLite can only stream select queries');
    this.#unlock ??= await this.mutex.lock();
    for (const row of this.database.prepare(sql).iterate(parameters as unknown[])) yield { rows: [row as R] };
  }
}

function run<R>(statement: SQLite.Statement, values: unknown[]): QueryResult<R> {
  if (statement.reader) return { rows: statement.all(values) as R[] };
  const { changes, lastInsertRowid } = statement.run(values);
  return {
    numAffectedRows: changes == null ? undefined : BigInt(changes),
    insertId: lastInsertRowid == null ? undefined : BigInt(lastInsertRowid),
    rows: [],
  };
}

/** A FIFO lock: SQLite has one connection, shared by turns. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async lock(): Promise<() => void> {
    let unlock!: () => void;
    const previous = this.#tail;
    this.#tail = new Promise((resolve) => {
      unlock = resolve;
    });
    await previous;
    return unlock;
  }
}

export class DurableSqliteDriver implements Driver {
  readonly #database: StatementSource;
  readonly #mutex = new Mutex();
  readonly walSync: WalSync | undefined;
  readonly #checkpointInWorker: DurableSqliteOptions['checkpointInWorker'];
  #commits = 0;
  checkpointer: Checkpointer | undefined;

  constructor(options: DurableSqliteOptions) {
    this.#database = options.database;
    this.#checkpointInWorker = options.checkpointInWorker;
    this.walSync =
      options.walPath === undefined
        ? undefined
        : new WalSync(
            options.walPath,
            options.syncFile ?? ((file) => file.datasync()),
            options.syncDirectory ?? ((directory) => directory.sync()),
          );
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const unlock = await this.#mutex.lock();
    return new Acquisition(this.#database, this.walSync, this.#mutex, unlock, () => this.#committed());
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
    (connection as Acquisition).inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const acquisition = connection as Acquisition;
    await acquisition.executeQuery(CompiledQuery.raw('commit'));
    acquisition.inTransaction = false;
    const wrote = acquisition.wrote;
    acquisition.wrote = false;
    // A transaction that only read has nothing to make durable.
    if (!wrote) return;
    this.#committed();
    if (!this.walSync) return;
    const durable = this.walSync.afterCommit();
    // The next transaction may use the connection while this one waits for the disk.
    acquisition.unlock();
    await durable;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const acquisition = connection as Acquisition;
    // Kysely rolls back when commitTransaction throws. After a failed COMMIT the transaction is still open; after
    // a COMMIT whose sync failed there is nothing left to roll back, and the DurabilityError must reach the caller.
    if (!acquisition.inTransaction) return;
    await acquisition.executeQuery(CompiledQuery.raw('rollback'));
    acquisition.inTransaction = false;
    acquisition.wrote = false;
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name.replace(/"/g, '""')}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to "${name.replace(/"/g, '""')}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release "${name.replace(/"/g, '""')}"`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const acquisition = connection as Acquisition;
    if (acquisition.released) return;
    acquisition.released = true;
    // The next caller may use the connection while this one waits for the disk.
    acquisition.unlock();
    if (acquisition.needsSync && this.walSync) await this.walSync.afterCommit();
  }

  /** Called while holding the connection, after each commit that wrote. */
  #committed(): void {
    if (++this.#commits === this.#checkpointInWorker?.afterCommits)
      this.#startCheckpointer(this.#checkpointInWorker.databasePath);
  }

  /**
   * Called while holding the connection. The worker takes over checkpoints and the connection's own automatic
   * checkpoint becomes a backstop; a worker that cannot start, or stops, hands checkpoints back to the connection.
   */
  #startCheckpointer(databasePath: string): void {
    const handBack = (reason: string) => {
      try {
        this.#database.prepare(`pragma wal_autocheckpoint = ${DEFAULT_CHECKPOINT_PAGES}`).run();
      } catch {
        return; // the database is closed already: nothing to hand back to
      }
      process.emitWarning(
        `SQLite checkpoints run on the main thread again: the checkpoint worker stopped (${reason}).`,
        'WxpayDatabaseWarning',
      );
    };
    try {
      this.checkpointer = new Checkpointer(databasePath, handBack);
      this.#database.prepare(`pragma wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`).run();
    } catch (error) {
      handBack((error as Error).message);
    }
  }

  async destroy(): Promise<void> {
    const unlock = await this.#mutex.lock();
    try {
      await this.checkpointer?.close();
      await this.walSync?.close();
      this.#database.close();
    } finally {
      unlock();
    }
  }
}

/** Kysely's SQLite dialect on the durable driver. */
export class DurableSqliteDialect implements Dialect {
  readonly driver: DurableSqliteDriver;
  constructor(options: DurableSqliteOptions) {
    this.driver = new DurableSqliteDriver(options);
  }
  createDriver(): DurableSqliteDriver {
    return this.driver;
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): SqliteAdapter {
    return new SqliteAdapter();
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's introspector takes any database.
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
