// A gateway on a real database with the real sandbox, for the payout suites: API, jobs, ledger, faults.
import { type Sandbox, startSandbox } from '@wxpay/sandbox';
import { createAccount, createApiKey } from '../../src/domain/accounts.ts';
import { randomToken } from '../../src/domain/ids.ts';
import { buildGateway, type Gateway, runPayoutRecovery } from '../../src/index.ts';
import { apiClient } from './api-client.ts';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.ts';
import type { Json } from './harness.ts';
import { sandboxMerchantAccount } from './sandbox-account.ts';

export interface PayoutWorld {
  sandbox: Sandbox;
  gateway: Gateway;
  accountId: string;
  mchId: string;
  appid: string;
  couponStockId: string;
  key: string;
  /** A key of an account with no client certificate. */
  noCertKey: string;
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Json; headers: Headers }>;
  /** Moves the gateway's clock past every lease and backoff, then runs the payout job once. */
  recover(): Promise<number>;
  /** The sandbox's money movements for one merchant number (mch_billno / partner_trade_no). */
  movements(ref: string): { kind: string; amount: number; ref: string }[];
  close(): Promise<void>;
}

export const openid = () => `o${randomToken(27)}`;

export async function startPayoutWorld(kind: DatabaseKind): Promise<PayoutWorld> {
  const sandbox = await startSandbox();
  const database: TestDatabase = await createTestDatabase(kind);
  // Real time plus an offset that recover() moves forward past leases and backoffs.
  const clock = { offset: 0 };
  const gateway = await buildGateway({
    databaseUrl: database.url,
    testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
    wechatTimeoutMs: 800,
    now: () => Date.now() + clock.offset,
  });
  const url = await gateway.listen();
  const merchant = sandbox.merchants[0]!;
  const db = gateway.ctx.db;
  const { accountId, key } = await sandboxMerchantAccount(db, merchant);
  const bare = await createAccount(db, { appid: merchant.appid, mchId: merchant.mchId, key: merchant.key });
  const noCertKey = await createApiKey(db, bare.id, false);
  return {
    sandbox,
    gateway,
    accountId,
    mchId: merchant.mchId,
    appid: merchant.appid,
    couponStockId: merchant.couponStockId,
    key,
    noCertKey,
    api: apiClient(url, key),
    async recover() {
      clock.offset += 2 * 60 * 60 * 1000;
      return runPayoutRecovery(gateway.ctx);
    },
    movements(ref) {
      return sandbox
        .ledger(merchant.mchId)
        .movements.filter((m) => m.ref === ref)
        .map((m) => ({ kind: m.kind, amount: m.amount, ref: m.ref }));
    },
    async close() {
      await gateway.close();
      await sandbox.close();
      await database.drop();
    },
  };
}
