// The HTTP edge: authentication, the one error shape, bad input naming the field, OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, startHarness } from './support/harness.ts';

for (const kind of DATABASE_KINDS) {
  describe(`http edge on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
    });
    after(async () => {
      await h?.close();
    });

    test('no key, a malformed key and an unknown key answer 401 authentication_error', async () => {
      for (const authorization of ['', 'Bearer nope', 'Bearer sk_test_0000000000000000000000000000']) {
        const response = await h.api('GET', '/v1/payment_intents', undefined, { authorization });
        assert.equal(response.status, 401, authorization);
        assert.equal(response.body.error.type, 'authentication_error');
      }
    });

    test('HTTP Basic with the key as the username authenticates', async () => {
      const basic = Buffer.from(`${h.key}:`).toString('base64');
      const response = await h.api('GET', '/v1/payment_intents', undefined, {
        authorization: `Basic ${basic}`,
      });
      assert.equal(response.status, 200);
      assert.equal(response.body.object, 'list');
    });

    const badCreates: [string, unknown, string][] = [
      ['a missing amount', { currency: 'CNY' }, 'amount'],
      ['a fractional amount', { amount: 1.5, currency: 'CNY' }, 'amount'],
      ['a zero amount', { amount: 0, currency: 'CNY' }, 'amount'],
      ['an amount above 50,000 USD', { amount: 5_000_001, currency: 'USD' }, 'amount'],
      ['an amount above 50,000 USD in CNY', { amount: 40_000_000, currency: 'CNY' }, 'amount'],
      ['an unsupported currency', { amount: 100, currency: 'JPY' }, 'currency'],
      ['a malformed currency', { amount: 100, currency: 'yuan' }, 'currency'],
      ['an unknown parameter', { amount: 100, currency: 'CNY', colour: 'red' }, 'colour'],
      [
        'an unknown terminal type',
        { amount: 100, currency: 'CNY', payment_method_options: { wechat_pay: { terminal_type: 'TV' } } },
        'payment_method_options.wechat_pay.terminal_type',
      ],
      [
        'a payment method other than wechat_pay',
        { amount: 100, currency: 'CNY', payment_method_data: { type: 'card' } },
        'payment_method_data.type',
      ],
      [
        'confirm without a terminal type',
        { amount: 100, currency: 'CNY', confirm: true },
        'payment_method_options.wechat_pay.terminal_type',
      ],
      [
        'OFFICIAL_ACCOUNT without openid',
        {
          amount: 100,
          currency: 'CNY',
          confirm: true,
          payment_method_options: { wechat_pay: { terminal_type: 'OFFICIAL_ACCOUNT' } },
        },
        'payment_method_options.wechat_pay.openid',
      ],
      [
        'SCAN_CODE without a payment code',
        {
          amount: 100,
          currency: 'CNY',
          confirm: true,
          payment_method_options: { wechat_pay: { terminal_type: 'SCAN_CODE' } },
        },
        'payment_method_data.wechat_pay.payment_code',
      ],
      [
        'an app_id that is not the account’s',
        {
          amount: 100,
          currency: 'CNY',
          confirm: true,
          payment_method_options: { wechat_pay: { terminal_type: 'APP', app_id: 'wxother' } },
        },
        'payment_method_options.wechat_pay.app_id',
      ],
      ['metadata that is not strings', { amount: 100, currency: 'CNY', metadata: { a: 1 } }, 'metadata.a'],
      [
        'a return_url that is not a URL',
        { amount: 100, currency: 'CNY', return_url: 'not a url' },
        'return_url',
      ],
    ];
    for (const [what, body, param] of badCreates) {
      test(`creating with ${what} is a 400 naming ${param}`, async () => {
        const response = await h.api('POST', '/v1/payment_intents', body);
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.equal(response.body.error.type, 'invalid_request_error');
        assert.equal(response.body.error.param, param);
      });
    }

    test('a body that is not JSON is a 400, never a 500', async () => {
      const response = await h.api('POST', '/v1/payment_intents', '{"amount":', {
        'content-type': 'application/json',
      });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.type, 'invalid_request_error');
    });

    test('bad input on the other routes is a 4xx naming the field', async () => {
      const created = await h.api('POST', '/v1/payment_intents', { amount: 100, currency: 'CNY' });
      const id = created.body.id;
      const cases: [string, string, unknown, number, string | null][] = [
        ['GET', '/v1/payment_intents/not-an-id', undefined, 400, 'id'],
        ['GET', '/v1/payment_intents/pi_doesnotexist', undefined, 404, 'id'],
        ['GET', '/v1/payment_intents?limit=0', undefined, 400, 'limit'],
        ['GET', '/v1/payment_intents?limit=abc', undefined, 400, 'limit'],
        ['GET', '/v1/payment_intents?status=paid', undefined, 400, 'status'],
        ['GET', '/v1/payment_intents?starting_after=pi_missing', undefined, 400, 'starting_after'],
        // Not an id at all (PostgreSQL refuses a NUL in text: it must never reach the database).
        ['GET', '/v1/payment_intents?starting_after=pi_%00', undefined, 400, 'starting_after'],
        ['GET', '/v1/events?ending_before=evt%00x', undefined, 400, 'ending_before'],
        ['GET', '/v1/refunds?starting_after=re%20x', undefined, 400, 'starting_after'],
        ['GET', `/v1/payment_intents/${id}?expand[]=secrets`, undefined, 400, 'expand[].0'],
        ['GET', '/v1/events?limit=101', undefined, 400, 'limit'],
        [
          'POST',
          `/v1/payment_intents/${id}/confirm`,
          { payment_method_options: { wechat_pay: { terminal_type: 'FAX' } } },
          400,
          'payment_method_options.wechat_pay.terminal_type',
        ],
        [
          'POST',
          `/v1/payment_intents/${id}/confirm`,
          {},
          400,
          'payment_method_options.wechat_pay.terminal_type',
        ],
        [
          'POST',
          `/v1/payment_intents/${id}/cancel`,
          { cancellation_reason: 'bored' },
          400,
          'cancellation_reason',
        ],
        ['POST', `/v1/payment_intents/${id}/client_result`, {}, 400, 'err_msg'],
        ['POST', `/v1/payment_intents/${id}/client_result`, { err_msg: 'hello' }, 400, 'err_msg'],
        [
          'POST',
          `/v1/payment_intents/${id}/client_result`,
          { err_msg: 'get_brand_wcpay_request:ok' },
          400,
          null,
        ],
      ];
      for (const [method, path, body, status, param] of cases) {
        const response = await h.api(method, path, body);
        assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.error.param, param, `${method} ${path}`);
      }
    });

    test('client_result ok on an intent that was never ordered is refused and changes nothing', async () => {
      const created = await h.api('POST', '/v1/payment_intents', { amount: 100, currency: 'CNY' });
      await h.api('POST', `/v1/payment_intents/${created.body.id}/client_result`, {
        err_msg: 'get_brand_wcpay_request:ok',
      });
      assert.equal(
        (await h.api('GET', `/v1/payment_intents/${created.body.id}`)).body.status,
        'requires_payment_method',
      );
    });

    test('an unknown route answers 404 in the error shape', async () => {
      const response = await h.api('GET', '/v1/nothing');
      assert.equal(response.status, 404);
      assert.equal(response.body.error.code, 'route_missing');
    });

    test('a notify that is not XML is refused without a 500', async () => {
      const reply = await h.postNotify('garbage');
      assert.equal(reply.status, 200);
      assert.match(reply.text, /FAIL/);
    });

    test('/openapi.json documents the payment intent routes', async () => {
      const response = await fetch(`${h.url}/openapi.json`);
      assert.equal(response.status, 200);
      const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
      assert.match(doc.openapi, /^3\./);
      for (const path of [
        '/v1/payment_intents',
        '/v1/payment_intents/{id}',
        '/v1/payment_intents/{id}/confirm',
        '/v1/events',
      ]) {
        assert.ok(doc.paths[path], path);
      }
    });

    test('API responses and events never carry the merchant key or API key hashes', async () => {
      const created = await h.api('POST', '/v1/payment_intents', {
        amount: 100,
        currency: 'CNY',
        confirm: true,
        payment_method_options: { wechat_pay: { terminal_type: 'APP' } },
      });
      const events = await h.api('GET', `/v1/events?object_id=${created.body.id}`);
      const text = JSON.stringify(created.body) + JSON.stringify(events.body);
      assert.ok(!text.includes('192006250b4c09247ec02edce69f6a2d'));
      assert.ok(!text.includes(h.key));
    });

    test('numbers too large for any amount or date are a 400 naming the field, not a 500', async () => {
      const refund = await h.api('POST', '/v1/refunds', {
        payment_intent: 'pi_x',
        amount: 100000000000000000000,
      });
      assert.equal(refund.status, 400, JSON.stringify(refund.body));
      assert.equal(refund.body.error.param, 'amount');
      const intent = await h.api('POST', '/v1/payment_intents', {
        amount: 100000000000000000000,
        currency: 'CNY',
      });
      assert.equal(intent.status, 400, JSON.stringify(intent.body));
      assert.equal(intent.body.error.param, 'amount');
      const list = await h.api('GET', '/v1/payment_intents?created[gt]=99999999999999999999');
      assert.equal(list.status, 400, JSON.stringify(list.body));
      assert.equal(list.body.error.param, 'created[gt]');
    });

    test('events name the API request that caused them, and its Idempotency-Key', async () => {
      const created = await h.api(
        'POST',
        '/v1/payment_intents',
        {
          amount: 100,
          currency: 'CNY',
          confirm: true,
          payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
        },
        { 'idempotency-key': 'events-request-1' },
      );
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const requestId = created.headers.get('request-id');
      assert.match(requestId ?? '', /^req_/);
      await h.postNotify(h.pay(created.body.wechat_pay.out_trade_no));
      const events = (await h.api('GET', `/v1/events?object_id=${created.body.id}`)).body.data as {
        type: string;
        request: { id: string | null; idempotency_key: string | null };
      }[];
      const byType = new Map(events.map((e) => [e.type, e.request]));
      assert.deepEqual(byType.get('payment_intent.created'), {
        id: requestId,
        idempotency_key: 'events-request-1',
      });
      const succeeded = byType.get('payment_intent.succeeded');
      assert.ok(succeeded, 'the notify wrote a succeeded event');
      assert.notEqual(succeeded.id, requestId, 'the notify is another request');
      assert.equal(succeeded.idempotency_key, null);
    });
  });
}
