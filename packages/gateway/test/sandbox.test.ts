// End to end against the real sandbox: it plays the payer and delivers signed notifies over HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Sandbox, startSandbox } from '@wxpay/sandbox';
import { createAccount, createApiKey } from '../src/domain/accounts.ts';
import { buildGateway, type Gateway, startDev } from '../src/index.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.ts';
import type { Json } from './support/harness.ts';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const kind of DATABASE_KINDS) {
  describe(`gateway with the sandbox on ${kind}`, () => {
    let sandbox: Sandbox;
    let database: TestDatabase;
    let gateway: Gateway;
    let url: string;
    let key: string;

    const api = async (
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; body: Json }> => {
      const response = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: response.status, body: await response.json() };
    };

    before(async () => {
      sandbox = await startSandbox();
      database = await createTestDatabase(kind);
      gateway = await buildGateway({
        databaseUrl: database.url,
        testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
      });
      url = await gateway.listen();
      const merchant = sandbox.merchants[0]!;
      const { id } = await createAccount(gateway.ctx.db, {
        appid: merchant.appid,
        mchId: merchant.mchId,
        key: merchant.key,
      });
      key = await createApiKey(gateway.ctx.db, id, false);
    });
    after(async () => {
      await gateway?.close();
      await sandbox?.close();
      await database?.drop();
    });

    const flows: [string, Record<string, string>, (next: Json) => Record<string, string>][] = [
      ['WEB', {}, (next) => ({ code_url: next.wechat_pay_display_qr_code.image_data_url })],
      [
        'WAP',
        {},
        (next) => ({ mweb_url: next.wechat_pay_redirect_to_web.url.replace(/&redirect_url=.*$/, '') }),
      ],
      [
        'OFFICIAL_ACCOUNT',
        { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        (next) => ({ prepay_id: next.wechat_pay_official_account_params.package.slice(10) }),
      ],
      [
        'MINI_PROGRAM',
        { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        (next) => ({ prepay_id: next.wechat_pay_mini_program_params.package.slice(10) }),
      ],
      ['APP', {}, (next) => ({ prepay_id: next.wechat_pay_app_params.prepayid })],
    ];
    for (const [terminal, options, target] of flows) {
      test(`${terminal}: the sandbox payer pays and its notify makes the intent succeeded`, async () => {
        const created = await api('POST', '/v1/payment_intents', {
          amount: 1234,
          currency: 'CNY',
          confirm: true,
          return_url: 'https://shop.example/done',
          payment_method_options: {
            wechat_pay: { terminal_type: terminal, client_ip: '203.0.113.9', ...options },
          },
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        assert.equal(created.body.status, 'requires_action');
        const paid = await sandbox.pay(target(created.body.next_action));
        assert.ok(paid.ok, JSON.stringify(paid));
        const done = await waitFor('succeeded', async () => {
          const { body } = await api('GET', `/v1/payment_intents/${created.body.id}`);
          return body.status === 'succeeded' ? body : undefined;
        });
        assert.match(done.wechat_pay.transaction_id, /^\d{28}$/);
        const events = await api(
          'GET',
          `/v1/events?object_id=${created.body.id}&type=payment_intent.succeeded`,
        );
        assert.equal(events.body.data.length, 1);
      });
    }

    test('SCAN_CODE: a sandbox payment code is charged with micropay', async () => {
      const { auth_code } = sandbox.paymentCode();
      const created = await api('POST', '/v1/payment_intents', {
        amount: 88,
        currency: 'CNY',
        confirm: true,
        payment_method_data: { type: 'wechat_pay', wechat_pay: { payment_code: auth_code } },
        payment_method_options: { wechat_pay: { terminal_type: 'SCAN_CODE' } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      if (created.body.status === 'processing') {
        // The sandbox may ask the payer for a password (USERPAYING): orderquery settles it.
        await waitFor('micropay result', async () => {
          gateway.ctx.now = () => Date.now() + 10_000;
          await gateway.runJobs();
          const { body } = await api('GET', `/v1/payment_intents/${created.body.id}`);
          return body.status === 'succeeded' ? body : undefined;
        });
      } else {
        assert.equal(created.body.status, 'succeeded');
      }
    });
  });
}

describe('startDev', () => {
  test('starts sandbox + gateway on SQLite under .wxpay, writes dev.json, and keeps the key across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-dev-'));
    try {
      const first = await startDev({ dir });
      const written = JSON.parse(readFileSync(join(dir, '.wxpay', 'dev.json'), 'utf8'));
      assert.deepEqual(Object.keys(written).sort(), [
        'account_id',
        'dashboard_url',
        'gateway_url',
        'sandbox_url',
        'secret_key',
      ]);
      assert.match(written.secret_key, /^sk_test_/);
      const response = await fetch(`${first.gateway_url}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${first.secret_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          amount: 100,
          currency: 'CNY',
          confirm: true,
          payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
        }),
      });
      const intent = (await response.json()) as Json;
      assert.equal(intent.status, 'requires_action', JSON.stringify(intent));
      await first.close();
      const second = await startDev({ dir });
      assert.equal(second.secret_key, first.secret_key);
      assert.equal(second.account_id, first.account_id);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
