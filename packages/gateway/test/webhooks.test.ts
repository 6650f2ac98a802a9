// Webhooks: signing, endpoints, and delivery from the outbox to real HTTP receivers on 127.0.0.1, on SQLite and
// PostgreSQL. The jobs are run directly with the gateway's injectable clock instead of sleeping.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { constructWebhookEvent, signWebhookPayload, WebhookSignatureError } from '@wxpay/sdk';
import { createAccount, createApiKey } from '../src/domain/accounts.ts';
import { WEBHOOK_RETRY_WINDOW_MS, webhookRetryDelayMs } from '../src/domain/webhook-schedule.ts';
import { buildGateway } from '../src/index.ts';
import { runWebhookDeliveries } from '../src/jobs/webhook-delivery.ts';
import { createTestDatabase, DATABASE_KINDS } from './support/databases.ts';
import { type Harness, type Json, startHarness } from './support/harness.ts';

interface Received {
  body: string;
  headers: IncomingHttpHeaders;
}

/** A webhook receiver: `answer` decides each response (a status code, or 'hang' to never answer). */
async function startReceiver(answer: (n: number) => number | 'hang' = () => 200) {
  const received: Received[] = [];
  const hanging: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      const what = answer(received.length);
      if (what === 'hang') {
        hanging.push(() => res.destroy());
        return;
      }
      res.writeHead(what, { 'content-type': 'text/plain' }).end(`answer ${what} ${'x'.repeat(2000)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: async () => {
      for (const h of hanging) h();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('webhook signatures (constructWebhookEvent)', () => {
  const secret = 'whsec_test_secret';
  const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'refund.created' });
  const now = 1_800_000_000;

  test('a signed payload verifies and is returned parsed', () => {
    const header = signWebhookPayload(body, [secret], now);
    assert.match(header, /^t=1800000000,v1=[0-9a-f]{64}$/);
    const event = constructWebhookEvent<Json>(body, header, secret, 300, now + 10);
    assert.equal(event.id, 'evt_1');
    assert.equal(
      constructWebhookEvent<Json>(Buffer.from(body), header, secret, 300, now).type,
      'refund.created',
    );
  });

  test('a tampered body, another secret, a stale or future timestamp or a missing header is refused', () => {
    const header = signWebhookPayload(body, [secret], now);
    const refusal = (fn: () => unknown, code: string) =>
      assert.throws(fn, (e: unknown) => e instanceof WebhookSignatureError && e.code === code);
    refusal(
      () => constructWebhookEvent(body.replace('refund', 'refunx'), header, secret, 300, now),
      'signature_mismatch',
    );
    refusal(() => constructWebhookEvent(body, header, 'whsec_other', 300, now), 'signature_mismatch');
    refusal(() => constructWebhookEvent(body, header, secret, 300, now + 301), 'timestamp_outside_tolerance');
    refusal(() => constructWebhookEvent(body, header, secret, 300, now - 301), 'timestamp_outside_tolerance');
    refusal(
      () => constructWebhookEvent(body, header.replace(/v1=/, 'v0='), secret, 300, now),
      'header_malformed',
    );
    refusal(() => constructWebhookEvent(body, undefined, secret, 300, now), 'header_missing');
    const forgedTime = header.replace('t=1800000000', 't=1800000100');
    refusal(() => constructWebhookEvent(body, forgedTime, secret, 300, now + 100), 'signature_mismatch');
  });

  test('any one of several v1 signatures may match (secret rotation)', () => {
    const header = signWebhookPayload(body, ['whsec_new', 'whsec_old'], now);
    assert.equal(header.split(',v1=').length, 3);
    assert.equal(constructWebhookEvent<Json>(body, header, 'whsec_old', 300, now).id, 'evt_1');
    assert.equal(constructWebhookEvent<Json>(body, header, 'whsec_new', 300, now).id, 'evt_1');
  });

  test('the retry schedule gives at least 18 attempts in 3 days whatever the jitter, and grows exponentially', () => {
    for (const jitter of [0, 0.5, 0.999999]) {
      let at = 0;
      let attempts = 1;
      for (;;) {
        const next = at + webhookRetryDelayMs(attempts, () => jitter);
        if (next > WEBHOOK_RETRY_WINDOW_MS) break;
        at = next;
        attempts++;
      }
      assert.ok(attempts >= 18, `jitter ${jitter}: ${attempts} attempts`);
    }
    assert.equal(
      webhookRetryDelayMs(1, () => 0.5),
      30_000,
    );
    assert.equal(
      webhookRetryDelayMs(2, () => 0.5),
      60_000,
    );
    assert.equal(
      webhookRetryDelayMs(5, () => 0.5),
      480_000,
    );
    assert.equal(
      webhookRetryDelayMs(30, () => 0.5),
      4 * 3600_000,
    );
  });
});

for (const kind of DATABASE_KINDS) {
  describe(`webhooks on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
    });
    after(async () => {
      await h?.close();
    });

    const deliver = (options: { timeoutMs?: number } = {}) =>
      runWebhookDeliveries(h.gateway.ctx, { random: () => 0.5, ...options });
    const newIntent = async () =>
      (await h.api('POST', '/v1/payment_intents', { amount: 42, currency: 'CNY' })).body;
    const endpoint = async (url: string, enabledEvents: string[] = ['payment_intent.created']) => {
      const created = await h.api('POST', '/v1/webhook_endpoints', { url, enabled_events: enabledEvents });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      return created.body;
    };
    /** Disables every endpoint, so one test's events do not reach another's receiver. */
    const disableAll = async () => {
      const { body } = await h.api('GET', '/v1/webhook_endpoints?limit=100');
      for (const e of body.data as Json[])
        await h.api('POST', `/v1/webhook_endpoints/${e.id}`, { disabled: true });
      await deliver();
    };
    const eventOf = async (intentId: string) =>
      (await h.api('GET', `/v1/events?object_id=${intentId}&type=payment_intent.created`)).body.data[0];

    test('endpoints: the secret is shown once, list/update/delete work, bad input names the field', async () => {
      const created = await endpoint('https://shop.example/hooks', ['*']);
      assert.match(created.secret, /^whsec_[0-9A-Za-z]{32}$/);
      assert.equal(created.status, 'enabled');
      const fetched = await h.api('GET', `/v1/webhook_endpoints/${created.id}`);
      assert.equal(fetched.body.secret, undefined);
      assert.ok(!JSON.stringify(fetched.body).includes(created.secret));
      const listed = await h.api('GET', '/v1/webhook_endpoints');
      assert.ok(listed.body.data.some((e: Json) => e.id === created.id));
      assert.ok(!JSON.stringify(listed.body).includes(created.secret));
      const updated = await h.api('POST', `/v1/webhook_endpoints/${created.id}`, {
        enabled_events: ['refund.created', 'refund.succeeded'],
        disabled: true,
      });
      assert.deepEqual(updated.body.enabled_events, ['refund.created', 'refund.succeeded']);
      assert.equal(updated.body.status, 'disabled');
      const other = await fetch(`${h.url}/v1/webhook_endpoints/${created.id}`, {
        headers: { authorization: `Bearer ${h.otherKey}` },
      });
      assert.equal(other.status, 404);
      const deleted = await h.api('DELETE', `/v1/webhook_endpoints/${created.id}`);
      assert.deepEqual(deleted.body, { id: created.id, object: 'webhook_endpoint', deleted: true });
      assert.equal((await h.api('GET', `/v1/webhook_endpoints/${created.id}`)).status, 404);
      const bad: [Record<string, unknown>, string][] = [
        [{ url: 'not a url', enabled_events: ['*'] }, 'url'],
        [{ url: 'ftp://shop.example/x', enabled_events: ['*'] }, 'url'],
        [{ url: 'https://shop.example/x', enabled_events: [] }, 'enabled_events'],
        [{ url: 'https://shop.example/x', enabled_events: ['Not An Event'] }, 'enabled_events.0'],
        [{ enabled_events: ['*'] }, 'url'],
        [{ url: 'https://shop.example/x', enabled_events: ['*'], secret: 'mine' }, 'secret'],
      ];
      for (const [body, param] of bad) {
        const answer = await h.api('POST', '/v1/webhook_endpoints', body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(answer.body.error.param, param, JSON.stringify(answer.body));
      }
    });

    test('an event is delivered signed, verifies with constructWebhookEvent, and only to endpoints that want it', async () => {
      const receiver = await startReceiver();
      const elsewhere = await startReceiver();
      try {
        const wanted = await endpoint(receiver.url, ['payment_intent.created']);
        await endpoint(elsewhere.url, ['refund.created']);
        const intent = await newIntent();
        const result = await deliver();
        assert.ok(result.succeeded >= 1);
        assert.equal(receiver.received.length, 1);
        assert.equal(elsewhere.received.length, 0, 'enabled_events filters');
        const got = receiver.received[0]!;
        const header = got.headers['wxpay-signature'] as string;
        const event = constructWebhookEvent<Json>(got.body, header, wanted.secret);
        assert.equal(event.type, 'payment_intent.created');
        assert.equal(event.object, 'event');
        assert.equal(event.data.object.id, intent.id);
        assert.match(event.request.id, /^req_/, 'the request that created the intent');
        assert.equal(event.request.idempotency_key, null);
        assert.throws(() => constructWebhookEvent(got.body.replace('42', '43'), header, wanted.secret));
        const log = await h.api('GET', `/v1/events/${event.id}/deliveries`);
        assert.equal(log.body.data.length, 1);
        assert.equal(log.body.data[0].status, 'succeeded');
        assert.equal(log.body.data[0].attempts[0].status_code, 200);
        assert.equal(log.body.data[0].attempts[0].response_body.length, 1024, 'the first 1 KB of the answer');
        assert.ok(log.body.data[0].attempts[0].duration_ms >= 0);
        // Nothing more to do: at least once, not again and again.
        await deliver();
        assert.equal(receiver.received.length, 1);
        // A manual retry delivers the same event (same id) again.
        const retried = await h.api('POST', `/v1/events/${event.id}/retry`);
        assert.equal(retried.status, 200, JSON.stringify(retried.body));
        await deliver();
        assert.equal(receiver.received.length, 2);
        assert.equal(JSON.parse(receiver.received[1]!.body).id, event.id);
      } finally {
        await disableAll();
        await receiver.close();
        await elsewhere.close();
      }
    });

    test('a receiver answering 500 three times gets the event on the fourth attempt, on the backoff schedule', async () => {
      const receiver = await startReceiver((n) => (n <= 3 ? 500 : 200));
      try {
        const hook = await endpoint(receiver.url);
        const intent = await newIntent();
        await deliver();
        assert.equal(receiver.received.length, 1);
        const event = await eventOf(intent.id);
        const undelivered = async (success: boolean) =>
          (
            (await h.api('GET', `/v1/events?delivery_success=${success}&object_id=${intent.id}`)).body
              .data as Json[]
          ).map((e) => e.id);
        assert.deepEqual(await undelivered(false), [event.id]);
        assert.deepEqual(await undelivered(true), []);
        const times: number[] = [];
        for (let n = 1; n <= 3; n++) {
          const { body } = await h.api('GET', `/v1/events/${event.id}/deliveries`);
          const delivery = body.data[0];
          assert.equal(delivery.status, 'pending');
          assert.equal(delivery.attempt_count, n);
          const due = delivery.next_attempt_at * 1000;
          // With jitter 0.5 the wait is exactly 30 s · 2^(n-1).
          assert.ok(Math.abs(due - h.clock.now - 30_000 * 2 ** (n - 1)) < 1000, `wait after attempt ${n}`);
          h.clock.now = due - 2000;
          await deliver();
          assert.equal(receiver.received.length, n, 'not before it is due');
          h.clock.now = due + 1000;
          times.push(h.clock.now);
          await deliver();
          assert.equal(receiver.received.length, n + 1);
        }
        const { body } = await h.api('GET', `/v1/events/${event.id}/deliveries`);
        assert.equal(body.data[0].status, 'succeeded');
        assert.deepEqual(await undelivered(false), []);
        assert.deepEqual(await undelivered(true), [event.id]);
        const bad = await h.api('GET', '/v1/events?delivery_success=maybe');
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.param, 'delivery_success');
        assert.deepEqual(
          body.data[0].attempts.map((a: Json) => a.status_code),
          [200, 500, 500, 500],
        );
        const ids = receiver.received.map((r) => JSON.parse(r.body).id);
        assert.deepEqual(new Set(ids), new Set([event.id]), 'every attempt carries the same event id');
        const endpointLog = await h.api('GET', `/v1/webhook_endpoints/${hook.id}/deliveries`);
        assert.equal(endpointLog.body.data[0].attempts.length, 4);
      } finally {
        await disableAll();
        await receiver.close();
      }
    });

    test('a hanging receiver times out, and is retried', async () => {
      const receiver = await startReceiver((n) => (n === 1 ? 'hang' : 200));
      try {
        await endpoint(receiver.url);
        const intent = await newIntent();
        const started = Date.now();
        await deliver({ timeoutMs: 300 });
        assert.ok(Date.now() - started < 5000);
        const event = await eventOf(intent.id);
        let { body } = await h.api('GET', `/v1/events/${event.id}/deliveries`);
        assert.equal(body.data[0].status, 'pending');
        assert.equal(body.data[0].attempts[0].status_code, null);
        assert.match(body.data[0].attempts[0].error, /timeout/);
        h.clock.now = body.data[0].next_attempt_at * 1000 + 1000;
        await deliver({ timeoutMs: 300 });
        ({ body } = await h.api('GET', `/v1/events/${event.id}/deliveries`));
        assert.equal(body.data[0].status, 'succeeded');
      } finally {
        await disableAll();
        await receiver.close();
      }
    });

    test('after a rotation both secrets sign for 24 hours, then only the new one', async () => {
      const receiver = await startReceiver();
      try {
        const hook = await endpoint(receiver.url);
        const rotated = await h.api('POST', `/v1/webhook_endpoints/${hook.id}/rotate_secret`);
        assert.equal(rotated.status, 200);
        assert.match(rotated.body.secret, /^whsec_/);
        assert.notEqual(rotated.body.secret, hook.secret);
        await newIntent();
        await deliver();
        const first = receiver.received[0]!;
        const header = first.headers['wxpay-signature'] as string;
        assert.equal(header.match(/v1=/g)?.length, 2);
        const now = Math.floor(h.clock.now / 1000);
        constructWebhookEvent(first.body, header, hook.secret, 300, now);
        constructWebhookEvent(first.body, header, rotated.body.secret, 300, now);
        h.clock.now += 24 * 3600_000 + 1000;
        await newIntent();
        await deliver();
        const second = receiver.received[1]!;
        const later = second.headers['wxpay-signature'] as string;
        assert.equal(later.match(/v1=/g)?.length, 1);
        const laterNow = Math.floor(h.clock.now / 1000);
        constructWebhookEvent(second.body, later, rotated.body.secret, 300, laterNow);
        assert.throws(() => constructWebhookEvent(second.body, later, hook.secret, 300, laterNow));
      } finally {
        await disableAll();
        await receiver.close();
      }
    });

    test('a disabled endpoint receives nothing', async () => {
      const receiver = await startReceiver();
      try {
        const hook = await endpoint(receiver.url, ['*']);
        await h.api('POST', `/v1/webhook_endpoints/${hook.id}`, { disabled: true });
        await newIntent();
        await deliver();
        assert.equal(receiver.received.length, 0);
      } finally {
        await disableAll();
        await receiver.close();
      }
    });

    test('a receiver failing for 3 days: at least 18 attempts, then the delivery fails and the endpoint is disabled', async () => {
      const receiver = await startReceiver(() => 503);
      try {
        const hook = await endpoint(receiver.url);
        const intent = await newIntent();
        await deliver();
        const event = await eventOf(intent.id);
        const start = h.clock.now;
        for (let i = 0; i < 40; i++) {
          const { body } = await h.api('GET', `/v1/events/${event.id}/deliveries`);
          if (body.data[0].status !== 'pending') break;
          h.clock.now = body.data[0].next_attempt_at * 1000 + 1000;
          await deliver();
        }
        const { body } = await h.api('GET', `/v1/events/${event.id}/deliveries`);
        assert.equal(body.data[0].status, 'failed');
        assert.ok(body.data[0].attempt_count >= 18, `${body.data[0].attempt_count} attempts`);
        assert.equal(receiver.received.length, body.data[0].attempt_count);
        assert.ok(h.clock.now - start <= 3 * 24 * 3600_000 + 60_000);
        assert.equal((await h.api('GET', `/v1/webhook_endpoints/${hook.id}`)).body.status, 'disabled');
        const disabled = await h.api('GET', `/v1/events?object_id=${hook.id}&type=webhook_endpoint.disabled`);
        assert.equal(disabled.body.data.length, 1);
      } finally {
        await disableAll();
        await receiver.close();
      }
    });
  });

  test(`events written before a gateway restart are delivered after it (${kind})`, async () => {
    const database = await createTestDatabase(kind);
    const receiver = await startReceiver();
    try {
      const options = { databaseUrl: database.url, testWechat: { baseUrl: 'https://127.0.0.1:9' } };
      const first = await buildGateway(options);
      const url = await first.listen();
      const { id } = await createAccount(first.ctx.db, {
        appid: 'wx0000000000000002',
        mchId: '1900000002',
        key: 'k'.repeat(32),
      });
      const key = await createApiKey(first.ctx.db, id, false);
      const post = (path: string, body: unknown) =>
        fetch(url + path, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<Json>);
      const hook = await post('/v1/webhook_endpoints', { url: receiver.url, enabled_events: ['*'] });
      const intent = await post('/v1/payment_intents', { amount: 7, currency: 'CNY' });
      await first.close();
      assert.equal(receiver.received.length, 0);
      const second = await buildGateway(options);
      try {
        await runWebhookDeliveries(second.ctx);
        assert.equal(receiver.received.length, 1);
        const event = constructWebhookEvent<Json>(
          receiver.received[0]!.body,
          receiver.received[0]!.headers['wxpay-signature'] as string,
          hook.secret,
        );
        assert.equal(event.data.object.id, intent.id);
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
      await database.drop();
    }
  });
}
