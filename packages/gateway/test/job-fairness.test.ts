// Fairness of the background jobs, over the real sandbox: intents and checkout sessions that WeChat keeps failing
// for wait behind the others instead of keeping them open and payable, and the worker loop never piles up passes
// nor makes a shutdown wait for them.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { BusinessError } from '@wxpay/sdk';
import { runCheckoutSessions } from '../src/domain/checkout-sessions.ts';
import type { ServiceContext } from '../src/domain/context.ts';
import { CLOSE_FIRST_RETRY_MS, closeRetryDelayMs, runCloses } from '../src/jobs/expiry.ts';
import { startWorker, type WorkerJob } from '../src/jobs/index.ts';
import type { Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';

const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The gateway's context, with WeChat failing (SYSTEMERROR) every orderquery and closeorder of the orders in
 * `stuck`, as when WeChat is down for them; `tries` counts the orderqueries of each, the first call of every try.
 */
function wechatFailingFor(ctx: ServiceContext, stuck: Set<string>) {
  const tries = new Map<string, number>();
  const failing = new Set(['orderQuery', 'closeOrder']);
  const wrapped: ServiceContext = {
    ...ctx,
    wechat: (account, livemode) => {
      const client = ctx.wechat(account, livemode);
      return new Proxy(client, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (typeof value !== 'function') return value;
          if (typeof property !== 'string' || !failing.has(property)) return value.bind(target);
          return async (request: { out_trade_no: string }) => {
            if (property === 'orderQuery')
              tries.set(request.out_trade_no, (tries.get(request.out_trade_no) ?? 0) + 1);
            if (stuck.has(request.out_trade_no))
              throw new BusinessError('SYSTEMERROR', 'WeChat is failing for this order', { retryable: true });
            return value.call(target, request);
          };
        },
      });
    },
  };
  return { ctx: wrapped, tries: (outTradeNo: string) => tries.get(outTradeNo) ?? 0 };
}

