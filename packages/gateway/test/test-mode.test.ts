// A test key never reaches the real WeChat: without a sandbox, test mode refuses to call WeChat at all.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { MERCHANT } from '../../sdk/test/support/mock-wechat.ts';
import { createAccount, createApiKey } from '../src/domain/accounts.ts';
import { buildGateway, type Gateway } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';

describe('test mode without a sandbox', () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let url: string;
  let key: string;
  before(async () => {
    database = await createTestDatabase('sqlite');
    // Only live WeChat is configured; it points nowhere reachable, and must not be called either way.
    gateway = await buildGateway({
      databaseUrl: database.url,
      liveWechat: { baseUrl: 'https://127.0.0.1:9' },
    });
    const { id } = await createAccount(gateway.ctx.db, {
      appid: MERCHANT.appid,
      mchId: MERCHANT.mchId,
      key: MERCHANT.key,
    });
    key = await createApiKey(gateway.ctx.db, id, false);
    url = await gateway.listen();
  });
  after(async () => {
    await gateway?.close();
    await database?.drop();
  });

  test('confirming with a test key is a 400 that says to configure the sandbox', async () => {
    const response = await request(`${url}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        amount: 100,
        currency: 'CNY',
        confirm: true,
        payment_method_data: { type: 'wechat_pay' },
        payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
      }),
    });
    const body = (await response.body.json()) as { error: { code: string; message: string } };
    assert.equal(response.statusCode, 400);
    assert.equal(body.error.code, 'test_mode_not_configured');
    assert.match(body.error.message, /WXPAY_SANDBOX_URL/);
  });
});
