// Checkout Sessions over HTTP (mock WeChat): create, validation, cross-account, and completion only from WeChat.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCheckoutSessions } from '../src/domain/checkout-sessions.ts';
import { flowOf } from '../src/http/checkout-page.ts';
import { formatAmount, parseMajorUnits } from '../src/web/html.ts';
import { pickLang } from '../src/web/i18n.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, type Json, startHarness } from './support/harness.ts';

const SESSION = {
  amount: 1234,
  currency: 'CNY',
  description: 'Two <b>mugs</b>',
  line_items: [{ name: 'Mug', quantity: 2, amount: 617 }],
  success_url: 'https://shop.example/ok?session={CHECKOUT_SESSION_ID}',
  cancel_url: 'https://shop.example/cart',
  metadata: { order: '42' },
};

describe('checkout helpers', () => {
  test('the flow follows the browser: WeChat → JSAPI, phone → H5, desktop → QR', () => {
    assert.equal(flowOf('Mozilla/5.0 (iPhone) MicroMessenger/8.0.49'), 'OFFICIAL_ACCOUNT');
    assert.equal(flowOf('Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36'), 'WAP');
    assert.equal(flowOf('Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0'), 'WEB');
  });
  test('the language comes from ?lang, then Accept-Language by q, Chinese by default', () => {
    assert.equal(pickLang('en', 'zh-CN'), 'en');
    assert.equal(pickLang(undefined, 'fr;q=1, en-US;q=0.8, zh;q=0.5'), 'en');
    assert.equal(pickLang(undefined, 'en;q=0.3, zh-TW'), 'zh');
    assert.equal(pickLang(undefined, undefined), 'zh');
  });
  test('money text and parsing use integers', () => {
    assert.equal(formatAmount(123456, 'CNY'), '¥1,234.56');
    assert.equal(formatAmount(5, 'USD'), 'US$0.05');
    assert.equal(parseMajorUnits('1.1'), 110);
    assert.equal(parseMajorUnits('1.234'), undefined);
  });
});

