// Text WeChat's XML cannot carry (C0 controls other than tab, LF and CR, U+FFFE/U+FFFF, unpaired surrogates) is
// refused at the edge with a 400 naming the field, on SQLite and PostgreSQL against the real sandbox: no row is
// written, nothing reaches WeChat, and nothing is left for a recovery job to resend forever.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../src/db/schema.ts';
import type { ApiResponse, Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import {
  openid,
  type PayoutWorld,
  redpackBody as redpack,
  startPayoutWorld,
} from './support/payout-sandbox.ts';

const TABLES = [
  'payouts',
  'payment_intents',
  'checkout_sessions',
  'wechat_payloads',
  'events',
  'idempotency_keys',
  'compat_deals',
] as const satisfies readonly (keyof Database)[];

const WEB = { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } };

const session = (extra: Record<string, unknown> = {}) => ({
  amount: 1234,
  currency: 'CNY',
  description: 'Two mugs',
  line_items: [{ name: 'Mug', quantity: 2, amount: 617 }],
  success_url: 'https://shop.example/ok',
  cancel_url: 'https://shop.example/cart',
  ...extra,
});

for (const kind of DATABASE_KINDS) {
  describe(`text XML cannot carry is refused up front on ${kind}`, () => {
    let w: PayoutWorld;
    before(async () => {
      w = await startPayoutWorld(kind);
      w.gateway.ctx.config.compatAccount = w.accountId;
    });
    after(async () => {
      await w?.close();
    });

    /** Rows in every table a request could write, and what the sandbox (WeChat) has seen of this merchant. */
    const snapshot = async () => {
      const rows: Record<string, number> = {};
      for (const table of TABLES) {
        const { n } = await w.gateway.ctx.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
          .executeTakeFirstOrThrow();
        rows[table] = Number(n);
      }
      const ledger = w.sandbox.ledger(w.mchId);
      return {
        rows,
        balance: ledger.balance,
        movements: ledger.movements.length,
        orders: ledger.orders.length,
      };
    };

    /**
     * Sends a request and asserts the 400 naming `param` (the error object under `data` for /baas), with the
     * code point and its position in the message, and that nothing was written or sent.
     */
    const refusesUnchanged = async (
      send: () => Promise<ApiResponse>,
      param: string,
      says: string,
      errorOf: (body: Record<string, unknown>) => unknown = (body) => body.error,
    ) => {
      const before = await snapshot();
      const response = await send();
      assert.equal(response.status, 400, JSON.stringify(response.body));
      const error = errorOf(response.body) as { type: string; code: string; param: string; message: string };
      assert.equal(error.type, 'invalid_request_error', JSON.stringify(response.body));
      assert.equal(error.code, 'parameter_invalid');
      assert.equal(error.param, param);
      assert.ok(error.message.includes(says), `"${says}" in: ${error.message}`);
      // A recovery pass would resend anything left half-sent; there must be nothing.
      await w.recover();
      assert.deepEqual(await snapshot(), before, 'no row written, no order or money movement at WeChat');
      return response;
    };

    test('a red packet whose wishing holds U+0001 is a 400 naming wishing; nothing is stored or sent', async () => {
      await refusesUnchanged(
        () => w.api('POST', '/v1/redpacks', redpack({ wishing: '恭喜\u0001发财' })),
        'wishing',
        'character 3 is U+0001 (a control character)',
      );
    });

    test('a transfer whose description holds U+0001 is a 400 naming description', async () => {
      await refusesUnchanged(
        () =>
          w.api('POST', '/v1/transfers', {
            openid: openid(),
            amount: 100,
            description: '奖\u0001励',
            check_name: 'NO_CHECK',
          }),
        'description',
        'character 2 is U+0001',
      );
    });

    test('a payment intent created with confirm and a description holding U+0001 is a 400, not a 502', async () => {
      await refusesUnchanged(
        () =>
          w.api('POST', '/v1/payment_intents', {
            amount: 100,
            currency: 'CNY',
            confirm: true,
            description: 'mug\u0001',
            payment_method_options: WEB,
          }),
        'description',
        'character 4 is U+0001',
      );
    });

    test('NUL, U+FFFF and an unpaired surrogate are refused too (PostgreSQL cannot even store NUL)', async () => {
      const intent = (description: string) => () =>
        w.api('POST', '/v1/payment_intents', { amount: 100, currency: 'CNY', description });
      await refusesUnchanged(intent('\u0000'), 'description', 'character 1 is U+0000 (a control character)');
      await refusesUnchanged(intent('ab\uFFFF'), 'description', 'character 3 is U+FFFF (a noncharacter)');
      // JSON.stringify writes the lone surrogate as the escape \ud800, which JSON.parse turns back into one.
      await refusesUnchanged(
        intent('🧧\uD800'),
        'description',
        'character 2 is U+D800 (an unpaired surrogate)',
      );
    });

    test('a checkout session whose description or line item name holds U+0001 is a 400 naming the field', async () => {
      await refusesUnchanged(
        () => w.api('POST', '/v1/checkout/sessions', session({ description: 'x\u0001' })),
        'description',
        'character 2 is U+0001',
      );
      await refusesUnchanged(
        () =>
          w.api(
            'POST',
            '/v1/checkout/sessions',
            session({ line_items: [{ name: 'M\u0001ug', quantity: 2, amount: 617 }] }),
          ),
        'line_items.0.name',
        'character 2 is U+0001',
      );
    });

    test('nested fields and metadata are named by their path, keys included', async () => {
      await refusesUnchanged(
        () =>
          w.api('POST', '/v1/payment_intents', {
            amount: 100,
            currency: 'CNY',
            confirm: true,
            payment_method_options: {
              wechat_pay: { terminal_type: 'OFFICIAL_ACCOUNT', openid: 'oUpF8uMuAJO_M2px\u001Fb1Q9zNjWeS6o' },
            },
          }),
        'payment_method_options.wechat_pay.openid',
        'character 17 is U+001F',
      );
      // metadata is never sent to WeChat, but the rule is one for every text the API takes.
      await refusesUnchanged(
        () =>
          w.api('POST', '/v1/payment_intents', {
            amount: 100,
            currency: 'CNY',
            metadata: { note: 'a\u0007' },
          }),
        'metadata.note',
        'character 2 is U+0007',
      );
      await refusesUnchanged(
        () =>
          w.api('POST', '/v1/payment_intents', {
            amount: 100,
            currency: 'CNY',
            metadata: { 'a\u0001': 'x' },
          }),
        'metadata.a\u0001',
        "the key's character 2 is U+0001",
      );
    });

    test('a refused request leaves its Idempotency-Key free for the corrected request', async () => {
      const headers = { 'idempotency-key': `ctrl-${kind}-${Date.now()}` };
      const body = { amount: 100, currency: 'CNY', description: 'mug' };
      await refusesUnchanged(
        () => w.api('POST', '/v1/payment_intents', { ...body, description: 'mug\u0001' }, headers),
        'description',
        'U+0001',
      );
      const fixed = await w.api('POST', '/v1/payment_intents', body, headers);
      assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    });

    test('tab, line feed and carriage return are carried to WeChat and back', async () => {
      const wishing = '恭喜\t发财\r\n万事如意';
      const sent = await w.api('POST', '/v1/redpacks', redpack({ wishing }));
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'sent');
      assert.equal(sent.body.wishing, wishing);
      assert.deepEqual(w.movements(sent.body.mch_billno), [
        { kind: 'redpack', amount: -150, ref: sent.body.mch_billno },
      ]);
    });

    test('the BaaS red-packet route is covered: a 400 in its { status, data } shape, nothing sent', async () => {
      await refusesUnchanged(
        () =>
          w.api('POST', '/baas/redpacks', {
            ...redpack({ wishing: '恭喜\u0001发财', total_amount: 1.5 }),
            official_account_id: w.appid,
          }),
        'wishing',
        'character 3 is U+0001',
        (body) => (body.status === 400 ? body.data : undefined),
      );
    });

    test('the /wxPay compat routes are covered, for JSON and form bodies alike', async () => {
      const post = async (body: string, contentType: string): Promise<ApiResponse> => {
        const response = await fetch(`${w.url}/wxPay/queryOrder`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body,
        });
        const answer = {
          status: response.status,
          body: (await response.json()) as Json,
          headers: response.headers,
        };
        assert.equal(answer.body.code, 1, 'old clients see code 1');
        return answer;
      };
      await refusesUnchanged(
        () => post(JSON.stringify({ order_id: 'x\u0001' }), 'application/json'),
        'order_id',
        'character 2 is U+0001',
      );
      await refusesUnchanged(
        () => post('order_id=x%01', 'application/x-www-form-urlencoded'),
        'order_id',
        'character 2 is U+0001',
      );
    });
  });
}
