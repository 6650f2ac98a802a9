// A Kysely driver for better-sqlite3 whose commits are on disk before they resolve, without blocking the event
// loop on the disk.
//
// better-sqlite3 builds SQLite with WAL mode's `synchronous` defaulting to NORMAL: COMMIT appends the
// transaction's pages to the write-ahead log and returns without an fsync, so a power loss (or a kernel crash)
// can take back transactions that were reported committed. For the gateway that would break invariant 4: the
// out_trade_no / partner_trade_no stored "before the call" could vanish after WeChat acted on it. SQLite's own
// cure, synchronous=FULL, fsyncs inside COMMIT, on the event loop, once per transaction.
//
// Here COMMIT stays NORMAL, and the driver then fdatasyncs the log file on libuv's thread pool. A transaction
// (or a write outside one) resolves only once a sync that started after its COMMIT has finished; commits that
// land while a sync runs share the next one. The connection goes to the next transaction as soon as COMMIT
// returns, so waiting for the disk never serialises transactions. A failed sync fails that commit and every
// later one: after an fsync error the kernel may already have dropped the unwritten pages, so nothing written
// since can be promised (PostgreSQL stops for the same reason).
//
// What readers see: a transaction, or a read outside one, can see another transaction's rows between its COMMIT
// and its sync. Anything that acts on what it read writes first (a lease, a claim, a state change), and that
// write's sync covers every earlier page of the log, so no money moves on data that could still be lost.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
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
      // Opened for writing: some systems refuse to flush a file opened read-only.
      this.#file ??= open(this.path, 'r+');
      await this.syncFile(await this.#file);
      this.syncs++;
      this.#synced = upTo;
    } catch (error) {
      this.#failure ??= new DurabilityError(error);
    } finally {
      this.#running = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.#running) await this.#running;
    const file = this.#file;
    this.#file = undefined;
    if (file) await (await file.catch(() => undefined))?.close();
  }
}

/** One acquisition of the single connection: released at COMMIT, its durability awaited at release. */
class Acquisition implements DatabaseConnection {
  inTransaction = false;
  /** The open transaction has run a statement that writes. */
  wrote = false;
  /** A write was committed on this acquisition and its sync has not been awaited yet. */
  needsSync = false;
  released = false;

  constructor(
    private readonly database: StatementSource,
    private readonly walSync: WalSync | undefined,
    readonly unlock: () => void,
  ) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiledQuery;
    const statement = this.database.prepare(sql);
    // Writes outside a transaction commit on their own (autocommit) and need their sync like a COMMIT.
    if (!statement.readonly) {
      // After a failed sync a write is refused before it runs: a row that was never made durable must not be
      // there for a reader to act on, nor for a retry to find.
      const failure = this.walSync?.failure;
      if (failure) return Promise.reject(failure);
      if (this.inTransaction) this.wrote = true;
      else this.needsSync = true;
    }
    const values = parameters as unknown[];
    if (statement.reader) return Promise.resolve({ rows: statement.all(values) as R[] });
    const { changes, lastInsertRowid } = statement.run(values);
    return Promise.resolve({
      numAffectedRows: changes == null ? undefined : BigInt(changes),
      insertId: lastInsertRowid == null ? undefined : BigInt(lastInsertRowid),
      rows: [],
    });
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { sql, parameters, query } = compiledQuery;
    if (!SelectQueryNode.is(query)) throw new Error('SQLite can only stream select queries');
    for (const row of this.database.prepare(sql).iterate(parameters as unknown[])) yield { rows: [row as R] };
  }
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
        : new WalSync(options.walPath, options.syncFile ?? ((file) => file.datasync()));
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const unlock = await this.#mutex.lock();
    return new Acquisition(this.#database, this.walSync, unlock);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
    (connection as Acquisition).inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const acquisition = connection as Acquisition;
    await acquisition.executeQuery(CompiledQuery.raw('commit'));
    acquisition.inTransaction = false;
    // A transaction that only read has nothing to make durable.
    if (acquisition.wrote) acquisition.needsSync = true;
    acquisition.wrote = false;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const acquisition = connection as Acquisition;
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
    try {
      if (acquisition.needsSync && ++this.#commits === this.#checkpointInWorker?.afterCommits)
        this.#startCheckpointer(this.#checkpointInWorker.databasePath);
    } finally {
      // The next caller may use the connection while this one waits for the disk.
      acquisition.unlock();
    }
    if (acquisition.needsSync && this.walSync) await this.walSync.afterCommit();
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
