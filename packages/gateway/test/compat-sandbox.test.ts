// The Thinkjs-compatible routes against the real sandbox over HTTPS: toPay's code_url is paid by the sandbox payer,
// its signed notify settles the order, and queryOrder and the deal view say so.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Sandbox, startSandbox } from '@wxpay/sandbox';
import { sql } from 'kysely';
import { createAccount } from '../src/domain/accounts.ts';
import { buildGateway, type Gateway } from '../src/index.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.ts';
import type { Json } from './support/harness.ts';

for (const kind of DATABASE_KINDS) {
  describe(`compat routes with the sandbox on ${kind}`, () => {
    let sandbox: Sandbox;
    let database: TestDatabase;
    let gateway: Gateway;
    let url: string;

    before(async () => {
      sandbox = await startSandbox();
      database = await createTestDatabase(kind);
      gateway = await buildGateway({
        databaseUrl: database.url,
        testWechat: { baseUrl: sandbox.url, ca: sandbox.caCert },
      });
      url = await gateway.listen();
      const merchant = sandbox.merchants[0]!;
      // The only account: the compatible routes use it without WXPAY_COMPAT_ACCOUNT.
      await createAccount(gateway.ctx.db, {
        appid: merchant.appid,
        mchId: merchant.mchId,
        key: merchant.key,
      });
    });
    after(async () => {
      await gateway?.close();
      await sandbox?.close();
      await database?.drop();
    });

    const post = async (path: string, body: string, type = 'application/x-www-form-urlencoded') => {
      const response = await fetch(url + path, { method: 'POST', headers: { 'content-type': type }, body });
      const text = await response.text();
      return { status: response.status, text, body: JSON.parse(text) as Json };
    };

    test('toPay → the sandbox payer pays the code_url → queryOrder SUCCESS, deal status 1', async () => {
      const paying = await post('/wxPay/toPay', 'merchant_id=8&product_id=3&price=0.01');
      assert.equal(paying.status, 200, paying.text);
      const { code_url: codeUrl, order_id: orderId } = paying.body;
      assert.match(codeUrl[0], /^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/);
      assert.equal(paying.text, JSON.stringify({ code_url: codeUrl, order_id: orderId, code: 0, msg: '' }));

      const unpaid = await post('/wxPay/queryOrder', `order_id=${orderId}`);
      assert.deepEqual(unpaid.body, { trade_state: 'NOTPAY', trade_state_desc: '订单未支付' });

      const paid = await sandbox.pay({ code_url: codeUrl[0] });
      assert.ok(paid.ok, JSON.stringify(paid));
      const deadline = Date.now() + 10_000;
      let state: Json;
      do {
        await new Promise((r) => setTimeout(r, 50));
        state = (await post('/wxPay/queryOrder', JSON.stringify({ order_id: orderId }), 'application/json'))
          .body;
      } while (state.trade_state !== 'SUCCESS' && Date.now() < deadline);
      assert.deepEqual(state, { trade_state: 'SUCCESS', trade_state_desc: '支付成功' });

      const { rows } = await sql<Json>`SELECT * FROM deal WHERE order_id = ${orderId}`.execute(
        gateway.ctx.db,
      );
      assert.equal(rows.length, 1);
      assert.equal(rows[0].status, 1);
      assert.equal(rows[0].price, 0.01);
      assert.equal(rows[0].merchant_id, 8);
      assert.match(rows[0].transaction_id, /^\d{28}$/);

      const close = await post('/wxPay/doCloseOrder', `order_id=${orderId}`);
      assert.deepEqual(close.body, { code: 1, msg: '关单失败：订单已支付' });
    });
  });
}
