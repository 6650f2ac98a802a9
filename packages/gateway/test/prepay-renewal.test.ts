// A prepay_id, and the code_url issued with it, lasts 2 hours at WeChat whatever the order's time_expire. An
// intent that lives longer (WXPAY_INTENT_TTL_SECONDS above 7200) is confirmed again for a fresh one, under the
// same out_trade_no, and the hosted checkout does that itself before it shows an old QR code. Real sandbox, which
// refuses an expired prepay as WeChat's client does, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventsOf, type Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';

const DAY_S = 24 * 3600;
const PREPAY_LIFETIME_MS = 2 * 3600_000;
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0';
const web = { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } };

for (const kind of DATABASE_KINDS) {
  describe(`renewing a prepay that outlives WeChat's 2 hours, on ${kind}`, () => {
    let s: SandboxGateway;
    before(async () => {
      s = await startSandboxGateway(kind, { intentTtlSeconds: DAY_S });
    });
    after(async () => {
      await s?.close();
    });

    const qrOf = (intent: Json): string => intent.next_action.wechat_pay_display_qr_code.image_data_url;
    const intent = async (id: string): Promise<Json> =>
      (await s.api('GET', `/v1/payment_intents/${id}`)).body;
    const succeeded = (id: string) =>
      waitFor('intent succeeded', async () => {
        const body = await intent(id);
        return body.status === 'succeeded' ? body : undefined;
      });

    test('after 2 hours the QR code is dead at WeChat; a confirm renews it for the same order, which is paid once', async () => {
      const created = await s.api('POST', '/v1/payment_intents', {
        amount: 2500,
        currency: 'CNY',
        confirm: true,
        payment_method_options: web,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      await s.advance(PREPAY_LIFETIME_MS + 60_000);
      const dead = s.sandbox.pay({ code_url: qrOf(created.body) });
      assert.equal(!dead.ok && dead.error.code, 'PREPAY_EXPIRED');

      const renewed = await s.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, {});
      assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
      assert.equal(renewed.body.status, 'requires_action');
      assert.equal(renewed.body.wechat_pay.out_trade_no, created.body.wechat_pay.out_trade_no);
      assert.notEqual(renewed.body.wechat_pay.prepay_id, created.body.wechat_pay.prepay_id);
      assert.notEqual(qrOf(renewed.body), qrOf(created.body));
      assert.ok(s.sandbox.pay({ code_url: qrOf(renewed.body) }).ok);
      const paid = await succeeded(created.body.id);
      assert.equal(paid.amount, 2500);
      const types = (await eventsOf(s.api, created.body.id)).map((e) => e.type);
      assert.equal(types.filter((t) => t === 'payment_intent.requires_action').length, 2);
      assert.equal(types.filter((t) => t === 'payment_intent.succeeded').length, 1);
    });

    test('a confirm within the 2 hours answers the same QR code, and nothing about the order may change', async () => {
      const created = await s.api('POST', '/v1/payment_intents', {
        amount: 300,
        currency: 'CNY',
        confirm: true,
        payment_method_options: web,
      });
      const again = await s.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(qrOf(again.body), qrOf(created.body));
      const changes: [Record<string, unknown>, string][] = [
        [
          { payment_method_options: { wechat_pay: { terminal_type: 'WAP' } } },
          'payment_method_options.wechat_pay.terminal_type',
        ],
        [
          { payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '198.51.100.7' } } },
          'payment_method_options.wechat_pay.client_ip',
        ],
        [{ return_url: 'https://shop.example/elsewhere' }, 'return_url'],
      ];
      for (const [body, param] of changes) {
        const refused = await s.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, body);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error.param, param);
        assert.match(
          refused.body.error.message,
          /cannot change while this PaymentIntent's order is open at WeChat/,
        );
      }
      const after = await intent(created.body.id);
      assert.equal(after.status, 'requires_action');
      assert.equal(after.payment_method_options.wechat_pay.terminal_type, 'WEB');
      assert.equal(qrOf(after), qrOf(created.body));
    });

    test('the hosted checkout renews an old QR code before it shows it', async () => {
      const { status, body: checkout } = await s.api('POST', '/v1/checkout/sessions', {
        amount: 990,
        currency: 'CNY',
        description: 'Mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
        expires_in: DAY_S,
      });
      assert.equal(status, 200, JSON.stringify(checkout));
      const open = async () => {
        const page = await fetch(checkout.url, { headers: { 'user-agent': DESKTOP } });
        assert.equal(page.status, 200);
        await page.text();
        const id = (await s.api('GET', `/v1/checkout/sessions/${checkout.id}`)).body.payment_intent;
        return intent(id);
      };
      const first = await open();
      assert.equal(first.status, 'requires_action');
      await s.advance(PREPAY_LIFETIME_MS - 10 * 60_000);
      assert.equal(qrOf(await open()), qrOf(first), 'still honoured: shown as it is');
      await s.advance(11 * 60_000);
      const shown = await open();
      assert.equal(shown.id, first.id, 'the same payment, not a new one');
      assert.equal(shown.wechat_pay.out_trade_no, first.wechat_pay.out_trade_no);
      assert.notEqual(qrOf(shown), qrOf(first));
      assert.ok(s.sandbox.pay({ code_url: qrOf(shown) }).ok);
      await succeeded(first.id);
      await waitFor('session complete', async () => {
        const { body } = await s.api('GET', `/v1/checkout/sessions/${checkout.id}`);
        return body.status === 'complete' ? body : undefined;
      });
    });
  });
}
