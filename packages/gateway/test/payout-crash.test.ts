// The crash test: mixed payouts under sandbox faults (SYSTEMERROR after commit 20%, timeout 10%, SYSTEMERROR
// 10%) while the gateway process is SIGKILLed and restarted. Afterwards every payout is final, the sandbox
// ledger and the gateway agree one to one, and no request was paid twice. Short form by default;
// WXPAY_CRASH_PAYOUTS=300 runs the full one.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Sandbox, startSandbox } from '@wxpay/sandbox';
import { WechatPay } from '@wxpay/sdk';
import { connect } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrations.ts';
import type { PayoutRow } from '../src/db/schema-payouts.ts';
import { isFinal, type PayoutKind } from '../src/domain/payout-state.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.ts';
import { crashKeyRecoveryMs } from './support/payout-crash-config.ts';
import { openid } from './support/payout-sandbox.ts';
import { sandboxMerchantAccount } from './support/sandbox-account.ts';

const COUNT = Number(process.env.WXPAY_CRASH_PAYOUTS ?? 40);
const KILLS = 4;
const CHILD = fileURLToPath(new URL('./support/payout-crash-child.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

for (const kind of DATABASE_KINDS) {
  describe(`crash test on ${kind}: ${COUNT} payouts, faults, ${KILLS} SIGKILLs`, () => {
    let sandbox: Sandbox;
    let database: TestDatabase;
    let child: ChildProcess | undefined;
    before(async () => {
      sandbox = await startSandbox();
      database = await createTestDatabase(kind);
    });
    after(async () => {
      child?.kill('SIGKILL');
      await sandbox?.close();
      await database?.drop();
    });

    test('every payout ends final, once, and the ledger agrees one to one', {
      timeout: 180_000,
    }, async () => {
      const merchant = sandbox.merchants[0]!;
      const setup = connect(database.url);
      await migrate(setup.db);
      const { key } = await sandboxMerchantAccount(setup.db, merchant);
      await setup.close();

      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const t0 = Date.now();
      const startChild = async () => {
        const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD], {
          env: {
            ...process.env,
            CRASH_T0: String(t0),
            CRASH_DB_URL: database.url,
            CRASH_SANDBOX_URL: sandbox.url,
            CRASH_SANDBOX_CA: sandbox.caCert,
            CRASH_PORT: String(port),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        await new Promise<void>((resolve, reject) => {
          proc.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
          proc.on('exit', (code) =>
            reject(new Error(`gateway child exited with ${code} before it was ready`)),
          );
        });
        child = proc;
      };
      await startChild();
      for (const kind of ['systemerror_after_commit', 'timeout', 'systemerror'] as const) {
        const probability = kind === 'systemerror_after_commit' ? 0.2 : 0.1;
        sandbox.faults.add({ endpoint: '*', kind, probability, holdMs: 800 });
      }

      // The requests: each its own openid and Idempotency-Key, retried with the same key until answered.
      const requests = Array.from({ length: COUNT }, (_, i) => {
        const user = openid();
        const pick = i % 10;
        if (pick < 4) {
          const fission = pick === 3;
          return {
            user,
            path: '/v1/redpacks',
            body: {
              type: fission ? 'fission' : 'normal',
              re_openid: user,
              send_name: '商户',
              total_amount: fission ? 300 + i : 100 + i,
              total_num: fission ? 3 : 1,
              wishing: '恭喜发财',
              act_name: '活动',
              remark: '备注',
            },
          };
        }
        if (pick < 9) {
          return {
            user,
            path: '/v1/transfers',
            body: { openid: user, amount: 30 + i, description: '奖励', check_name: 'NO_CHECK' },
          };
        }
        return { user, path: '/v1/coupons', body: { coupon_stock_id: merchant.couponStockId, openid: user } };
      });
      const stuck: [(typeof requests)[number], number][] = [];
      /** Sends until answered; `recovering` is the retry of a key whose request died. */
      const send = async (r: (typeof requests)[number], n: number, recovering = false) => {
        for (let tries = 0; tries < 200; tries++) {
          try {
            const response = await fetch(url + r.path, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${key}`,
                'content-type': 'application/json',
                'idempotency-key': `crash-${n}`,
              },
              body: JSON.stringify(r.body),
            });
            if (response.status === 200) return;
            const body = (await response.json()) as { error?: { code?: string } };
            // The process died while this key was in flight: it stays in progress until the request could
            // not still be running; then a retry recovers it (below).
            if (body.error?.code === 'idempotency_key_in_use' && !recovering) {
              stuck.push([r, n]);
              return;
            }
            throw new Error(`${r.path} answered ${response.status} ${JSON.stringify(body)}`);
          } catch (error) {
            if (error instanceof Error && error.message.includes('answered')) throw error;
            await sleep(100);
          }
        }
        throw new Error('gateway never came back');
      };
      const queue = requests.map((r, n) => [r, n] as const);
      const workers = Array.from({ length: 8 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await send(next[0], next[1]);
      });
      const killer = (async () => {
        for (let k = 0; k < KILLS; k++) {
          await sleep(300 + Math.random() * 700);
          child?.kill('SIGKILL');
          await sleep(100);
          await startChild();
        }
      })();
      await Promise.all([...workers, killer]);
      // The dead requests' keys are abandoned once older than the longest a request can run, on the child's
      // fast clock: every retry is then answered, from the record if one was stored.
      await sleep(crashKeyRecoveryMs() + 500);
      for (const [r, n] of stuck) await send(r, n, true);

      // Settle: no more faults; recovery finishes every `sending` record; then 24 h pass, so unopened red
      // packets are refunded, and the status sync runs to the end. Polls are brought forward to now, so the
      // test need not wait out the hourly backoff.
      sandbox.faults.clear();
      const check = connect(database.url);
      try {
        const pollNow = () =>
          check.db
            .updateTable('payouts')
            .set({ next_attempt_at: 0 })
            .where('next_attempt_at', 'is not', null)
            .execute();
        const settle = async (done: (rows: PayoutRow[]) => boolean) => {
          await pollNow();
          let rows = await check.db.selectFrom('payouts').selectAll().execute();
          for (let i = 0; i < 300 && !done(rows); i++) {
            await sleep(100);
            rows = await check.db.selectFrom('payouts').selectAll().execute();
          }
          return rows;
        };
        await settle((rows) => rows.every((r) => r.status !== 'sending'));
        await sandbox.clock.advance(24 * 3600 + 60);
        const rows = await settle((rows) => rows.every((r) => isFinal(r.kind as PayoutKind, r.status)));
        const open = rows.filter((r) => !isFinal(r.kind as PayoutKind, r.status));
        assert.deepEqual(
          open.map((r) => `${r.id} ${r.status}`),
          [],
          'every payout is final',
        );
        assert.equal(
          rows.length,
          COUNT,
          `${rows.length} records for ${COUNT} requests (${stuck.length} recovered)`,
        );

        // One record per request (openid), and at most one debit per record.
        const perUser = new Map<string, number>();
        for (const row of rows) perUser.set(row.openid, (perUser.get(row.openid) ?? 0) + 1);
        assert.ok(
          [...perUser.values()].every((n) => n === 1),
          'no request made two records',
        );

        const movements = sandbox.ledger(merchant.mchId).movements;
        const debits = movements.filter((m) => m.amount < 0);
        const byRef = new Map<string, number[]>();
        for (const m of debits) byRef.set(m.ref, [...(byRef.get(m.ref) ?? []), m.amount]);
        const known = new Set(rows.map((r) => r.wechat_no));
        assert.deepEqual(
          [...byRef.keys()].filter((ref) => !known.has(ref)),
          [],
          'no money left the sandbox for a number the gateway does not know',
        );
        for (const row of rows.filter((r) => r.kind !== 'coupon')) {
          const paid = byRef.get(row.wechat_no) ?? [];
          if (row.status === 'failed') assert.deepEqual(paid, [], `${row.id} failed yet was paid`);
          else assert.deepEqual(paid, [-(row.amount ?? 0)], `${row.id} (${row.status}) paid exactly once`);
        }
        const refunded = rows.filter((r) => r.status === 'refunded');
        for (const row of refunded) {
          assert.equal(
            movements.filter((m) => m.ref === row.wechat_no && m.kind === 'redpack_refund').length,
            1,
          );
        }

        const coupons = rows.filter((r) => r.kind === 'coupon');
        const client = new WechatPay({
          appid: merchant.appid,
          mchId: merchant.mchId,
          key: merchant.key,
          baseUrl: sandbox.url,
          ca: sandbox.caCert,
        });
        const stock = await client.queryCouponStock({ coupon_stock_id: merchant.couponStockId });
        await client.close();
        assert.equal(
          Number(stock.is_send_num),
          coupons.filter((r) => r.status === 'sent').length,
          'coupons sent at WeChat = coupons sent in the gateway',
        );
        assert.equal(new Set(coupons.map((r) => r.wechat_id)).size, coupons.length);
      } finally {
        child?.kill('SIGKILL');
        await check.close();
      }
    });
  });
}
