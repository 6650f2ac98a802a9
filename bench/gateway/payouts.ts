// Benchmark: payouts/s through the gateway (POST /v1/redpacks and /v1/transfers → sandbox → SQLite or
// PostgreSQL), without faults and with the crash test's faults (SYSTEMERROR after commit 20 %, timeout 10 %,
// SYSTEMERROR 10 %), counted until every payout has left `sending` (recovery included).
// Run: node --conditions=source --import tsx bench/gateway/payouts.ts [--payouts 400 --concurrency 16 --pg ADMIN_URL]
// With --pg, each run creates (and drops) its own database on that server.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { startSandbox } from '@wxpay/sandbox';
import { randomToken } from '../../packages/gateway/src/domain/ids.ts';
import { buildGateway, runPayoutRecovery } from '../../packages/gateway/src/index.ts';
import { createTestDatabase } from '../../packages/gateway/test/support/databases.ts';
import { sandboxMerchantAccount } from '../../packages/gateway/test/support/sandbox-account.ts';

const { values: args } = parseArgs({
  options: {
    payouts: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    pg: { type: 'string', default: '' },
  },
});
// --pg names the PostgreSQL server on which each run creates (and drops) its own database.
if (args.pg) process.env.WXPAY_TEST_PG_URL = args.pg;
const total = Number(args.payouts);
const concurrency = Number(args.concurrency);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(faults: boolean): Promise<{ payouts: number; seconds: number; faulted: number }> {
  const sandbox = await startSandbox();
  const t0 = Date.now();
  // A fresh SQLite file, or a fresh database on the PostgreSQL server --pg names.
  const database = await createTestDatabase(args.pg ? 'postgres' : 'sqlite');
  const gateway = await buildGateway({
    databaseUrl: database.url,
    testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
    wechatTimeoutMs: 300,
    // Leases and backoffs run 60× faster, so recovery's waits do not dominate the figure.
    now: () => t0 + (Date.now() - t0) * 60,
  });
  const url = await gateway.listen();
  const merchant = sandbox.merchants[0]!;
  const { key } = await sandboxMerchantAccount(gateway.ctx.db, merchant);
  if (faults) {
    sandbox.faults.add({ endpoint: '*', kind: 'systemerror_after_commit', probability: 0.2 });
    sandbox.faults.add({ endpoint: '*', kind: 'timeout', probability: 0.1, holdMs: 500 });
    sandbox.faults.add({ endpoint: '*', kind: 'systemerror', probability: 0.1 });
  }
  let recovering = true;
  const recovery = (async () => {
    while (recovering) {
      await runPayoutRecovery(gateway.ctx, { limit: 200 });
      await sleep(20);
    }
  })();
  let next = 0;
  let faulted = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const user = `o${randomToken(27)}`;
        const [path, body] =
          i % 2 === 0
            ? [
                '/v1/redpacks',
                {
                  type: 'normal',
                  re_openid: user,
                  send_name: '商户',
                  total_amount: 100,
                  total_num: 1,
                  wishing: '恭喜',
                  act_name: '活动',
                  remark: '备注',
                },
              ]
            : ['/v1/transfers', { openid: user, amount: 100, description: '奖励', check_name: 'NO_CHECK' }];
        const response = await fetch(url + path, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const answer = (await response.json()) as { status: string };
        if (answer.status === 'sending') faulted++;
      }
    }),
  );
  for (;;) {
    const left = await gateway.ctx.db
      .selectFrom('payouts')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', 'sending')
      .executeTakeFirstOrThrow();
    if (Number(left.n) === 0) break;
    await sleep(10);
  }
  const seconds = (performance.now() - started) / 1000;
  recovering = false;
  await recovery;
  await gateway.close();
  await sandbox.close();
  await database.drop();
  return { payouts: total, seconds, faulted };
}

console.log(
  `${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, Node ${process.version}, ${args.pg ? 'PostgreSQL' : 'SQLite'}`,
);
for (const faults of [false, true]) {
  const r = await run(faults);
  console.log(
    `${faults ? 'with faults   ' : 'without faults'}: ${r.payouts} payouts (half red packets, half transfers) in ${r.seconds.toFixed(2)} s = ` +
      `${(r.payouts / r.seconds).toFixed(0)} payouts/s; ${r.faulted} answered 'sending' and were finished by recovery`,
  );
}
