// The bench's server processes: `sandbox` (the WeChat simulator) and `gateway` (the gateway on a fresh SQLite
// file, plus the ceiling: a bare Fastify route making the same unifiedorder call to the sandbox, no database).
import { randomBytes } from 'node:crypto';
import { startSandbox } from '@wxpay/sandbox';
import { WechatPay } from '@wxpay/sdk';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { buildGateway, createAccount, createApiKey } from '../../packages/gateway/src/index.ts';
import { createTestDatabase, type DatabaseKind } from '../../packages/gateway/test/support/databases.ts';
import { addFloorRoute } from './floor.ts';

export interface SandboxInfo {
  url: string;
  caCert: string;
  merchant: { appid: string; mchId: string; key: string };
}

export interface GatewayInfo {
  gatewayUrl: string;
  ceilingUrl: string;
  /** The floor's route (floor.ts) on the ceiling's server; SQLite only. */
  floorUrl: string | undefined;
  secretKey: string;
  accountId: string;
}

const send = (message: unknown) => process.send?.(message);

// Every role answers `cpu` with its CPU time so far, so the bench can tell which process a request costs.
process.on('message', (message: { type: string }) => {
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    // The event loop's busy time: the main thread's share, apart from libuv's pool (the log syncs) and GC threads.
    send({
      type: 'cpu',
      micros: user + system,
      loopMicros: performance.eventLoopUtilization().active * 1000,
    });
  }
});

async function sandboxRole(): Promise<void> {
  const sandbox = await startSandbox();
  const merchant = sandbox.merchants[0]!;
  send({
    type: 'ready',
    info: {
      url: sandbox.url,
      caCert: sandbox.caCert,
      merchant: { appid: merchant.appid, mchId: merchant.mchId, key: merchant.key },
    } satisfies SandboxInfo,
  });
}

async function gatewayRole(
  sandbox: SandboxInfo,
  kind: DatabaseKind,
  synchronous: string | undefined,
): Promise<void> {
  // A fresh SQLite file, or a fresh PostgreSQL database on the server WXPAY_TEST_PG_URL names.
  const database = await createTestDatabase(kind);
  const gateway = await buildGateway({
    databaseUrl: database.url,
    testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
  });
  // The gateway runs SQLite at synchronous=NORMAL and fdatasyncs the log off the event loop before a commit
  // resolves (db/sqlite-driver.ts); --synchronous FULL adds SQLite's own fsync inside COMMIT, for comparison.
  if (synchronous && kind === 'sqlite')
    await sql.raw(`PRAGMA synchronous = ${synchronous.replace(/\W/g, '')}`).execute(gateway.ctx.db);
  const gatewayUrl = await gateway.listen();
  const { id: accountId } = await createAccount(gateway.ctx.db, {
    appid: sandbox.merchant.appid,
    mchId: sandbox.merchant.mchId,
    key: sandbox.merchant.key,
  });
  const secretKey = await createApiKey(gateway.ctx.db, accountId, false);

  // The ceiling: what the gateway's create does at WeChat, and nothing else. Same SDK, same client options.
  const client = new WechatPay({
    appid: sandbox.merchant.appid,
    mchId: sandbox.merchant.mchId,
    key: sandbox.merchant.key,
    signType: 'MD5',
    baseUrl: sandbox.url,
    ca: sandbox.caCert,
    timeoutMs: gateway.config.wechatTimeoutMs,
  });
  const ceiling = Fastify({ logger: false });
  ceiling.post('/v1/payment_intents', async (request) => {
    const body = request.body as { amount: number; currency: string };
    const outTradeNo = randomBytes(12).toString('hex');
    const now = Date.now();
    const reply = await client.unifiedOrder({
      body: 'wxpay',
      out_trade_no: outTradeNo,
      total_fee: body.amount,
      fee_type: body.currency,
      spbill_create_ip: '127.0.0.1',
      trade_type: 'NATIVE',
      notify_url: `${gatewayUrl}/notify/wechatpay/${accountId}`,
      time_start: wechatTime(now),
      time_expire: wechatTime(now + 7_200_000),
      product_id: outTradeNo,
    });
    return { code_url: reply.code_url };
  });
  // The floor works on a copy of the gateway's file taken now: the same schema, account and key.
  let closeFloor = async () => {};
  const floorPath = kind === 'sqlite' ? `${database.url.slice('sqlite:'.length)}-floor` : undefined;
  if (floorPath) {
    await sql`VACUUM INTO ${floorPath}`.execute(gateway.ctx.db);
    closeFloor = await addFloorRoute(ceiling, {
      databasePath: floorPath,
      client,
      notifyUrl: `${gatewayUrl}/notify/wechatpay/${accountId}`,
      wechatTime,
    });
  }
  await ceiling.listen({ port: 0, host: '127.0.0.1' });
  const address = ceiling.server.address() as { port: number };
  send({
    type: 'ready',
    info: {
      gatewayUrl,
      ceilingUrl: `http://127.0.0.1:${address.port}`,
      floorUrl: floorPath ? `http://127.0.0.1:${address.port}/floor` : undefined,
      secretKey,
      accountId,
    } satisfies GatewayInfo,
  });
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'open_intents') {
      const rows = await gateway.ctx.db
        .selectFrom('payment_intents')
        .select(['out_trade_no', 'amount'])
        .where('status', '=', 'requires_action')
        .execute();
      send({ type: 'open_intents', rows });
    } else if (message.type === 'counts') {
      const count = async (status: string) =>
        Number(
          (
            await gateway.ctx.db
              .selectFrom('payment_intents')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('status', '=', status)
              .executeTakeFirstOrThrow()
          ).n,
        );
      send({ type: 'counts', succeeded: await count('succeeded'), open: await count('requires_action') });
    } else if (message.type === 'stop') {
      await ceiling.close();
      await closeFloor();
      await client.close();
      await gateway.close();
      await database.drop();
      process.exit(0);
    }
  });
}

function wechatTime(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

const role = process.argv[2];
if (role === 'sandbox') await sandboxRole();
else if (role === 'gateway')
  await gatewayRole(
    JSON.parse(process.argv[3]!) as SandboxInfo,
    process.argv[4] as DatabaseKind,
    process.argv[5] || undefined,
  );
else throw new Error(`unknown role ${role}`);