for (const kind of DATABASE_KINDS) {
  describe(`checkout sessions on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
    });
    after(async () => h?.close());

    const create = (body: Record<string, unknown> = {}) =>
      h.api('POST', '/v1/checkout/sessions', { ...SESSION, ...body });

    test('a session is created open, with a url on the gateway and an unconfirmed intent', async () => {
      const { status, body } = await create();
      assert.equal(status, 200, JSON.stringify(body));
      assert.match(body.id, /^cs_test_/);
      assert.equal(body.url, `${h.url}/checkout/${body.id}`);
      assert.equal(body.status, 'open');
      assert.match(body.payment_intent, /^pi_/);
      assert.ok(body.expires_at - body.created >= 7199 && body.expires_at - body.created <= 7201);
      const intent = await h.api('GET', `/v1/payment_intents/${body.payment_intent}`);
      assert.equal(intent.body.status, 'requires_payment_method');
      assert.equal(intent.body.metadata.checkout_session, body.id);
      const got = await h.api('GET', `/v1/checkout/sessions/${body.id}`);
      assert.deepEqual(got.body, body);
    });

    const bad: [string, Record<string, unknown>, string][] = [
      ['amount missing', { amount: undefined }, 'amount'],
      ['amount not an integer', { amount: 12.5 }, 'amount'],
      ['expires_in under 30 minutes', { expires_in: 1799 }, 'expires_in'],
      ['expires_in over 24 hours', { expires_in: 86_401 }, 'expires_in'],
      ['a javascript: success_url', { success_url: 'javascript:alert(1)' }, 'success_url'],
      [
        'line_items that do not add up',
        { line_items: [{ name: 'Mug', quantity: 1, amount: 1 }] },
        'line_items',
      ],
      ['an unknown field', { colour: 'red' }, 'colour'],
      ['an unsupported currency', { currency: 'JPY' }, 'currency'],
    ];
    for (const [what, change, param] of bad) {
      test(`${what} is a 400 naming ${param}`, async () => {
        const body = { ...SESSION, ...change };
        for (const [k, v] of Object.entries(change)) if (v === undefined) delete (body as Json)[k];
        const response = await h.api('POST', '/v1/checkout/sessions', body);
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.equal(response.body.error.param, param);
      });
    }

    test("another account's session is a 404 for retrieve and expire", async () => {
      const { body } = await create();
      const headers = { authorization: `Bearer ${h.otherKey}` };
      assert.equal((await h.api('GET', `/v1/checkout/sessions/${body.id}`, undefined, headers)).status, 404);
      assert.equal((await h.api('POST', `/v1/checkout/sessions/${body.id}/expire`, {}, headers)).status, 404);
    });

    test('the page shows the QR code; only the notify completes the session, with its event', async () => {
      const { body: session } = await create();
      const page = await fetch(session.url, { headers: { 'accept-language': 'en' } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /¥12\.34/);
      assert.match(html, /Two &lt;b&gt;mugs&lt;\/b&gt;/, 'the description is escaped');
      assert.match(html, /data-code-url="weixin:\/\/wxpay\/bizpayurl/);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
      const intent = (await h.api('GET', `/v1/checkout/sessions/${session.id}`)).body.payment_intent;
      const outTradeNo = (await h.api('GET', `/v1/payment_intents/${intent}`)).body.wechat_pay.out_trade_no;

      // The payer's page says ok: confirming, not complete.
      const ok = await fetch(`${session.url}/client_result`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ err_msg: 'get_brand_wcpay_request:ok' }),
      });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as Json).state, 'confirming');
      assert.equal((await h.api('GET', `/v1/checkout/sessions/${session.id}`)).body.status, 'open');

      const notify = await h.postNotify(h.pay(outTradeNo));
      assert.match(notify.text, /SUCCESS/);
      const status = (await (await fetch(`${session.url}/status`)).json()) as Json;
      assert.equal(status.state, 'succeeded');
      assert.equal(status.redirect_url, `https://shop.example/ok?session=${session.id}`);
      const done = await h.api('GET', `/v1/checkout/sessions/${session.id}`);
      assert.equal(done.body.status, 'complete');
      assert.equal(done.body.payment_status, 'paid');
      const events = await h.api('GET', `/v1/events?object_id=${session.id}`);
      assert.deepEqual(
        events.body.data.map((e: Json) => e.type),
        ['checkout.session.completed'],
      );
      const expire = await h.api('POST', `/v1/checkout/sessions/${session.id}/expire`, {});
      assert.equal(expire.status, 400);
      assert.equal(expire.body.error.code, 'checkout_session_unexpected_state');
    });

    test('expire closes an open session with its event; the job expires overdue ones', async () => {
      const { body: first } = await create();
      const expired = await h.api('POST', `/v1/checkout/sessions/${first.id}/expire`, {});
      assert.equal(expired.status, 200, JSON.stringify(expired.body));
      assert.equal(expired.body.status, 'expired');
      const intent = await h.api('GET', `/v1/payment_intents/${first.payment_intent}`);
      assert.equal(intent.body.status, 'canceled');
      const events = await h.api('GET', `/v1/events?object_id=${first.id}&type=checkout.session.expired`);
      assert.equal(events.body.data.length, 1);

      const { body: second } = await create({ expires_in: 1800 });
      h.clock.now += 1801_000;
      try {
        assert.equal(await runCheckoutSessions(h.gateway.ctx), 1);
        assert.equal((await h.api('GET', `/v1/checkout/sessions/${second.id}`)).body.status, 'expired');
        const page = await fetch(second.url, { headers: { 'accept-language': 'zh-CN' } });
        assert.match(await page.text(), /data-state="expired"/);
      } finally {
        h.clock.now -= 1801_000;
      }
    });

    test('a phone gets the H5 button and WeChat gets JSAPI parameters, each with its own intent', async () => {
      const { body: session } = await create();
      const phone = await (
        await fetch(session.url, { headers: { 'user-agent': 'Mozilla/5.0 (iPhone) Mobile/15E148' } })
      ).text();
      assert.match(phone, /data-testid="h5-pay"/);
      const tapped = await fetch(`${h.url}/checkout/${session.id}/h5`, { redirect: 'manual' });
      assert.match(tapped.headers.get('location') ?? '', /redirect_url=/);
      const wechat = await (
        await fetch(session.url, { headers: { 'user-agent': 'Mozilla/5.0 (iPhone) MicroMessenger/8.0.49' } })
      ).text();
      assert.match(wechat, /"paySign"/);
      assert.match(wechat, /data-testid="jsapi-pay"/);
    });

    test("the checkout lets the H5 button send its origin as Referer (WeChat's H5 domain check); the dashboard sends none", async () => {
      const { body: session } = await create();
      const page = await fetch(session.url, {
        headers: { 'user-agent': 'Mozilla/5.0 (iPhone) Mobile/15E148' },
      });
      assert.equal(page.headers.get('referrer-policy'), 'strict-origin');
      const html = await page.text();
      assert.match(html, /<meta name="referrer" content="strict-origin">/);
      const button = /<a [^>]*data-testid="h5-pay"[^>]*>/.exec(html)?.[0] ?? '';
      assert.match(button, new RegExp(`href="/checkout/${session.id}/h5\\?lang=zh"`), 'a plain link');
      assert.doesNotMatch(button, /noreferrer/, 'no rel=noreferrer on the way to WeChat');
      // It leads to the mweb_url, through a redirect that keeps the policy for the request to WeChat.
      const tapped = await fetch(`${h.url}/checkout/${session.id}/h5`, { redirect: 'manual' });
      assert.equal(tapped.status, 302);
      assert.match(tapped.headers.get('location') ?? '', /checkmweb\?prepay_id=/);
      assert.equal(tapped.headers.get('referrer-policy'), 'strict-origin');
      const dashboard = await fetch(`${h.url}/dashboard/login`);
      assert.equal(dashboard.headers.get('referrer-policy'), 'no-referrer');
    });
  });
}
