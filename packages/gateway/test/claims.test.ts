// Job claims: on PostgreSQL, concurrent workers never run the same job (follow-ups: SKIP LOCKED; closes: advisory locks).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type Connection, connect } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrations.ts';
import type { IntentRow } from '../src/db/schema.ts';
import { createAccount } from '../src/domain/accounts.ts';
import { claimFollowUps, FOLLOW_UP_LEASE_MS, isPostgres } from '../src/jobs/claim.ts';
import { runCloses } from '../src/jobs/expiry.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.ts';
import { type Harness, startHarness } from './support/harness.ts';

const JOBS = 60;

/**
 * pg's Pool.end() resolves before its backends have gone; a DROP DATABASE … WITH (FORCE) right after can kill
 * one mid-goodbye, and its error then surfaces as an uncaught exception. Wait until they are gone.
 */
async function untilDisconnected(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      if (Number(rows[0]?.n) === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await client.end();
  }
}

function intentRow(accountId: string, i: number, now: number): IntentRow {
  const id = `pi_claim${String(i).padStart(17, '0')}`;
  return {
    id,
    account_id: accountId,
    livemode: 0,
    amount: 100,
    currency: 'CNY',
    status: 'requires_action',
    out_trade_no: id.slice(3),
    terminal_type: 'WEB',
    trade_type: 'NATIVE',
    description: null,
    metadata: '{}',
    return_url: null,
    client_ip: null,
    os_type: null,
    openid: null,
    next_action: null,
    payment_failed: null,
    client_result: null,
    cancellation_reason: null,
    wechat_prepay_id: null,
    wechat_transaction_id: null,
    ordered_at: now - 120_000,
    close_at: null,
    next_query_at: now - 1000 - i,
    query_count: 0,
    expires_at: now + 3_600_000,
    created: now - 120_000,
    updated: now - 120_000,
  } as IntentRow;
}

for (const kind of DATABASE_KINDS) {
  describe(`follow-up claims on ${kind}`, () => {
    let database: TestDatabase;
    let workers: Connection[] = [];
    const now = Date.now();
    before(async () => {
      database = await createTestDatabase(kind);
      workers = [connect(database.url), connect(database.url)];
      const db = workers[0]!.db;
      await migrate(db);
      const { id } = await createAccount(db, { appid: 'wx1', mchId: '1900000109', key: 'k'.repeat(32) });
      for (let i = 0; i < JOBS; i++) {
        const row = intentRow(id, i, now);
        // Other issues add columns with defaults; insert only the base ones.
        await db.insertInto('payment_intents').values(row).execute();
      }
    });
    after(async () => {
      for (const w of workers) await w.close();
      if (kind === 'postgres') await untilDisconnected(database.url);
      await database?.drop();
    });

    test('two workers claiming at the same time never get the same job, and together get them all', async () => {
      assert.equal(isPostgres(workers[0]!.db), kind === 'postgres');
      const rounds = await Promise.all(
        Array.from({ length: 12 }, (_, i) => claimFollowUps(workers[i % 2]!.db, now, 7)),
      );
      const ids = rounds.flat().map((r) => r.id);
      assert.equal(new Set(ids).size, ids.length, `a job was claimed twice: ${ids.length} claims`);
      const rest = await claimFollowUps(workers[0]!.db, now, JOBS);
      assert.equal(ids.length + rest.length, JOBS);
      const leased = await workers[1]!.db
        .selectFrom('payment_intents')
        .select('next_query_at')
        .where('next_query_at', '!=', now + FOLLOW_UP_LEASE_MS)
        .execute();
      assert.equal(leased.length, 0, 'every claimed job carries the lease');
      assert.equal(
        (await claimFollowUps(workers[1]!.db, now, JOBS)).length,
        0,
        'leased jobs are not claimed',
      );
      assert.equal((await claimFollowUps(workers[1]!.db, now + FOLLOW_UP_LEASE_MS, JOBS)).length, JOBS);
    });
  });
}

describe('close claims on postgres', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('postgres');
  });
  after(async () => {
    await h?.close();
  });

  test('two workers running the close job at once close each expired intent once', async () => {
    const outTradeNos: string[] = [];
    for (let i = 0; i < 8; i++) {
      const created = await h.api('POST', '/v1/payment_intents', {
        amount: 50 + i,
        currency: 'CNY',
        confirm: true,
        payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      outTradeNos.push(created.body.wechat_pay.out_trade_no);
    }
    h.clock.now += 3 * 60 * 60_000;
    const [a, b] = await Promise.all([runCloses(h.gateway.ctx), runCloses(h.gateway.ctx)]);
    assert.equal(a + b, outTradeNos.length);
    for (const outTradeNo of outTradeNos) {
      const calls = (path: string) =>
        h.mock.requests.filter((r) => r.path === path && r.fields.out_trade_no === outTradeNo).length;
      assert.equal(calls('/pay/closeorder'), 1, `closeorder for ${outTradeNo}`);
      assert.equal(calls('/pay/orderquery'), 1, `orderquery for ${outTradeNo}`);
    }
    const canceled = await h.api('GET', '/v1/payment_intents?status=canceled&limit=100');
    assert.equal(canceled.body.data.length, outTradeNos.length);
  });
});
