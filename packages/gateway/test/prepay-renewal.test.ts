// A prepay_id, and the code_url issued with it, lasts 2 hours at WeChat whatever the order's time_expire; an H5
// order's mweb_url only 5 minutes. An intent that outlives them is confirmed again for a fresh one, under the same
// out_trade_no, and the hosted checkout does that itself before it shows an old QR code or H5 redirect. Real
// sandbox, which refuses an expired prepay or mweb_url as WeChat's client and page do, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { eventsOf, type Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';
import { signedFor, startWechatProxy, viaProxy } from './support/wechat-proxy.ts';

const DAY_S = 24 * 3600;
const PREPAY_LIFETIME_MS = 2 * 3600_000;
const MWEB_URL_LIFETIME_MS = 5 * 60_000;
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148';
const web = { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } };

for (const kind of DATABASE_KINDS) {
  describe(`renewing what WeChat no longer honours (a prepay after 2 hours, an mweb_url after 5 minutes), on ${kind}`, () => {
    let s: SandboxGateway;
    before(async () => {
      s = await startSandboxGateway(kind, { intentTtlSeconds: DAY_S });
    });
    after(async () => {
      await s?.close();
    });

    const qrOf = (intent: Json): string => intent.next_action.wechat_pay_display_qr_code.image_data_url;
    const mwebOf = (intent: Json): string => intent.next_action.wechat_pay_redirect_to_web.url;
    const mwebRefused = (url: string) => {
      const refused = s.sandbox.pay({ mweb_url: url });
      assert.equal(!refused.ok && refused.error.code, 'MWEB_URL_EXPIRED');
    };
    const rowOf = (id: string) =>
      s.gateway.ctx.db
        .selectFrom('payment_intents')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
    const intent = async (id: string): Promise<Json> =>
      (await s.api('GET', `/v1/payment_intents/${id}`)).body;
    const succeeded = (id: string) =>
      waitFor('intent succeeded', async () => {
        const body = await intent(id);
        return body.status === 'succeeded' ? body : undefined;
      });
    const sessionComplete = (id: string) =>
      waitFor('session complete', async () => {
        const { body } = await s.api('GET', `/v1/checkout/sessions/${id}`);
        return body.status === 'complete' ? body : undefined;
      });
    /** How many events of `type` the intent has. */
    const eventCount = async (id: string, type: string) =>
      (await eventsOf(s.api, id)).filter((e) => e.type === type).length;

    test('after 2 hours the QR code is dead at WeChat; a confirm renews it for the same order, which is paid once', async () => {
      const created = await s.qrIntent(2500);
      await s.advance(PREPAY_LIFETIME_MS + 60_000);
      const dead = s.sandbox.pay({ code_url: qrOf(created) });
      assert.equal(!dead.ok && dead.error.code, 'PREPAY_EXPIRED');

      const renewed = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
      assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
      assert.equal(renewed.body.status, 'requires_action');
      assert.equal(renewed.body.wechat_pay.out_trade_no, created.wechat_pay.out_trade_no);
      assert.notEqual(renewed.body.wechat_pay.prepay_id, created.wechat_pay.prepay_id);
      assert.notEqual(qrOf(renewed.body), qrOf(created));
      assert.ok(s.sandbox.pay({ code_url: qrOf(renewed.body) }).ok);
      const paid = await succeeded(created.id);
      assert.equal(paid.amount, 2500);
      assert.equal(await eventCount(created.id, 'payment_intent.requires_action'), 2);
      assert.equal(await eventCount(created.id, 'payment_intent.succeeded'), 1);
    });

    test('a confirm within the 2 hours answers the same QR code, and nothing about the order may change', async () => {
      const created = await s.qrIntent(300);
      const again = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(qrOf(again.body), qrOf(created));
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
        const refused = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, body);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error.param, param);
        assert.match(
          refused.body.error.message,
          /cannot change while this PaymentIntent's order is open at WeChat/,
        );
      }
      const after = await intent(created.id);
      assert.equal(after.status, 'requires_action');
      assert.equal(after.payment_method_options.wechat_pay.terminal_type, 'WEB');
      assert.equal(qrOf(after), qrOf(created));
    });

    test('a confirm WeChat answers with the same prepay does not make it look younger than it is', async () => {
      const created = await s.qrIntent(410);
      await s.advance(PREPAY_LIFETIME_MS - 10 * 60_000);
      const same = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
      assert.equal(same.status, 200, JSON.stringify(same.body));
      assert.equal(same.body.wechat_pay.prepay_id, created.wechat_pay.prepay_id);
      assert.equal(await eventCount(created.id, 'payment_intent.requires_action'), 1, 'nothing changed');
      await s.advance(11 * 60_000);
      // The prepay is now 2 hours old, counted from when WeChat issued it: the next confirm renews it.
      const renewed = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
      assert.notEqual(renewed.body.wechat_pay.prepay_id, created.wechat_pay.prepay_id);
      assert.ok(s.sandbox.pay({ code_url: qrOf(renewed.body) }).ok);
      await succeeded(created.id);
    });

    test('a renewal whose call fails leaves the intent as it was: payable, followed up, its result reportable', async () => {
      const created = await s.qrIntent(420);
      const before = await rowOf(created.id);
      await s.advance(30 * 60_000);
      const merchant = s.sandbox.merchants[0]!;
      const proxy = await startWechatProxy(s.sandbox, merchant);
      try {
        const failed = await viaProxy(s.gateway.ctx, proxy, merchant, 3000, async () => {
          proxy.plan('/pay/unifiedorder', { answer: 'not xml' });
          return s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
        });
        assert.equal(failed.status, 502, JSON.stringify(failed.body));
      } finally {
        await proxy.close();
      }
      const after = await rowOf(created.id);
      assert.equal(after.status, 'requires_action');
      assert.equal(after.next_action, before.next_action);
      assert.equal(after.next_query_at, before.next_query_at, 'the follow-up schedule is kept');
      assert.equal(after.confirming_until, null, 'the lease is released');
      // The payer pays the QR code they have (still honoured): the page's report is taken, and the query settles it.
      assert.ok(s.sandbox.pay({ code_url: qrOf(created) }).ok);
      const reported = await s.api('POST', `/v1/payment_intents/${created.id}/client_result`, {
        err_msg: 'get_brand_wcpay_request:ok',
      });
      assert.equal(reported.status, 200, JSON.stringify(reported.body));
      await succeeded(created.id);
    });

    test('a renewal WeChat refuses as a used number, which WeChat then cannot be asked about, stays requires_action', async () => {
      const created = await s.qrIntent(450);
      const merchant = s.sandbox.merchants[0]!;
      const proxy = await startWechatProxy(s.sandbox, merchant);
      try {
        const refused = await viaProxy(s.gateway.ctx, proxy, merchant, 3000, async () => {
          proxy.plan('/pay/unifiedorder', {
            answer: signedFor(merchant, {
              result_code: 'FAIL',
              err_code: 'OUT_TRADE_NO_USED',
              err_code_des: '商户订单号重复',
            }),
          });
          proxy.plan('/pay/orderquery', { answer: 'not xml' }, { answer: 'not xml' }, { answer: 'not xml' });
          return s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
        });
        assert.equal(refused.status, 402, JSON.stringify(refused.body));
        assert.equal(refused.body.error.code, 'OUT_TRADE_NO_USED');
      } finally {
        await proxy.close();
      }
      const after = await intent(created.id);
      assert.equal(after.status, 'requires_action', 'still offered, and followed up as before');
      assert.equal(qrOf(after), qrOf(created));
    });

    test('the hosted checkout places a new order rather than confirm an expired one', async () => {
      const { body: checkout } = await s.api('POST', '/v1/checkout/sessions', {
        amount: 470,
        currency: 'CNY',
        description: 'Mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
        expires_in: DAY_S,
      });
      const open = async () => {
        const page = await fetch(checkout.url, { headers: { 'user-agent': DESKTOP } });
        assert.equal(page.status, 200);
        await page.text();
        return intent((await s.api('GET', `/v1/checkout/sessions/${checkout.id}`)).body.payment_intent);
      };
      const first = await open();
      // As an intent TTL shorter than the session leaves it: the intent expires while the session is open.
      await s.gateway.ctx.db
        .updateTable('payment_intents')
        .set({ expires_at: Date.now() + s.clock.offsetMs + 60_000 })
        .where('id', '=', first.id)
        .execute();
      await s.advance(PREPAY_LIFETIME_MS + 60_000);
      const shown = await open();
      assert.notEqual(shown.id, first.id);
      assert.equal(shown.status, 'requires_action');
      assert.ok(s.sandbox.pay({ code_url: qrOf(shown) }).ok);
      await succeeded(shown.id);
    });

    test('an intent being canceled, or past its expiry, is not confirmed again', async () => {
      const created = await s.qrIntent(430);
      // Within WeChat's 5 minutes the close is scheduled and the intent stays requires_action until it runs.
      const canceling = await s.api('POST', `/v1/payment_intents/${created.id}/cancel`, {});
      assert.equal(canceling.body.status, 'requires_action', JSON.stringify(canceling.body));
      assert.ok(canceling.body.cancellation_scheduled_at);
      const refused = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /being canceled/);

      const old = await s.qrIntent(440);
      await s.advance(DAY_S * 1000 + 60_000);
      const expired = await s.api('POST', `/v1/payment_intents/${old.id}/confirm`, {});
      assert.equal(expired.status, 400, JSON.stringify(expired.body));
      assert.match(expired.body.error.message, /expired/);
      const { body } = await s.api('GET', `/v1/payment_intents/${old.id}?expand[]=wechat_payloads`);
      assert.equal(
        body.wechat_payloads.filter((p: Json) => p.kind === 'prepay').length,
        1,
        'WeChat was not called',
      );
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
      await sessionComplete(checkout.id);
    });

    test('a WAP intent confirmed again after 5 minutes gets a fresh mweb_url for the same order', async () => {
      const created = await s.h5Intent(530, 'https://shop.example/done');
      await s.advance(MWEB_URL_LIFETIME_MS - 60_000);
      const early = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
      assert.equal(early.status, 200, JSON.stringify(early.body));
      assert.equal(mwebOf(early.body), mwebOf(created), 'within 5 minutes WeChat answers the same one');
      await s.advance(2 * 60_000);
      mwebRefused(mwebOf(created));

      const renewed = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
      assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
      assert.equal(renewed.body.status, 'requires_action');
      assert.equal(renewed.body.wechat_pay.out_trade_no, created.wechat_pay.out_trade_no);
      assert.equal(
        renewed.body.wechat_pay.prepay_id,
        created.wechat_pay.prepay_id,
        'WeChat keeps the prepay',
      );
      assert.notEqual(mwebOf(renewed.body), mwebOf(created));
      assert.match(mwebOf(renewed.body), /&redirect_url=https%3A%2F%2Fshop\.example%2Fdone$/);
      const again = await s.api('POST', `/v1/payment_intents/${created.id}/confirm`, {});
      assert.equal(mwebOf(again.body), mwebOf(renewed.body), 'the fresh one counts its 5 minutes from now');

      assert.ok(s.sandbox.pay({ mweb_url: mwebOf(renewed.body) }).ok);
      const paid = await succeeded(created.id);
      assert.equal(paid.amount, 530);
      assert.equal(await eventCount(created.id, 'payment_intent.requires_action'), 2);
      assert.equal(await eventCount(created.id, 'payment_intent.succeeded'), 1);
    });

    test('the checkout renews an H5 redirect older than 5 minutes, with the same out_trade_no, and the payer can pay through it', async () => {
      const { status, body: checkout } = await s.api('POST', '/v1/checkout/sessions', {
        amount: 560,
        currency: 'CNY',
        description: 'Mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
      });
      assert.equal(status, 200, JSON.stringify(checkout));
      const open = async () => {
        const page = await fetch(checkout.url, { headers: { 'user-agent': PHONE } });
        assert.equal(page.status, 200);
        const html = await page.text();
        const id = (await s.api('GET', `/v1/checkout/sessions/${checkout.id}`)).body.payment_intent;
        return { html, intent: await intent(id) };
      };
      // The H5 button is the gateway's own route, which redirects to the mweb_url (see the next test).
      const linked = (html: string) => html.includes(`href="/checkout/${checkout.id}/h5?lang=zh"`);
      const first = await open();
      assert.equal(first.intent.wechat_pay.trade_type, 'MWEB');
      assert.ok(linked(first.html), 'the H5 button leads through the gateway to the mweb_url');
      await s.advance(MWEB_URL_LIFETIME_MS - 60_000);
      assert.equal(mwebOf((await open()).intent), mwebOf(first.intent), 'still honoured: shown as it is');
      await s.advance(2 * 60_000);
      mwebRefused(mwebOf(first.intent));

      const shown = await open();
      assert.equal(shown.intent.id, first.intent.id, 'the same payment, not a new one');
      assert.equal(shown.intent.wechat_pay.out_trade_no, first.intent.wechat_pay.out_trade_no);
      assert.notEqual(mwebOf(shown.intent), mwebOf(first.intent));
      assert.ok(linked(shown.html));
      // The payer's browser opens it from the checkout (strict-origin: the checkout's origin as Referer, as WeChat's
      // H5 page wants): the sandbox's page of the order, which pays it.
      const payerPage = await request(mwebOf(shown.intent), {
        dispatcher: new Agent({ connect: { ca: s.sandbox.caCert } }),
        headers: { referer: `${new URL(checkout.url).origin}/` },
      });
      assert.equal(payerPage.statusCode, 200);
      assert.match(await payerPage.body.text(), /Confirm payment/);
      assert.ok(s.sandbox.pay({ mweb_url: mwebOf(shown.intent) }).ok);
      await succeeded(first.intent.id);
      await sessionComplete(checkout.id);
    });

    test("the H5 button's route redirects to a live mweb_url: the current one, a renewed one for the same order once outlived, the page once paid", async () => {
      const { status, body: checkout } = await s.api('POST', '/v1/checkout/sessions', {
        amount: 580,
        currency: 'CNY',
        description: 'Mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
      });
      assert.equal(status, 200, JSON.stringify(checkout));
      const page = await fetch(checkout.url, { headers: { 'user-agent': PHONE } });
      assert.equal(page.status, 200);
      await page.text();
      const current = async () =>
        intent((await s.api('GET', `/v1/checkout/sessions/${checkout.id}`)).body.payment_intent);
      const tap = async (id: string = checkout.id) => {
        const res = await fetch(`${s.url}/checkout/${id}/h5`, {
          redirect: 'manual',
          headers: { 'user-agent': PHONE },
        });
        return { status: res.status, location: res.headers.get('location'), res, body: await res.text() };
      };
      const backToPage = `/checkout/${checkout.id}?lang=zh`;
      const first = await current();

      const fresh = await tap();
      assert.equal(fresh.status, 302, fresh.body);
      assert.equal(fresh.location, mwebOf(first), 'within 5 minutes: the mweb_url the page was shown with');
      assert.equal(
        fresh.res.headers.get('referrer-policy'),
        'strict-origin',
        'the policy WeChat is opened with',
      );
      assert.equal(fresh.res.headers.get('cache-control'), 'no-store');

      await s.advance(MWEB_URL_LIFETIME_MS + 60_000);
      mwebRefused(mwebOf(first));
      // Two quick taps: one renews, the other waits for nothing; neither fails.
      const taps = await Promise.all([tap(), tap()]);
      const renewed = await current();
      assert.equal(renewed.id, first.id, 'the same payment, not a new one');
      assert.equal(renewed.wechat_pay.out_trade_no, first.wechat_pay.out_trade_no);
      assert.notEqual(mwebOf(renewed), mwebOf(first));
      for (const t of taps) {
        assert.equal(t.status, 302, t.body);
        assert.ok([mwebOf(renewed), backToPage].includes(t.location ?? ''), `${t.location}`);
        assert.equal(t.res.headers.get('referrer-policy'), 'strict-origin');
      }
      assert.ok(
        taps.some((t) => t.location === mwebOf(renewed)),
        'a tap reaches the renewed mweb_url',
      );
      const again = await tap();
      assert.equal(again.location, mwebOf(renewed), 'a later tap reaches it too');

      // The payer's browser follows the redirect with the checkout's origin as Referer (strict-origin) and pays.
      const payerPage = await request(mwebOf(renewed), {
        dispatcher: new Agent({ connect: { ca: s.sandbox.caCert } }),
        headers: { referer: `${new URL(checkout.url).origin}/` },
      });
      assert.equal(payerPage.statusCode, 200);
      assert.match(await payerPage.body.text(), /Confirm payment/);
      assert.ok(s.sandbox.pay({ mweb_url: mwebOf(renewed) }).ok);
      await succeeded(first.id);
      await sessionComplete(checkout.id);
      const done = await tap();
      assert.equal(done.status, 302, done.body);
      assert.equal(done.location, backToPage, 'a paid session goes back to its page, not to WeChat');
      assert.equal(await eventCount(first.id, 'payment_intent.requires_action'), 2, 'one renewal');
      assert.equal(await eventCount(first.id, 'payment_intent.succeeded'), 1);

      const unknown = await tap('cs_test_NoSuchSession0000');
      assert.equal(unknown.status, 404);
      assert.match(unknown.res.headers.get('content-type') ?? '', /^text\/html/);
      const unknownPage = await fetch(`${s.url}/checkout/cs_test_NoSuchSession0000`);
      assert.equal(unknown.body, await unknownPage.text(), "the checkout page's own 404 page");
      const malformed = await tap('not-a-session');
      assert.equal(malformed.status, (await fetch(`${s.url}/checkout/not-a-session`)).status);
      assert.ok(malformed.status < 500, `${malformed.status}`);

      // A session the page showed a QR code for has no H5 order: the route places none and sends back to the page.
      const { body: desktop } = await s.api('POST', '/v1/checkout/sessions', {
        amount: 590,
        currency: 'CNY',
        description: 'Mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
      });
      await (await fetch(desktop.url, { headers: { 'user-agent': DESKTOP } })).text();
      const qrOnly = await tap(desktop.id);
      assert.equal(qrOnly.location, `/checkout/${desktop.id}?lang=zh`);
    });
  });
}
