// Benchmark: the hosted checkout page (GET /checkout/:id) against a bare Fastify route serving the same bytes
// in the same process, and the dashboard's payments list (HTML page and GET /v1/payment_intents) with 100k and 1M
// payments seeded into SQLite (multi-row INSERTs in one transaction), first page and a deep keyset page.
// Run: node --conditions=source --import tsx bench/gateway/checkout-dashboard.ts [--sizes 100000,1000000 --seconds 8]
// The servers run in a forked child (sandbox + gateway + bare route); autocannon runs here.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from '@wxpay/sandbox';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import Fastify from 'fastify';
import { startDashboardSession } from '../../packages/gateway/src/domain/dashboard-sessions.ts';
import { buildGateway, createAccount, createApiKey } from '../../packages/gateway/src/index.ts';

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    sizes: { type: 'string', default: '100000,1000000' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '10' },
  },
});

interface ServerInfo {
  gatewayUrl: string;
  bareUrl: string;
  checkoutPath: string;
  secretKey: string;
  cookie: string;
  pageBytes: number;
}

type ToChild = { type: 'seed'; total: number };
type FromChild =
  | { type: 'ready'; info: ServerInfo }
  | { type: 'seeded'; total: number; seconds: number; deepId: string; plans: string[] };

const COLUMNS = [
  'id',
  'account_id',
  'livemode',
  'amount',
  'currency',
  'status',
  'out_trade_no',
  'terminal_type',
  'trade_type',
  'description',
  'metadata',
  'query_count',
  'expires_at',
  'created',
  'updated',
  'amount_refunded',
  'refund_count',
];
const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'canceled', 'requires_payment_method'];
const TERMINALS = ['WEB', 'WAP', 'OFFICIAL_ACCOUNT', 'APP'];

