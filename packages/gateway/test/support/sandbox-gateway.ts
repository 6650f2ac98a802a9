// A gateway on a real database talking to the real sandbox (with the merchant's client certificate, so refunds
// work), a movable gateway clock, and helpers to get a paid intent.
import { type Sandbox, type SandboxOptions, startSandbox } from '@wxpay/sandbox';
import { buildGateway, type Gateway } from '../../src/index.ts';
import { type ApiCall, apiClient, type Json } from './api-client.ts';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.ts';
import { sandboxMerchantAccount } from './sandbox-account.ts';

export interface SandboxGateway {
  sandbox: Sandbox;
  gateway: Gateway;
  database: TestDatabase;
  url: string;
  key: string;
  accountId: string;
  /** Added to Date.now() by the gateway's clock; tests move it forward to make jobs due. */
  clock: { offsetMs: number };
  /** Moves the gateway's clock and WeChat's (the sandbox's) forward together. */
  advance(ms: number): Promise<void>;
  api: ApiCall;
  /** Creates a WEB intent and confirms it: a QR order placed at WeChat (requires_action). */
  qrIntent(amount: number): Promise<Json>;
  /** Creates a WAP intent and confirms it: an H5 order placed at WeChat, its mweb_url in next_action. */
  h5Intent(amount: number, returnUrl?: string): Promise<Json>;
  /** Creates a WEB intent, lets the sandbox payer pay it and waits until the gateway marks it succeeded. */
  paidIntent(amount: number): Promise<Json>;
  close(): Promise<void>;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startSandboxGateway(
  kind: DatabaseKind,
  {
    sandbox: sandboxOptions,
    ...options
  }: { wechatTimeoutMs?: number; intentTtlSeconds?: number; sandbox?: SandboxOptions } = {},
): Promise<SandboxGateway> {
  const sandbox = await startSandbox(sandboxOptions);
  const database = await createTestDatabase(kind);
  const clock = { offsetMs: 0 };
  const gateway = await buildGateway({
    databaseUrl: database.url,
    testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
    now: () => Date.now() + clock.offsetMs,
    ...options,
  });
  const url = await gateway.listen();
  const merchant = sandbox.merchants[0]!;
  const { accountId, key } = await sandboxMerchantAccount(gateway.ctx.db, merchant);
  const api = apiClient(url, key);
  const confirmedIntent = async (amount: number, terminalType: string, extra: Json = {}): Promise<Json> => {
    const created = await api('POST', '/v1/payment_intents', {
      amount,
      currency: 'CNY',
      confirm: true,
      payment_method_options: { wechat_pay: { terminal_type: terminalType, client_ip: '203.0.113.9' } },
      ...extra,
    });
    if (created.status !== 200) throw new Error(JSON.stringify(created.body));
    return created.body;
  };
  const qrIntent = (amount: number) => confirmedIntent(amount, 'WEB');

  return {
    sandbox,
    gateway,
    database,
    url,
    key,
    accountId,
    clock,
    api,
    async advance(ms) {
      clock.offsetMs += ms;
      await sandbox.clock.advance(ms / 1000);
    },
    qrIntent,
    h5Intent: (amount, returnUrl) =>
      confirmedIntent(amount, 'WAP', returnUrl === undefined ? {} : { return_url: returnUrl }),
    async paidIntent(amount) {
      const created = await qrIntent(amount);
      const paid = await sandbox.pay({
        code_url: created.next_action.wechat_pay_display_qr_code.image_data_url,
      });
      if (!paid.ok) throw new Error(JSON.stringify(paid));
      return waitFor('intent succeeded', async () => {
        const { body } = await api('GET', `/v1/payment_intents/${created.id}`);
        return body.status === 'succeeded' ? body : undefined;
      });
    },
    async close() {
      await gateway.close();
      await sandbox.close();
      await database.drop();
    },
  };
}
