// A gateway on a real database with the real sandbox, for the payout suites: API, jobs, ledger, faults.
import { createAccount, createApiKey } from '../../src/domain/accounts.ts';
import { randomToken } from '../../src/domain/ids.ts';
import { runPayoutRecovery } from '../../src/index.ts';
import type { DatabaseKind } from './databases.ts';
import { type SandboxGateway, startSandboxGateway } from './sandbox-gateway.ts';

export interface PayoutWorld extends SandboxGateway {
  mchId: string;
  appid: string;
  couponStockId: string;
  /** A key of an account with no client certificate. */
  noCertKey: string;
  /** Moves the gateway's clock past every lease and backoff, then runs the payout job once. */
  recover(): Promise<number>;
  /** The sandbox's money movements for one merchant number (mch_billno / partner_trade_no). */
  movements(ref: string): { kind: string; amount: number; ref: string }[];
}

export const openid = () => `o${randomToken(27)}`;

/** A POST /v1/redpacks body: a normal 1.50 yuan red packet to a new user, with `extra` on top. */
export const redpackBody = (extra: Record<string, unknown> = {}) => ({
  type: 'normal',
  re_openid: openid(),
  send_name: '测试商户',
  total_amount: 150,
  total_num: 1,
  wishing: '恭喜发财',
  act_name: '新年红包',
  remark: '新年红包',
  ...extra,
});

export async function startPayoutWorld(kind: DatabaseKind): Promise<PayoutWorld> {
  // A short WeChat timeout, so the fault suites' slow answers end as unknown outcomes quickly.
  const env = await startSandboxGateway(kind, { wechatTimeoutMs: 800 });
  const merchant = env.sandbox.merchants[0]!;
  const db = env.gateway.ctx.db;
  const bare = await createAccount(db, { appid: merchant.appid, mchId: merchant.mchId, key: merchant.key });
  const noCertKey = await createApiKey(db, bare.id, false);
  return {
    ...env,
    mchId: merchant.mchId,
    appid: merchant.appid,
    couponStockId: merchant.couponStockId,
    noCertKey,
    async recover() {
      env.clock.offsetMs += 2 * 60 * 60 * 1000;
      return runPayoutRecovery(env.gateway.ctx);
    },
    movements(ref) {
      return env.sandbox
        .ledger(merchant.mchId)
        .movements.filter((m) => m.ref === ref)
        .map((m) => ({ kind: m.kind, amount: m.amount, ref: m.ref }));
    },
  };
}
