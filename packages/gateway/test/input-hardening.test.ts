// Bad input at the edges is a 4xx naming the field and changes nothing, on SQLite and PostgreSQL: yuan amounts
// behind JSON escapes or repeated keys, another site's cookie, a multibyte CSRF token, non-text form fields,
// and list offsets past what a database can take.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, type Json, startHarness } from './support/harness.ts';
import { openid, type PayoutWorld, startPayoutWorld } from './support/payout-sandbox.ts';

/** A JSON body written by hand, so that keys can be spelled with escapes and repeated. */
const raw = (fields: string) => `{${fields}}`;

for (const kind of DATABASE_KINDS) {
  describe(`yuan amounts of /wxPay/toPay are read from their exact text on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
      h.gateway.ctx.config.compatAccount = h.accountId;
    });
    after(async () => h?.close());

    const toPay = async (body: string) => {
      const response = await fetch(`${h.url}/wxPay/toPay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await response.text();
      return { status: response.status, text, body: JSON.parse(text) as Json };
    };
    const unifiedOrders = () => h.mock.requests.filter((r) => r.path === '/pay/unifiedorder');
    const intents = async () =>
      (await h.gateway.ctx.db.selectFrom('payment_intents').select('id').execute()).length;

    test('a price that cannot be read exactly is refused naming price, and no order is placed', async () => {
      const ids = '"merchant_id":1,"product_id":2';
      const refused = [
        // The key spelled with a JSON escape: JSON.parse reads 1.999999999999999999 as the float 2.
        raw(`${ids},"pric\\u0065":1.999999999999999999`),
        raw(`${ids},"\\u0070\\u0072\\u0069\\u0063\\u0065":0.015`),
        // A repeated key: which one JSON.parse keeps must not decide the amount.
        raw(`${ids},"price":1,"price":1.999`),
        raw(`${ids},"pric\\u0065":1.999999999999999999,"price":2`),
        raw(`${ids},"price":2,"pric\\u0065":1.999999999999999999`),
        raw(`${ids},"price":"1.00","price":1`),
        // Exponents and more than two decimals, however the key is spelled.
        raw(`${ids},"price":1.5e0`),
        raw(`${ids},"pric\\u0065":1E2`),
        raw(`${ids},"price":1.10000000000000001`),
      ];
      const ordersBefore = unifiedOrders().length;
      const intentsBefore = await intents();
      for (const body of refused) {
        const answer = await toPay(body);
        assert.equal(answer.status, 400, `${body}: ${answer.text}`);
        assert.equal(answer.body.code, 1, body);
        assert.equal(answer.body.error.param, 'price', `${body}: ${answer.text}`);
      }
      assert.equal(unifiedOrders().length, ordersBefore);
      assert.equal(await intents(), intentsBefore);
    });

    test('a price behind an escaped key, or beside a nested "price", is read from its digits', async () => {
      const cases: [string, string][] = [
        [raw('"merchant_id":1,"product_id":2,"pric\\u0065":12.30'), '1230'],
        [raw('"merchant_id":1,"product_id":2,"note":{"price":9.999},"price":1.5'), '150'],
        [raw('"merchant_id":1,"product_id":2,"note":["\\"price\\":9.999"],"price" : 0.07'), '7'],
      ];
      for (const [body, fen] of cases) {
        const answer = await toPay(body);
        assert.equal(answer.status, 200, `${body}: ${answer.text}`);
        const sent = unifiedOrders().find((r) => r.fields.out_trade_no === answer.body.order_id);
        assert.equal(sent?.fields.total_fee, fen, body);
      }
    });
  });

  describe(`BaaS red packets on ${kind}`, () => {
    let w: PayoutWorld;
    before(async () => {
      w = await startPayoutWorld(kind);
    });
    after(async () => w?.close());

    const fields = () =>
      `"type":"normal","re_openid":"${openid()}","send_name":"x","official_account_id":"${w.appid}",` +
      '"total_num":1,"act_name":"a","remark":"r","wishing":"w"';
    const redpacks = async () =>
      (await w.gateway.ctx.db.selectFrom('payouts').select(['amount', 'status']).execute()).length;
    const paidOut = () =>
      w.sandbox.ledger(w.mchId).movements.filter((m: { kind: string }) => m.kind === 'redpack');

    test('a total_amount that cannot be read exactly is refused naming total_amount; nothing is sent', async () => {
      const refused = [
        `"total_amoun\\u0074":1.999999999999999999`,
        `"total_amount":1,"total_amount":1.999`,
        `"total_amoun\\u0074":1.999999999999999999,"total_amount":2`,
        `"total_amount":1.1e0`,
        `"total_amoun\\u0074":1.001`,
      ];
      const before = await redpacks();
      for (const amount of refused) {
        const answer = await w.api('POST', '/baas/redpacks', raw(`${fields()},${amount}`));
        assert.equal(answer.status, 400, `${amount}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.status, 400);
        assert.equal(answer.body.data.param, 'total_amount', `${amount}: ${JSON.stringify(answer.body)}`);
      }
      assert.equal(await redpacks(), before);
      assert.deepEqual(paidOut(), []);
    });

    test('a total_amount behind an escaped key is paid to the fen it was written as', async () => {
      const answer = await w.api('POST', '/baas/redpacks', raw(`${fields()},"total_amoun\\u0074":1.10`));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.data.return_code, 'SUCCESS', JSON.stringify(answer.body));
      assert.deepEqual(
        paidOut().map((m: { amount: number }) => m.amount),
        [-110],
      );
    });

    test('a list offset past what the database takes is a 400 naming offset, not a 500', async () => {
      for (const offset of ['99999999999999999999', '1e400', '2147483648']) {
        const answer = await w.api('GET', `/baas/redpacks?offset=${offset}`);
        assert.equal(answer.status, 400, `${offset}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.data.param, 'offset', offset);
      }
      const last = await w.api('GET', '/baas/redpacks?offset=2147483647&limit=1000');
      assert.equal(last.status, 200, JSON.stringify(last.body));
      assert.deepEqual(last.body.data.objects, []);
    });
  });

  describe(`dashboard input from ordinary browsers on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
    });
    after(async () => h?.close());

    /** Another application's cookie on the same host, holding a raw '%' that is no URI escape. */
    const FOREIGN = 'tracker=50%off';

    const loginForm = async () => {
      const page = await fetch(`${h.url}/dashboard/login`);
      const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
      return { cookie, csrf };
    };
    const logIn = async (extraCookie = '') => {
      const { cookie, csrf } = await loginForm();
      const answer = await fetch(`${h.url}/dashboard/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookie + extraCookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, secret_key: h.key }),
      });
      return { answer, session: answer.headers.get('set-cookie')?.split(';')[0] };
    };
    const count = async (table: 'api_keys' | 'dashboard_sessions' | 'refunds') =>
      // biome-ignore lint/suspicious/noExplicitAny: a row count of any table
      (await (h.gateway.ctx.db as any).selectFrom(table).selectAll().execute()).length;

    test("another site's cookie with a raw % neither breaks logging in nor the pages", async () => {
      const { answer, session } = await logIn(`; ${FOREIGN}`);
      assert.equal(answer.status, 303, await answer.text());
      assert.equal(answer.headers.get('location'), '/dashboard');
      assert.ok(session?.startsWith('wxpay_dashboard='), session);
      for (const cookie of [`${session}; ${FOREIGN}`, `${FOREIGN}; ${session}`]) {
        for (const path of ['/dashboard', '/dashboard/payments', '/dashboard/api_keys']) {
          const page = await fetch(h.url + path, { headers: { cookie }, redirect: 'manual' });
          assert.equal(page.status, 200, `${path} with ${cookie}`);
        }
      }
    });

    test('a CSRF token of the right length in multibyte characters is a 403 and creates nothing', async () => {
      const { session } = await logIn();
      const page = await (
        await fetch(`${h.url}/dashboard/api_keys`, { headers: { cookie: session! } })
      ).text();
      const token = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
      const keys = await count('api_keys');
      for (const forged of ['é'.repeat(token.length), '中'.repeat(token.length), `${token.slice(1)}é`]) {
        const answer = await fetch(`${h.url}/dashboard/api_keys`, {
          method: 'POST',
          headers: { cookie: session!, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: forged }),
        });
        assert.equal(answer.status, 403, forged);
      }
      const { cookie, csrf } = await loginForm();
      const login = await fetch(`${h.url}/dashboard/login`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: 'é'.repeat(csrf.length), secret_key: h.key }),
      });
      assert.equal(login.status, 403);
      assert.equal(await count('api_keys'), keys);
    });

    test('a login whose secret_key is not text is a 400 saying so, and opens no session', async () => {
      const sessions = await count('dashboard_sessions');
      for (const secretKey of [5, null, [h.key], { key: h.key }]) {
        const { cookie, csrf } = await loginForm();
        const answer = await fetch(`${h.url}/dashboard/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ _csrf: csrf, secret_key: secretKey }),
        });
        const text = await answer.text();
        assert.equal(answer.status, 400, `${JSON.stringify(secretKey)}: ${text.slice(0, 200)}`);
        assert.match(text, /secret key must be text/i);
        assert.equal(answer.headers.get('set-cookie'), null);
      }
      assert.equal(await count('dashboard_sessions'), sessions);
    });

    test('a dashboard form field that is not text is a 400 naming it, and refunds nothing', async () => {
      const { session } = await logIn();
      const page = await (
        await fetch(`${h.url}/dashboard/refunds`, { headers: { cookie: session! } })
      ).text();
      const token = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
      const refunds = await count('refunds');
      const answer = await fetch(`${h.url}/dashboard/payments/pi_missing/refund`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session!, 'content-type': 'application/json' },
        body: JSON.stringify({ _csrf: token, confirm: 'yes', amount: 5 }),
      });
      const body = (await answer.json()) as Json;
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(body.error.param, 'amount');
      assert.equal(await count('refunds'), refunds);
    });
  });
}