for (const kind of DATABASE_KINDS) {
  describe(`the close job on ${kind}`, () => {
    let s: SandboxGateway;
    beforeEach(async () => {
      s = await startSandboxGateway(kind);
    });
    afterEach(async () => {
      await s?.close();
    });

    const advance = (ms: number) => s.advance(ms);
    /** A QR order placed at WeChat; returns the intent. */
    const placeOrder = async (): Promise<Json> => {
      const { status, body } = await s.api('POST', '/v1/payment_intents', {
        amount: 100,
        currency: 'CNY',
        confirm: true,
        payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } },
      });
      assert.equal(status, 200, JSON.stringify(body));
      return body;
    };
    const status = async (intent: Json) =>
      (await s.api('GET', `/v1/payment_intents/${intent.id}`)).body.status as string;
    const canceledEvents = async (intent: Json) =>
      (await s.api('GET', `/v1/events?object_id=${intent.id}&type=payment_intent.canceled`)).body.data.length;
    const backoffOf = (intent: Json) =>
      s.gateway.ctx.db
        .selectFrom('payment_intents')
        .select(['next_close_at', 'close_failures'])
        .where('id', '=', intent.id)
        .executeTakeFirstOrThrow();

    test('intents WeChat keeps failing to close do not keep a later expired intent open (limit 3)', async () => {
      const stuck = [await placeOrder(), await placeOrder(), await placeOrder()];
      await advance(60_000);
      const healthy = await placeOrder();
      await advance(3 * 3600_000);
      const wechat = wechatFailingFor(s.gateway.ctx, new Set(stuck.map((i) => i.wechat_pay.out_trade_no)));

      // The stuck ones expired first, so they go first; having failed, they wait behind the healthy one.
      await runCloses(wechat.ctx, { limit: 3 });
      assert.equal(await status(healthy), 'requires_action');
      await runCloses(wechat.ctx, { limit: 3 });
      assert.equal(await status(healthy), 'canceled');
      assert.equal(await canceledEvents(healthy), 1);
      for (const intent of stuck) {
        assert.equal(await status(intent), 'requires_action');
        assert.equal(wechat.tries(intent.wechat_pay.out_trade_no), 1, 'tried once, then waiting');
      }
    });

    test('a failed close is retried after a wait that doubles with each failure, and closes once WeChat answers', async () => {
      const intent = await placeOrder();
      await advance(3 * 3600_000);
      const outTradeNo = intent.wechat_pay.out_trade_no;
      const stuck = new Set([outTradeNo]);
      const wechat = wechatFailingFor(s.gateway.ctx, stuck);

      let before = s.gateway.ctx.now();
      assert.equal(await runCloses(wechat.ctx), 0);
      let after = s.gateway.ctx.now();
      let backoff = await backoffOf(intent);
      assert.equal(backoff.close_failures, 1);
      assert.ok(
        Number(backoff.next_close_at) >= before + CLOSE_FIRST_RETRY_MS &&
          Number(backoff.next_close_at) <= after + CLOSE_FIRST_RETRY_MS,
      );
      // Not retried during its wait.
      await runCloses(wechat.ctx);
      assert.equal(wechat.tries(outTradeNo), 1);

      await advance(CLOSE_FIRST_RETRY_MS + 1000);
      before = s.gateway.ctx.now();
      await runCloses(wechat.ctx);
      after = s.gateway.ctx.now();
      assert.equal(wechat.tries(outTradeNo), 2, 'retried once its wait was over');
      backoff = await backoffOf(intent);
      assert.equal(backoff.close_failures, 2);
      const wait = 2 * CLOSE_FIRST_RETRY_MS;
      assert.equal(closeRetryDelayMs(2), wait);
      assert.ok(
        Number(backoff.next_close_at) >= before + wait && Number(backoff.next_close_at) <= after + wait,
        'the second wait is twice the first',
      );
      await advance(CLOSE_FIRST_RETRY_MS + 1000);
      await runCloses(wechat.ctx);
      assert.equal(wechat.tries(outTradeNo), 2, 'still waiting: its wait is longer now');

      stuck.clear();
      await advance(CLOSE_FIRST_RETRY_MS);
      assert.equal(await runCloses(wechat.ctx), 1);
      assert.equal(wechat.tries(outTradeNo), 3);
      assert.equal(await status(intent), 'canceled');
      assert.equal(await canceledEvents(intent), 1);
      assert.ok(closeRetryDelayMs(30) <= 15 * 60_000, 'the wait is capped');
    });

    test('fifty intents WeChat keeps failing for (the default limit) hold back neither a scheduled cancel nor an expiry', async () => {
      const stuck: Json[] = [];
      for (let i = 0; i < 50; i++) stuck.push(await placeOrder());
      await advance(60_000);
      const expired = await placeOrder();
      await advance(3 * 3600_000);
      // Canceled within WeChat's 5 minutes of its order: the close is scheduled.
      const canceled = await placeOrder();
      const cancel = await s.api('POST', `/v1/payment_intents/${canceled.id}/cancel`, {});
      assert.ok(cancel.body.cancellation_scheduled_at > 0, JSON.stringify(cancel.body));
      await advance(6 * 60_000);
      const wechat = wechatFailingFor(s.gateway.ctx, new Set(stuck.map((i) => i.wechat_pay.out_trade_no)));

      await runCloses(wechat.ctx);
      assert.equal(await runCloses(wechat.ctx), 2);
      assert.equal(await status(expired), 'canceled');
      assert.equal(await status(canceled), 'canceled');
      assert.equal(await canceledEvents(expired), 1);
      assert.equal(await canceledEvents(canceled), 1);
      const tried = stuck.map((i) => wechat.tries(i.wechat_pay.out_trade_no));
      assert.deepEqual(new Set(tried), new Set([1]), 'each stuck intent tried once so far');
    });

    if (kind === 'postgres')
      test('two workers at once try each failing intent once and close the others once', async () => {
        const stuck: Json[] = [];
        for (let i = 0; i < 6; i++) stuck.push(await placeOrder());
        const healthy: Json[] = [];
        for (let i = 0; i < 4; i++) healthy.push(await placeOrder());
        await advance(3 * 3600_000);
        const wechat = wechatFailingFor(s.gateway.ctx, new Set(stuck.map((i) => i.wechat_pay.out_trade_no)));

        const [a, b] = await Promise.all([runCloses(wechat.ctx), runCloses(wechat.ctx)]);
        assert.equal(a + b, healthy.length);
        for (const intent of healthy) {
          assert.equal(await status(intent), 'canceled');
          assert.equal(await canceledEvents(intent), 1);
        }
        for (const intent of stuck) {
          assert.equal(wechat.tries(intent.wechat_pay.out_trade_no), 1);
          assert.equal((await backoffOf(intent)).close_failures, 1);
        }
      });
  });

  describe(`the checkout sessions job on ${kind}`, () => {
    let s: SandboxGateway;
    beforeEach(async () => {
      s = await startSandboxGateway(kind);
    });
    afterEach(async () => {
      await s?.close();
    });

    const advance = (ms: number) => s.advance(ms);
    /** A session of the shortest life whose QR order is placed at WeChat; returns it with that order's number. */
    const openedSession = async (): Promise<{ id: string; outTradeNo: string }> => {
      const { status, body } = await s.api('POST', '/v1/checkout/sessions', {
        amount: 800,
        currency: 'CNY',
        description: 'Mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
        expires_in: 1800,
      });
      assert.equal(status, 200, JSON.stringify(body));
      const page = await fetch(body.url, { headers: { 'user-agent': DESKTOP } });
      assert.equal(page.status, 200);
      await page.text();
      const intentId = (await s.api('GET', `/v1/checkout/sessions/${body.id}`)).body.payment_intent;
      const intent = (await s.api('GET', `/v1/payment_intents/${intentId}`)).body;
      assert.equal(intent.status, 'requires_action');
      return { id: body.id, outTradeNo: intent.wechat_pay.out_trade_no };
    };
    const status = async (session: { id: string }) =>
      (await s.api('GET', `/v1/checkout/sessions/${session.id}`)).body.status as string;

    test('sessions WeChat cannot settle do not keep a later overdue session open (limit 2), and are retried', async () => {
      const stuck = [await openedSession(), await openedSession()];
      await advance(60_000);
      const healthy = await openedSession();
      // Past every deadline and WeChat's 5 minutes: each order can be closed now.
      await advance(1800_000 + 6 * 60_000);
      const failing = new Set(stuck.map((x) => x.outTradeNo));
      const wechat = wechatFailingFor(s.gateway.ctx, failing);

      const tries = () => stuck.map((x) => wechat.tries(x.outTradeNo));
      // The stuck ones expired first and go first; tried, they go behind the healthy one, which expires.
      await runCheckoutSessions(wechat.ctx, 2);
      assert.deepEqual(tries(), [1, 1]);
      await runCheckoutSessions(wechat.ctx, 2);
      assert.equal(await status(healthy), 'expired');
      assert.equal(tries()[0]! + tries()[1]!, 3, 'the place left was taken by a stuck one');
      // Tried in turn, least recently tried first, on every pass; once WeChat answers, they expire.
      await runCheckoutSessions(wechat.ctx, 2);
      assert.deepEqual(
        tries().sort((a, b) => a - b),
        [2, 3],
      );
      for (const session of stuck) assert.equal(await status(session), 'open');
      failing.clear();
      assert.equal(await runCheckoutSessions(wechat.ctx, 2), 2);
      for (const session of stuck) assert.equal(await status(session), 'expired');
    });

    test('a hundred sessions WeChat cannot settle (the default limit) do not keep a later overdue one open', async () => {
      const stuck: { id: string; outTradeNo: string }[] = [];
      for (let i = 0; i < 100; i++) stuck.push(await openedSession());
      await advance(60_000);
      const healthy = await openedSession();
      await advance(1800_000 + 6 * 60_000);
      const wechat = wechatFailingFor(s.gateway.ctx, new Set(stuck.map((x) => x.outTradeNo)));

      await runCheckoutSessions(wechat.ctx);
      await runCheckoutSessions(wechat.ctx);
      assert.equal(await status(healthy), 'expired');
      const tried = stuck.map((x) => wechat.tries(x.outTradeNo));
      assert.ok(
        tried.every((n) => n >= 1),
        'every stuck session was tried',
      );
    });
  });
}

