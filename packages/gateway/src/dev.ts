// startDev: `wxpay dev` — an in-process sandbox and the gateway on SQLite under <dir>/.wxpay/, in test mode.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startSandbox } from '@wxpay/sandbox';
import type { FastifyServerOptions } from 'fastify';
import { ConfigurationError } from './config.js';
import type { Db } from './db/schema.js';
import { authenticate, createAccount, createApiKey } from './domain/accounts.js';
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
  /**
   * True when dev.json's test key no longer authenticated (revoked, say, or not a test key of its account)
   * and a new one was created for the same account; dev.json now holds the new key.
   */
  replacedKey: boolean;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startDev(options: DevOptions = {}): Promise<DevServer> {
  const stateDir = join(resolve(options.dir ?? '.'), '.wxpay');
  const infoPath = join(stateDir, 'dev.json');
  // Read before anything starts: an unreadable dev.json stops the start and is left as it is.
  const previous = readPreviousInfo(infoPath);
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
    const merchant = sandbox.merchants[0]!;
    const db = gateway.ctx.db;
    const known = previous.account_id
      ? await db
          .selectFrom('accounts')
          .select(['id', 'mch_id'])
          .where('id', '=', previous.account_id)
          .executeTakeFirst()
      : undefined;
    let accountId: string;
    let secretKey: string;
    let replacedKey = false;
    if (!known || known.mch_id !== merchant.mchId) {
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
    } else {
      accountId = known.id;
      const kept = await workingTestKey(db, accountId, previous.secret_key);
      // A key revoked in the dashboard would be printed, and answered 401; the account keeps its data.
      replacedKey = kept === undefined;
      secretKey = kept ?? (await createApiKey(db, accountId, false));
    }
    const info: DevInfo = {
      gateway_url: gatewayUrl,
      dashboard_url: `${gatewayUrl}/dashboard`,
      secret_key: secretKey,
      sandbox_url: sandbox.url,
      account_id: accountId,
    };
    writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    const running = gateway;
    return {
      ...info,
      replacedKey,
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

/** `key` when it still authenticates as a test key of `accountId`; undefined when it is missing, revoked or another's. */
async function workingTestKey(
  db: Db,
  accountId: string,
  key: string | undefined,
): Promise<string | undefined> {
  const auth = key === undefined ? undefined : await authenticate(db, key);
  return auth && auth.accountId === accountId && !auth.livemode ? key : undefined;
}

/**
 * What the last start wrote to dev.json; nothing on a first run. A file that cannot be read is refused, not
 * replaced: it holds the account id and key, and the user decides whether to start over.
 */
function readPreviousInfo(path: string): Partial<Pick<DevInfo, 'account_id' | 'secret_key'>> {
  const refuse = (problem: string, cause?: unknown) =>
    new ConfigurationError(
      path,
      `${problem}; this file keeps the dev account id and test key: repair it, or delete it to start over with a new account and key`,
      cause === undefined ? undefined : { cause },
    );
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw refuse(
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      error,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Neither the parser's message nor its error: they quote the text around the fault, which may be the key.
    throw refuse('is not valid JSON (cut short?)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw refuse('is not a JSON object');
  const { account_id, secret_key } = parsed as Record<string, unknown>;
  return {
    account_id: typeof account_id === 'string' ? account_id : undefined,
    secret_key: typeof secret_key === 'string' ? secret_key : undefined,
  };
}
