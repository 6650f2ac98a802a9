// Checkout sessions at their deadline, over the real sandbox: a payment made before the deadline completes the
// session even when WeChat's notify is late, an order WeChat has not settled keeps the session open until it
// has, and neither the job nor the expire API ever leaves a paid session expired.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { recentAlerts } from '../src/domain/alerts.ts';
import { runCheckoutSessions } from '../src/domain/checkout-sessions.ts';
import type { Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';

const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0';
/** The shortest session, so that its deadline is reached by moving the clocks half an hour. */
const EXPIRES_IN = 1800;
/** WeChat's notify held back long after the deadline. */
const LATE_NOTIFY = {
  endpoint: 'payment_notify',
  kind: 'delay_notify',
  delaySeconds: 3600,
  count: 1,
} as const;

for (const kind of DATABASE_KINDS) {
  describe(`a checkout session at its deadline on ${kind}`, () => {
    let s: SandboxGateway;
    before(async () => {
      s = await startSandboxGateway(kind);
    });
    afterEach(() => s?.sandbox.faults.clear());
    after(async () => {
      await s?.close();
    });

    /** Moves the gateway's clock and WeChat's together by `seconds`. */
    const advance = (seconds: number) => s.advance(seconds * 1000);
    const createSession = async (): Promise<Json> => {
      const { status, body } = await s.api('POST', '/v1/checkout/sessions', {
        amount: 800,
        currency: 'CNY',
        description: 'Mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
        expires_in: EXPIRES_IN,
      });
      assert.equal(status, 200, JSON.stringify(body));
      return body;
    };
    const session = async (id: string): Promise<Json> =>
      (await s.api('GET', `/v1/checkout/sessions/${id}`)).body;
    const intent = async (id: string): Promise<Json> =>
      (await s.api('GET', `/v1/payment_intents/${id}`)).body;
    /** The payer opens the page on a desktop: the QR order is placed at WeChat. Returns its intent. */
    const openPage = async (checkout: Json): Promise<string> => {
      const page = await fetch(checkout.url, { headers: { 'user-agent': DESKTOP } });
      assert.equal(page.status, 200);
      await page.text();
      const id = (await session(checkout.id)).payment_intent as string;
      assert.equal((await intent(id)).status, 'requires_action');
      return id;
    };
    const payAtWechat = async (intentId: string) => {
      const paid = await s.sandbox.pay({
        mch_id: s.sandbox.merchants[0]!.mchId,
        out_trade_no: (await intent(intentId)).wechat_pay.out_trade_no,
      });
      assert.ok(paid.ok, JSON.stringify(paid));
    };
    /** The session's event types, oldest first. */
    const eventTypes = async (objectId: string): Promise<string[]> =>
      ((await s.api('GET', `/v1/events?object_id=${objectId}&limit=100`)).body.data as Json[])
        .map((e) => e.type as string)
        .reverse();
    const intentsOf = async (sessionId: string) =>
      s.gateway.ctx.db
        .selectFrom('checkout_session_intents')
        .select('intent_id')
        .where('session_id', '=', sessionId)
        .execute();
    /** WeChat took the money for this intent exactly once, and nothing was refunded. */
    const chargedOnce = async (intentId: string) => {
      const outTradeNo = (await intent(intentId)).wechat_pay.out_trade_no;
      const payments = s.sandbox
        .ledger(s.sandbox.merchants[0]!.mchId)
        .movements.filter((m) => m.ref === outTradeNo);
      assert.deepEqual(
        payments.map((m) => [m.kind, m.amount]),
        [['payment', 800]],
      );
      const refunds = await s.gateway.ctx.db
        .selectFrom('refunds')
        .select('id')
        .where('payment_intent', '=', intentId)
        .execute();
      assert.equal(refunds.length, 0);
    };

    test('paid ten seconds before the deadline with a late notify: the job completes the session, not expires it', async () => {
      const checkout = await createSession();
      const qr = await openPage(checkout);
      s.sandbox.faults.add(LATE_NOTIFY);
      await advance(EXPIRES_IN - 10);
      await payAtWechat(qr);
      await advance(20);
      assert.equal((await intent(qr)).status, 'requires_action', 'no notify yet');

      assert.equal(await runCheckoutSessions(s.gateway.ctx), 1);
      const done = await session(checkout.id);
      assert.equal(done.status, 'complete');
      assert.equal(done.payment_status, 'paid');
      assert.equal(done.payment_intent, qr);
      assert.equal((await intent(qr)).status, 'succeeded');
      assert.deepEqual(await eventTypes(checkout.id), ['checkout.session.completed']);
      await chargedOnce(qr);

      // WeChat's notify arrives an hour later: acknowledged, and nothing changes.
      await advance(3600);
      const outTradeNo = (await intent(qr)).wechat_pay.out_trade_no;
      await waitFor('the late notify delivered', async () =>
        s.sandbox.notifies({ ref: outTradeNo }).some((n) => n.state === 'delivered') ? true : undefined,
      );
      assert.equal(await runCheckoutSessions(s.gateway.ctx), 0);
      assert.equal((await session(checkout.id)).status, 'complete');
      assert.deepEqual(await eventTypes(checkout.id), ['checkout.session.completed']);
      await chargedOnce(qr);
    });

    test("ordered and paid in WeChat's last five minutes before the deadline: the close waits, the query finds the payment", async () => {
      const checkout = await createSession();
      await advance(EXPIRES_IN - 20);
      const qr = await openPage(checkout);
      s.sandbox.faults.add(LATE_NOTIFY);
      await payAtWechat(qr);
      await advance(30);

      assert.equal(await runCheckoutSessions(s.gateway.ctx), 1);
      const done = await session(checkout.id);
      assert.equal(done.status, 'complete');
      assert.equal(done.payment_intent, qr);
      assert.deepEqual(await eventTypes(checkout.id), ['checkout.session.completed']);
      await chargedOnce(qr);
    });

    test('an unpaid order WeChat cannot close yet keeps the session open past its deadline; a later pass expires it', async () => {
      const checkout = await createSession();
      await advance(EXPIRES_IN - 20);
      const qr = await openPage(checkout);
      await advance(30);

      assert.equal(await runCheckoutSessions(s.gateway.ctx), 0);
      assert.equal((await session(checkout.id)).status, 'open');
      const waiting = await intent(qr);
      assert.equal(waiting.status, 'requires_action');
      assert.notEqual(waiting.cancellation_scheduled_at, null, 'its close is scheduled');
      assert.deepEqual(await eventTypes(checkout.id), []);
      // The page waits for WeChat's word and places no new order past the deadline.
      const status = (await (await fetch(`${checkout.url}/status`)).json()) as Json;
      assert.equal(status.state, 'confirming');
      const page = await fetch(checkout.url, { headers: { 'user-agent': DESKTOP } });
      await page.text();
      assert.equal((await intentsOf(checkout.id)).length, 1);

      await advance(5 * 60);
      assert.equal(await runCheckoutSessions(s.gateway.ctx), 1);
      assert.equal((await session(checkout.id)).status, 'expired');
      assert.equal((await intent(qr)).status, 'canceled');
      assert.deepEqual(await eventTypes(checkout.id), ['checkout.session.expired']);
    });

    test('WeChat unreachable at the deadline: the session stays open, expire is refused, the next pass expires it', async () => {
      const checkout = await createSession();
      const qr = await openPage(checkout);
      await advance(EXPIRES_IN + 1);
      s.sandbox.faults.add({ endpoint: 'orderquery', kind: 'http_500', probability: 1 });

      assert.equal(await runCheckoutSessions(s.gateway.ctx), 0);
      assert.equal((await session(checkout.id)).status, 'open');
      assert.equal((await intent(qr)).status, 'requires_action');
      const expire = await s.api('POST', `/v1/checkout/sessions/${checkout.id}/expire`, {});
      assert.equal(expire.status, 400, JSON.stringify(expire.body));
      assert.equal(expire.body.error.code, 'checkout_session_unexpected_state');
      assert.equal((await session(checkout.id)).status, 'open');
      assert.deepEqual(await eventTypes(checkout.id), []);

      s.sandbox.faults.clear();
      assert.equal(await runCheckoutSessions(s.gateway.ctx), 1);
      assert.equal((await session(checkout.id)).status, 'expired');
      assert.equal((await intent(qr)).status, 'canceled');
      assert.deepEqual(await eventTypes(checkout.id), ['checkout.session.expired']);
    });

    for (const [when, age] of [
      ["within WeChat's five minutes", 0],
      ['after five minutes', 400],
    ] as const) {
      test(`expire on a session paid ${when} whose notify is late completes it and is refused`, async () => {
        const checkout = await createSession();
        const qr = await openPage(checkout);
        s.sandbox.faults.add(LATE_NOTIFY);
        await payAtWechat(qr);
        await advance(age);

        const expire = await s.api('POST', `/v1/checkout/sessions/${checkout.id}/expire`, {});
        assert.equal(expire.status, 400, JSON.stringify(expire.body));
        assert.equal(expire.body.error.code, 'checkout_session_unexpected_state');
        assert.match(expire.body.error.message, /status of complete/);
        const done = await session(checkout.id);
        assert.equal(done.status, 'complete');
        assert.equal(done.payment_intent, qr);
        assert.equal((await intent(qr)).status, 'succeeded');
        assert.deepEqual(await eventTypes(checkout.id), ['checkout.session.completed']);
        await chargedOnce(qr);
      });
    }

    test('a payment confirmed after the session was expired completes it, with an alert event', async () => {
      const checkout = await createSession();
      const qr = await openPage(checkout);
      // WeChat says the order is unpaid, but closes it only after five minutes: the session expires now.
      const expired = await s.api('POST', `/v1/checkout/sessions/${checkout.id}/expire`, {});
      assert.equal(expired.status, 200, JSON.stringify(expired.body));
      assert.equal(expired.body.status, 'expired');
      assert.notEqual((await intent(qr)).cancellation_scheduled_at, null);
      // The payer pays the QR code still on screen before the close runs; the notify arrives at once.
      await payAtWechat(qr);
      await waitFor('the intent succeeded', async () =>
        (await intent(qr)).status === 'succeeded' ? true : undefined,
      );

      assert.equal(await runCheckoutSessions(s.gateway.ctx), 1);
      const done = await session(checkout.id);
      assert.equal(done.status, 'complete');
      assert.equal(done.payment_intent, qr);
      // The two later events are written in one transaction, at the same time: their order is not defined.
      const [first, ...then] = await eventTypes(checkout.id);
      assert.equal(first, 'checkout.session.expired');
      assert.deepEqual(then.sort(), [
        'checkout.session.completed',
        'checkout.session.completed_after_expiry',
      ]);
      const alert = (
        await s.api('GET', `/v1/events?object_id=${checkout.id}&type=checkout.session.completed_after_expiry`)
      ).body.data[0];
      assert.deepEqual(alert.data.object, {
        checkout_session: checkout.id,
        payment_intent: qr,
        amount: 800,
        currency: 'CNY',
      });
      // The dashboard's overview lists it, with a link to the payment.
      const [listed] = await recentAlerts(s.gateway.ctx, { accountId: s.accountId, livemode: false });
      assert.equal(listed?.type, 'checkout.session.completed_after_expiry');
      assert.equal(listed?.paymentIntent, qr);
      // Settled once: the job finds nothing more to do, and the payment is kept.
      assert.equal(await runCheckoutSessions(s.gateway.ctx), 0);
      assert.equal((await eventTypes(checkout.id)).length, 3);
      await chargedOnce(qr);
    });
  });
}
