// Opens a Kysely instance for DATABASE_URL: `sqlite:PATH` (better-sqlite3) or `postgres://…` (pg).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { ConfigurationError } from '../config.js';
import type { Database, Db } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Connection {
  db: Db;
  dialect: DialectName;
  close(): Promise<void>;
}

export function dialectOf(databaseUrl: string): DialectName {
  if (databaseUrl.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return 'postgres';
  throw new ConfigurationError(
    'DATABASE_URL',
    `must be sqlite:PATH or postgres://…, got ${JSON.stringify(databaseUrl)}`,
  );
}

const INT8_OID = 20;

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
    database.pragma('journal_mode = WAL');
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    return { db, dialect, close: () => db.destroy() };
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
