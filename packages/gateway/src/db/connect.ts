// Opens a Kysely instance for DATABASE_URL: `sqlite:PATH` (better-sqlite3) or `postgres://…` (pg).
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ConfigurationError, unsupportedDatabaseUrl } from '../config.js';
import type { Database, Db } from './schema.js';
import { DurableSqliteDialect, type DurableSqliteDriver, type StatementSource } from './sqlite-driver.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Connection {
  db: Db;
  dialect: DialectName;
  /** SQLite: its driver, with the log syncs that commits wait for and the checkpoint worker once it runs. */
  sqliteDriver?: DurableSqliteDriver;
  close(): Promise<void>;
}

export function dialectOf(databaseUrl: string): DialectName {
  if (databaseUrl.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return 'postgres';
  throw unsupportedDatabaseUrl('DATABASE_URL', databaseUrl);
}

const INT8_OID = 20;

/** How many distinct SQL texts keep a prepared statement; the gateway's queries are a few hundred shapes. */
const STATEMENT_CACHE_SIZE = 500;

/** A connection that has committed this often gets a checkpoint worker (see db/checkpointer.ts). */
const CHECKPOINT_WORKER_AFTER_COMMITS = 200;

/**
 * Kysely's SqliteDialect prepares every statement anew. better-sqlite3 runs a statement to completion
 * synchronously (`all`/`run`), so one prepared Statement per SQL text can be reused: it holds no state
 * between calls. A statement still being iterated (`busy`, a streamed select) is never handed out again:
 * the caller gets a fresh one. The cache is bounded (least recently used out) and holds SQL, not data.
 */
export function cachingStatements(database: SQLite.Database, size = STATEMENT_CACHE_SIZE): StatementSource {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare: (sql: string) => {
      let statement = cache.get(sql);
      if (statement) {
        if (statement.busy) return database.prepare(sql);
        // Re-insert: Map keeps insertion order, so the first key is the least recently used.
        cache.delete(sql);
        cache.set(sql, statement);
        return statement;
      }
      statement = database.prepare(sql);
      if (cache.size >= size) cache.delete(cache.keys().next().value as string);
      cache.set(sql, statement);
      return statement;
    },
  };
}

export function connect(databaseUrl: string): Connection {
  const dialect = dialectOf(databaseUrl);
  if (dialect === 'sqlite') {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path)
      throw new ConfigurationError(
        'DATABASE_URL',
        'sqlite: needs a file path, e.g. sqlite:.wxpay/gateway.sqlite',
      );
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const database = new SQLite(path);
    const wal = database.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // In WAL mode the driver syncs the log after each commit, off the event loop (see sqlite-driver.ts);
    // otherwise (an in-memory database) SQLite syncs inside COMMIT itself.
    database.pragma(`synchronous = ${wal ? 'NORMAL' : 'FULL'}`);
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    // SQLite names the log after the database file it opened, symbolic links resolved.
    const file = wal ? realpathSync(path) : undefined;
    const durable = new DurableSqliteDialect({
      database: cachingStatements(database),
      walPath: file ? `${file}-wal` : undefined,
      checkpointInWorker: file
        ? { databasePath: file, afterCommits: CHECKPOINT_WORKER_AFTER_COMMITS }
        : undefined,
    });
    const db = new Kysely<Database>({ dialect: durable });
    return {
      db,
      dialect,
      sqliteDriver: durable.driver,
      close: () => db.destroy(),
    };
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    // bigint columns hold epoch milliseconds and minor-unit amounts, all far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? Number
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // pg emits 'error' when the server drops an idle connection (a restart, a failover, an admin's
  // terminate). pg has already removed that client from the pool and the next query opens a new one;
  // without a listener the event would crash the whole process.
  pool.on('error', (error) => {
    process.emitWarning(`PostgreSQL dropped an idle connection: ${error.message}`, 'WxpayDatabaseWarning');
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect, close: () => db.destroy() };
}
