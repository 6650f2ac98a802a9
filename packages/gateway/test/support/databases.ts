// The databases every gateway suite runs against: a real SQLite file and a fresh PostgreSQL database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { randomToken } from '../../src/domain/ids.ts';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export type DatabaseKind = 'sqlite' | 'postgres';
export const DATABASE_KINDS: DatabaseKind[] = ['sqlite', 'postgres'];

/** The server used to create throwaway databases; CI starts it. */
const ADMIN_URL = process.env.WXPAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-gateway-'));
    return {
      url: `sqlite:${join(dir, 'gateway.sqlite')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `wxpay_test_${randomToken(10).toLowerCase()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    // Fail loudly: the suite must prove PostgreSQL, not skip it.
    throw new Error(
      `PostgreSQL is unreachable at ${ADMIN_URL} (set WXPAY_TEST_PG_URL): ${(error as Error).message}`,
    );
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
