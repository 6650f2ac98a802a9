// Benchmark: webhook deliveries/s to a local receiver answering 200, and the refund create → succeeded
// cycle/s through the sandbox (refund call, settlement, refund notify). One process, SQLite (and PostgreSQL with
// --pg ADMIN_URL, a fresh database on that server for each run).
// Run: node --conditions=source --import tsx bench/gateway/refunds-webhooks.ts [--events 3000 --refunds 300]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { startSandbox } from '@wxpay/sandbox';
import { recordEvent } from '../../packages/gateway/src/domain/events.ts';
import {
  buildGateway,
  createAccount,
  createApiKey,
  runWebhookDeliveries,
} from '../../packages/gateway/src/index.ts';
import { createTestDatabase } from '../../packages/gateway/test/support/databases.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '3000' },
    refunds: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '32' },
    pg: { type: 'string', default: '' },
  },
});
// --pg names the PostgreSQL server on which each run creates (and drops) its own database.
if (args.pg) process.env.WXPAY_TEST_PG_URL = args.pg;
const concurrency = Number(args.concurrency);

/** A fresh SQLite file, or a fresh database on the PostgreSQL server --pg names. */
const database = (kind: 'sqlite' | 'pg') => createTestDatabase(kind === 'pg' ? 'postgres' : 'sqlite');

async function webhooks(kind: 'sqlite' | 'pg'): Promise<number> {
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const db = await database(kind);
  const gateway = await buildGateway({ databaseUrl: db.url });
  const url = await gateway.listen();
  const { id } = await createAccount(gateway.ctx.db, {
    appid: 'wx0000000000000003',
    mchId: '1900000003',
    key: 'k'.repeat(32),
  });
  const key = await createApiKey(gateway.ctx.db, id, false);
  await fetch(`${url}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
      enabled_events: ['*'],
    }),
  });
  const n = Number(args.events);
  const now = Date.now();
  for (let i = 0; i < n; i++)
    await recordEvent(
      gateway.ctx.db,
      {
        accountId: id,
        livemode: false,
        type: 'payment_intent.succeeded',
        objectId: `pi_${i}`,
        data: { id: `pi_${i}`, amount: i },
      },
      now,
    );
  const started = performance.now();
  while (received < n) await runWebhookDeliveries(gateway.ctx, { limit: 500, concurrency });
  const seconds = (performance.now() - started) / 1000;
  await gateway.close();
  await db.drop();
  await new Promise((r) => receiver.close(r));
  return n / seconds;
}

async function refunds(kind: 'sqlite' | 'pg'): Promise<number> {
  const sandbox = await startSandbox();
  const db = await database(kind);
  const gateway = await buildGateway({
    databaseUrl: db.url,
    testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
  });
  const url = await gateway.listen();
  const m = sandbox.merchants[0]!;
  const { id } = await createAccount(gateway.ctx.db, {
    appid: m.appid,
    mchId: m.mchId,
    key: m.key,
    pfx: m.pfx,
    passphrase: m.passphrase,
  });
  const key = await createApiKey(gateway.ctx.db, id, false);
  // biome-ignore lint/suspicious/noExplicitAny: bench JSON
  const api = async (method: string, path: string, body?: unknown): Promise<any> =>
    (
      await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      })
    ).json();
  const n = Number(args.refunds);
  const intents: string[] = [];
  for (let i = 0; i < n; i++) {
    const pi = await api('POST', '/v1/payment_intents', {
      amount: 100,
      currency: 'CNY',
      confirm: true,
      payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
    });
    await sandbox.pay({ code_url: pi.next_action.wechat_pay_display_qr_code.image_data_url });
    intents.push(pi.id);
  }
  for (;;) {
    const paid = await gateway.ctx.db
      .selectFrom('payment_intents')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', 'succeeded')
      .executeTakeFirstOrThrow();
    if (Number(paid.n) >= n) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await api('POST', '/v1/refunds', { payment_intent: intents[next++] });
    }),
  );
  await sandbox.clock.advance(6); // the sandbox settles refunds after 5 simulated seconds, then notifies
  for (;;) {
    const done = await gateway.ctx.db
      .selectFrom('refunds')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', 'succeeded')
      .executeTakeFirstOrThrow();
    if (Number(done.n) >= n) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  await gateway.close();
  await sandbox.close();
  await db.drop();
  return n / seconds;
}

console.log(`node ${process.version}, ${cpus().length}× ${cpus()[0]?.model}`);
for (const kind of ['sqlite', ...(args.pg ? ['pg' as const] : [])] as const) {
  console.log(`${kind}: webhook deliveries/s ${(await webhooks(kind)).toFixed(0)}`);
  console.log(`${kind}: refund create → succeeded cycles/s ${(await refunds(kind)).toFixed(0)}`);
}
