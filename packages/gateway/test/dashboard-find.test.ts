// The dashboard's Find: the reference support is given (a payment id, 商户单号, 交易单号, a refund's numbers, or
// the number of an order the payment gave up after it failed) opens that payment; anything else, or another
// mode's payment, says that nothing has it. Real sandbox, SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createApiKey } from '../src/domain/accounts.ts';
import { startDashboardSession } from '../src/domain/dashboard-sessions.ts';
import type { Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';

for (const kind of DATABASE_KINDS) {
  describe(`the dashboard's Find on ${kind}`, () => {
    let s: SandboxGateway;
    let cookie: string;
    let paid: Json;
    let refund: Json;
    let retried: Json;
    let retiredNumber: string;
    before(async () => {
      s = await startSandboxGateway(kind);
      const session = await startDashboardSession(s.gateway.ctx, s.key);
      assert.ok(session);
      cookie = `wxpay_dashboard=${session.token}`;

      paid = await s.paidIntent(1800);
      const refunded = await s.api('POST', '/v1/refunds', { payment_intent: paid.id, amount: 800 });
      assert.equal(refunded.status, 200, JSON.stringify(refunded.body));
      await s.sandbox.clock.advance(6);
      refund = await waitFor('refund settled', async () => {
        const { body } = await s.api('GET', `/v1/refunds/${refunded.body.id}`);
        return body.status === 'succeeded' && body.wechat_pay?.refund_id ? body : undefined;
      });

      // A payment whose first order failed, paid on its second.
      const failed = await s.qrIntent(600);
      retiredNumber = failed.wechat_pay.out_trade_no;
      s.sandbox.pay(
        { code_url: failed.next_action.wechat_pay_display_qr_code.image_data_url },
        { outcome: 'PAYERROR' },
      );
      await s.api('POST', `/v1/payment_intents/${failed.id}/client_result`, {
        err_msg: 'get_brand_wcpay_request:ok',
      });
      const again = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {});
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.notEqual(again.body.wechat_pay.out_trade_no, retiredNumber);
      retried = again.body;
    });
    after(async () => {
      await s?.close();
    });

    const find = (ref: string, as = cookie) =>
      fetch(`${s.url}/dashboard/payments/find?ref=${encodeURIComponent(ref)}`, {
        redirect: 'manual',
        headers: { cookie: as },
      });

    test('each of a payment’s references opens it', async () => {
      const cases: [string, string, string][] = [
        ['payment id', paid.id, paid.id],
        ['out_trade_no', paid.wechat_pay.out_trade_no, paid.id],
        ['transaction_id', paid.wechat_pay.transaction_id, paid.id],
        ['refund id', refund.id, paid.id],
        ['out_refund_no', refund.wechat_pay.out_refund_no, paid.id],
        ['refund_id', refund.wechat_pay.refund_id, paid.id],
        ['an order number given up after a failure', retiredNumber, retried.id],
        ['the number that replaced it', retried.wechat_pay.out_trade_no, retried.id],
        ['with spaces around it, as pasted', `  ${paid.wechat_pay.transaction_id}\n`, paid.id],
      ];
      for (const [what, ref, id] of cases) {
        assert.ok(ref, what);
        const answer = await find(ref);
        assert.equal(answer.status, 303, what);
        assert.equal(answer.headers.get('location'), `/dashboard/payments/${id}`, what);
      }
    });

    test('a reference nothing has, or another mode’s payment, says so on the payments page', async () => {
      const missing = await find('<b>4200000000000000000000000000');
      assert.equal(missing.status, 303);
      const location = missing.headers.get('location') ?? '';
      assert.match(location, /^\/dashboard\/payments\?not_found=/);
      const page = await fetch(s.url + location, { headers: { cookie } });
      const html = await page.text();
      assert.match(
        html,
        /No payment of this account in this mode has the reference &lt;b&gt;4200000000000000000000000000\./,
      );
      assert.doesNotMatch(html, /<b>4200/);

      // Not a reference at all (PostgreSQL would refuse the NUL in a query): nothing has it, and no 500.
      for (const odd of ['\u0000', 'a\u0000b', 'x'.repeat(65), '交易单号']) {
        const answer = await find(odd);
        assert.equal(answer.status, 303, JSON.stringify(odd));
        assert.match(answer.headers.get('location') ?? '', /not_found=/);
      }

      const live = await startDashboardSession(
        s.gateway.ctx,
        await createApiKey(s.gateway.ctx.db, s.accountId, true),
      );
      assert.ok(live);
      const other = await find(paid.id, `wxpay_dashboard=${live.token}`);
      assert.match(
        other.headers.get('location') ?? '',
        /not_found=/,
        'a test payment is not found in live mode',
      );
    });

    test("a payment's page lists the orders it gave up, and what WeChat said of them", async () => {
      const page = await fetch(`${s.url}/dashboard/payments/${retried.id}`, { headers: { cookie } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, new RegExp(`data-testid="earlier-orders">${retiredNumber} \\(PAYERROR\\)</td>`));
      const plain = await (
        await fetch(`${s.url}/dashboard/payments/${paid.id}`, { headers: { cookie } })
      ).text();
      assert.doesNotMatch(plain, /earlier-orders/);
    });

    test('Find needs a login', async () => {
      const answer = await find(paid.id, '');
      assert.equal(answer.status, 303);
      assert.equal(answer.headers.get('location'), '/dashboard/login');
    });
  });
}
