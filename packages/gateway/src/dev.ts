// startDev: `wxpay dev` — an in-process sandbox and the gateway on SQLite under <dir>/.wxpay/, in test mode.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startSandbox } from '@wxpay/sandbox';
import type { FastifyServerOptions } from 'fastify';
import { createAccount, createApiKey } from './domain/accounts.js';
import { buildGateway, type Gateway } from './gateway.js';

export interface DevOptions {
  /** The project directory; state goes to <dir>/.wxpay/. Default: the current directory. */
  dir?: string;
  /** Gateway port (default: a free one). */
  port?: number;
  /** Sandbox port (default: a free one). */
  sandboxPort?: number;
  logger?: FastifyServerOptions['logger'];
  /** Worker interval for orderquery follow-ups and expiry; default 5 s. */
  workerIntervalMs?: number;
}

export interface DevInfo {
  gateway_url: string;
  /** The dashboard; log in with secret_key. */
  dashboard_url: string;
  secret_key: string;
  sandbox_url: string;
  account_id: string;
}

export interface DevServer extends DevInfo {
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startDev(options: DevOptions = {}): Promise<DevServer> {
  const stateDir = join(resolve(options.dir ?? '.'), '.wxpay');
  mkdirSync(stateDir, { recursive: true });
  const sandbox = await startSandbox({ dataDir: join(stateDir, 'sandbox'), port: options.sandboxPort });
  let gateway: Gateway | undefined;
  try {
    gateway = await buildGateway({
      databaseUrl: `sqlite:${join(stateDir, 'gateway.sqlite')}`,
      testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
      logger: options.logger,
      worker: true,
      workerIntervalMs: options.workerIntervalMs ?? 5_000,
    });
    const gatewayUrl = await gateway.listen({ port: options.port ?? 0 });
    const infoPath = join(stateDir, 'dev.json');
    const previous = existsSync(infoPath)
      ? (JSON.parse(readFileSync(infoPath, 'utf8')) as Partial<DevInfo>)
      : {};
    const merchant = sandbox.merchants[0]!;
    const db = gateway.ctx.db;
    let accountId = previous.account_id;
    let secretKey = previous.secret_key;
    const known = accountId
      ? await db
          .selectFrom('accounts')
          .select(['id', 'mch_id'])
          .where('id', '=', accountId)
          .executeTakeFirst()
      : undefined;
    if (!known || known.mch_id !== merchant.mchId || !secretKey) {
      // First run (or the state was reset): one account for the sandbox merchant and a test key.
      accountId = (
        await createAccount(db, {
          name: 'dev',
          appid: merchant.appid,
          mchId: merchant.mchId,
          key: merchant.key,
          // The client certificate: micropay reverse (and refunds) need it.
          pfx: merchant.pfx,
          passphrase: merchant.passphrase,
        })
      ).id;
      secretKey = await createApiKey(db, accountId, false);
    }
    const info: DevInfo = {
      gateway_url: gatewayUrl,
      dashboard_url: `${gatewayUrl}/dashboard`,
      secret_key: secretKey,
      sandbox_url: sandbox.url,
      account_id: accountId!,
    };
    writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    const running = gateway;
    return {
      ...info,
      gateway: running,
      async close() {
        await running.close();
        await sandbox.close();
      },
    };
  } catch (error) {
    await gateway?.close();
    await sandbox.close();
    throw error;
  }
}