describe('the worker loop', () => {
  let s: SandboxGateway;
  beforeEach(async () => {
    s = await startSandboxGateway('sqlite');
  });
  afterEach(async () => {
    await s?.close();
  });

  test('passes slower than the interval never overlap nor pile up, and stop() returns within the pass in progress', async () => {
    for (let i = 0; i < 10; i++) {
      const { status } = await s.api('POST', '/v1/payment_intents', {
        amount: 100,
        currency: 'CNY',
        confirm: true,
        payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } },
      });
      assert.equal(status, 200);
    }
    // Expired, past WeChat's 5 minutes: the follow-up and the close job both ask WeChat about each of them.
    s.clock.offsetMs += 3 * 3600_000;
    const CALL_MS = 100;
    let calls = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    const slowWechat = {
      orderQuery: async () => {
        calls++;
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        await sleep(CALL_MS);
        inFlight--;
        throw new Error('WeChat is slow and then fails');
      },
    };
    const ctx: ServiceContext = { ...s.gateway.ctx, wechat: () => slowWechat as never };
    const worker = startWorker(ctx, 20);
    await waitFor('the first pass asks WeChat', async () => (calls > 0 ? true : undefined));
    await sleep(300);

    const callsWhenAsked = calls;
    const stopped = await Promise.race([worker.stop().then(() => 'stopped'), sleep(5000).then(() => 'hung')]);
    assert.equal(stopped, 'stopped', 'stop() still waiting after 5 s: runs queued up behind the slow one');
    // One pass asks WeChat at most twice per intent (follow-up and close). stop() waited for what was left of the
    // pass in progress, and no queued pass ran behind it.
    const callsWhileStopping = calls - callsWhenAsked;
    assert.ok(callsWhileStopping <= 2 * 10, `${callsWhileStopping} WeChat calls after stop() was asked`);
    assert.equal(mostInFlight, 1, 'two passes ran at once');
    const callsAtStop = calls;
    await sleep(300);
    assert.equal(calls, callsAtStop, 'nothing runs after stop()');
  });

  test('a job that throws is logged by name and the jobs after it still run, one pass at a time', async () => {
    const warnings: { job?: string; err?: string }[] = [];
    const ctx: ServiceContext = {
      ...s.gateway.ctx,
      log: { warn: (obj) => warnings.push(obj), info: () => {} },
    };
    let runs = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    const jobs: WorkerJob[] = [
      {
        name: 'broken',
        run: async () => {
          throw new Error('the database went away');
        },
      },
      {
        name: 'slow',
        run: async () => {
          runs++;
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          await sleep(50);
          inFlight--;
        },
      },
    ];
    const worker = startWorker(ctx, 5, jobs);
    await waitFor('three passes', async () => (runs >= 3 ? true : undefined), 3000);
    await worker.stop();
    const after = runs;
    await sleep(100);
    assert.equal(runs, after, 'no pass after stop()');
    assert.equal(mostInFlight, 1);
    const broken = warnings.filter((w) => w.job === 'broken');
    assert.ok(broken.length >= 3, JSON.stringify(warnings));
    assert.equal(broken[0]?.err, 'the database went away');
  });
});