async function serverRole(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-bench-dashboard-'));
  const file = join(dir, 'gateway.sqlite');
  const sandbox = await startSandbox();
  const gateway = await buildGateway({
    databaseUrl: `sqlite:${file}`,
    testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
  });
  const gatewayUrl = await gateway.listen();
  const merchant = sandbox.merchants[0]!;
  const { id: accountId } = await createAccount(gateway.ctx.db, {
    appid: merchant.appid,
    mchId: merchant.mchId,
    key: merchant.key,
  });
  const secretKey = await createApiKey(gateway.ctx.db, accountId, false);
  const created = (await (
    await fetch(`${gatewayUrl}/v1/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        amount: 1234,
        currency: 'CNY',
        description: 'Bench mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
        expires_in: 86_400,
      }),
    })
  ).json()) as { id: string };
  const checkoutPath = `/checkout/${created.id}`;
  // The first render places the NATIVE order at the sandbox; later renders show the stored QR code.
  const page = await fetch(gatewayUrl + checkoutPath, {
    headers: { 'user-agent': 'Mozilla/5.0 (X11) Chrome/130' },
  });
  const html = await page.text();
  if (!page.ok || !html.includes('<svg')) throw new Error(`checkout page: ${page.status}`);
  const session = await startDashboardSession(gateway.ctx, secretKey);
  if (!session) throw new Error('no dashboard session');

  // The bare route: same process, same bytes and content type, no database and no rendering.
  const bare = Fastify({ logger: false });
  bare.get('/bare', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

  const raw = new SQLite(file);
  raw.pragma('journal_mode = WAL');
  let seeded = 0;
  const seed = (total: number) => {
    const perStatement = 500;
    const placeholders = `(${COLUMNS.map(() => '?').join(',')})`;
    const insert = raw.prepare(
      `INSERT INTO payment_intents (${COLUMNS.join(',')}) VALUES ${Array(perStatement).fill(placeholders).join(',')}`,
    );
    const now = Date.now();
    const span = 365 * 86_400_000;
    const batch = raw.transaction((from: number, to: number) => {
      for (let i = from; i < to; i += perStatement) {
        const values: unknown[] = [];
        for (let j = i; j < i + perStatement; j++) {
          // Spread over a year, older first; ids sort by creation like the gateway's.
          const at = now - span + Math.floor((j / 1_000_000) * span);
          const id = `pi_${j.toString(36).padStart(8, '0')}${randomBytes(8).toString('hex')}`;
          values.push(
            id,
            accountId,
            0,
            100 + (j % 50_000),
            'CNY',
            STATUSES[j % STATUSES.length],
            `${j.toString().padStart(24, '0')}`,
            TERMINALS[j % TERMINALS.length],
            'NATIVE',
            `Seeded order ${j}`,
            '{}',
            0,
            at + 7_200_000,
            at,
            at,
            0,
            0,
          );
        }
        insert.run(values);
      }
    });
    const t0 = process.hrtime.bigint();
    batch(seeded, total);
    raw.exec('ANALYZE');
    seeded = total;
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  // A cursor 90 % of the way down the newest-first list (the 0.9·total-th newest row).
  const deepId = (total: number) =>
    (
      raw
        .prepare(
          'SELECT id FROM payment_intents WHERE account_id = ? AND livemode = 0 ORDER BY created DESC, id DESC LIMIT 1 OFFSET ?',
        )
        .get(accountId, Math.floor(total * 0.9)) as { id: string }
    ).id;
  const plans = (cursorId: string) => {
    const cursor = raw.prepare('SELECT created FROM payment_intents WHERE id = ?').get(cursorId) as {
      created: number;
    };
    // The predicate as paginate() writes it.
    const explain = (sqlText: string, params: unknown[]) =>
      (raw.prepare(`EXPLAIN QUERY PLAN ${sqlText}`).all(...params) as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
    const base =
      'SELECT * FROM payment_intents WHERE account_id = ? AND livemode = 0 AND created <= ? AND (created < ? OR (created = ? AND id < ?)) ORDER BY created DESC, id DESC LIMIT 26';
    return [
      `first page: ${explain('SELECT * FROM payment_intents WHERE account_id = ? AND livemode = 0 ORDER BY created DESC, id DESC LIMIT 26', [accountId])}`,
      `deep page: ${explain(base, [accountId, cursor.created, cursor.created, cursor.created, cursorId])}`,
      `deep page, status=succeeded: ${explain(base.replace('livemode = 0 AND', "livemode = 0 AND status = 'succeeded' AND"), [accountId, cursor.created, cursor.created, cursor.created, cursorId])}`,
    ];
  };

  process.on('message', (message: ToChild) => {
    if (message.type !== 'seed') return;
    const seconds = seed(message.total);
    const deep = deepId(message.total);
    process.send?.({
      type: 'seeded',
      total: message.total,
      seconds,
      deepId: deep,
      plans: plans(deep),
    } satisfies FromChild);
  });
  process.on('SIGTERM', async () => {
    raw.close();
    await bare.close();
    await gateway.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  process.send?.({
    type: 'ready',
    info: {
      gatewayUrl,
      bareUrl,
      checkoutPath,
      secretKey,
      cookie: `wxpay_dashboard=${session.token}`,
      pageBytes: Buffer.byteLength(html),
    },
  } satisfies FromChild);
}

interface Figures {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  bad: number;
}

async function load(url: string, headers: Record<string, string> = {}): Promise<Figures> {
  const result = await autocannon({
    url,
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0', ...headers },
    connections: Number(args.connections),
    duration: Number(args.seconds),
  });
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

const row = (name: string, f: Figures) =>
  `| ${name} | ${f.reqPerSec.toFixed(0)} | ${f.p50} | ${f.p99} | ${f.requests} | ${f.bad} |`;
const HEADER =
  '| run | req/s | p50 ms | p99 ms | requests | non-2xx + errors |\n| --- | --- | --- | --- | --- | --- |';

async function main(): Promise<void> {
  const child = fork(import.meta.filename, ['--role', 'server'], {
    execArgv: ['--conditions=source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<FromChild>((resolve, reject) => {
      child.once('message', (m) => resolve(m as FromChild));
      child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    });
  try {
    const ready = await next();
    if (ready.type !== 'ready') throw new Error('unexpected message');
    const info = ready.info;
    console.log(
      `checkout page: ${info.pageBytes} bytes; ${args.connections} connections, ${args.seconds} s per run`,
    );
    console.log(HEADER);
    console.log(row('GET /checkout/:id (desktop, QR)', await load(info.gatewayUrl + info.checkoutPath)));
    console.log(row('bare route, same bytes', await load(`${info.bareUrl}/bare`)));
    for (const size of args.sizes.split(',').map(Number)) {
      child.send({ type: 'seed', total: size } satisfies ToChild);
      const seeded = await next();
      if (seeded.type !== 'seeded') throw new Error('unexpected message');
      console.log(
        `\n${size} payments (seeding the rows added and ANALYZE took ${seeded.seconds.toFixed(1)} s)`,
      );
      for (const plan of seeded.plans) console.log(`  plan ${plan}`);
      console.log(HEADER);
      const cookie = { cookie: info.cookie };
      const bearer = { authorization: `Bearer ${info.secretKey}` };
      const deep = encodeURIComponent(seeded.deepId);
      console.log(
        row('dashboard /payments, first page', await load(`${info.gatewayUrl}/dashboard/payments`, cookie)),
      );
      console.log(
        row(
          'dashboard /payments, deep page (90 %)',
          await load(`${info.gatewayUrl}/dashboard/payments?starting_after=${deep}`, cookie),
        ),
      );
      console.log(
        row(
          'dashboard /payments?status=succeeded, deep',
          await load(`${info.gatewayUrl}/dashboard/payments?status=succeeded&starting_after=${deep}`, cookie),
        ),
      );
      console.log(
        row(
          'GET /v1/payment_intents?limit=25',
          await load(`${info.gatewayUrl}/v1/payment_intents?limit=25`, bearer),
        ),
      );
      console.log(
        row(
          'GET /v1/payment_intents, deep page',
          await load(`${info.gatewayUrl}/v1/payment_intents?limit=25&starting_after=${deep}`, bearer),
        ),
      );
    }
  } finally {
    child.kill('SIGTERM');
  }
}

if (args.role === 'server') await serverRole();
else await main();
