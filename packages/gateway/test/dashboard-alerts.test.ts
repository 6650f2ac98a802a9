// The overview's "Needs attention" list: refused notifies and WeChat contradicting the gateway, newest first,
// only the account's own in its mode, read from their own index.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { ALERT_TYPES, type Alert, recentAlerts } from '../src/domain/alerts.ts';
import { startDashboardSession } from '../src/domain/dashboard-sessions.ts';
import { recordEvent } from '../src/domain/events.ts';
import { alertsSection } from '../src/web/dashboard/views.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, notifyXml, startHarness } from './support/harness.ts';
import { sqlitePlans } from './support/query-plan.ts';

for (const kind of DATABASE_KINDS) {
  describe(`dashboard alerts on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
    });
    after(async () => h?.close());

    const overviewHtml = async (secretKey: string) => {
      const session = await startDashboardSession(h.gateway.ctx, secretKey);
      assert.ok(session);
      const response = await fetch(`${h.url}/dashboard`, {
        headers: { cookie: `wxpay_dashboard=${session.token}` },
      });
      assert.equal(response.status, 200);
      return response.text();
    };
    const alertItems = (html: string) => [
      ...html.matchAll(/<li data-testid="alert" data-type="([^"]+)">(.*?)<\/li>/g),
    ];

    test('a forged notify and a notify with another amount are listed with a link to their payment', async () => {
      assert.match(await overviewHtml(h.key), /data-testid="no-alerts"/);
      const created = await h.api('POST', '/v1/payment_intents', {
        amount: 100,
        currency: 'CNY',
        confirm: true,
        payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const order = h.orders.get(created.body.wechat_pay.out_trade_no)!;
      await h.postNotify(notifyXml(order, {}, 'f'.repeat(32)));
      h.clock.now += 1000;
      await h.postNotify(h.pay(order.out_trade_no, { total_fee: '1' }));

      const items = alertItems(await overviewHtml(h.key));
      assert.equal(items.length, 2);
      const [amount, forged] = items;
      assert.equal(amount![1], 'payment_intent.notify_rejected');
      assert.match(amount![2] ?? '', /another amount or currency/);
      assert.match(forged![2] ?? '', /failed its signature check/);
      for (const item of items)
        assert.match(item[2] ?? '', new RegExp(`href="/dashboard/payments/${created.body.id}"`));

      // Another account sees none of them.
      assert.match(await overviewHtml(h.otherKey), /data-testid="no-alerts"/);
    });

    test('the newest alerts of every type, newest first, however many of one type there are', async () => {
      const auth = { accountId: h.accountId, livemode: true };
      const base = h.clock.now;
      for (let i = 0; i < 30; i += 2) {
        await recordEvent(
          h.gateway.ctx.db,
          {
            accountId: h.accountId,
            livemode: true,
            type: 'payment_intent.notify_rejected',
            objectId: null,
            data: { reason: 'signature_invalid' },
          },
          base + i,
        );
      }
      const ordinary = { accountId: h.accountId, livemode: true, objectId: null, data: {} };
      await recordEvent(h.gateway.ctx.db, { ...ordinary, type: 'payment_intent.succeeded' }, base + 20);
      await recordEvent(
        h.gateway.ctx.db,
        { ...ordinary, type: 'payment_intent.wechat_status_conflict', objectId: 'pi_conflict' },
        base + 15,
      );
      const alerts = await recentAlerts(h.gateway.ctx, auth, 5);
      assert.deepEqual(
        alerts.map((a) => [a.type, a.created - base]),
        [28, 26, 24, 22, 20].map((at) => ['payment_intent.notify_rejected', at]),
      );
      const more = await recentAlerts(h.gateway.ctx, auth, 9);
      assert.deepEqual(
        more.map((a) => a.created - base),
        [28, 26, 24, 22, 20, 18, 16, 15, 14],
      );
      assert.deepEqual(more[7], {
        id: more[7]!.id,
        type: 'payment_intent.wechat_status_conflict',
        created: base + 15,
        data: {},
        paymentIntent: 'pi_conflict',
        refund: null,
      });
      // Test mode has its own alerts.
      const testMode = await recentAlerts(h.gateway.ctx, { ...auth, livemode: false });
      // (the first test's, about its intent; none of the live ones above, which name no intent or pi_conflict)
      assert.ok(testMode.length > 0);
      for (const a of testMode) assert.ok(a.paymentIntent && a.paymentIntent !== 'pi_conflict', a.id);
    });

    test('a notify anyone could post is alerted once an hour per payment; a signed one every time', async () => {
      const rejections = async () =>
        (await h.api('GET', '/v1/events?type=payment_intent.notify_rejected&limit=100')).body.data.map(
          (e: { data: { object: Record<string, unknown> } }) => e.data.object,
        );
      h.clock.now += 2 * 3600_000;
      const before = (await rejections()).length;
      const created = await h.api('POST', '/v1/payment_intents', {
        amount: 200,
        currency: 'CNY',
        confirm: true,
        payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } },
      });
      const order = h.orders.get(created.body.wechat_pay.out_trade_no)!;
      const stranger = { ...order, out_trade_no: 'NotOurs0001' };
      for (let i = 0; i < 3; i++) {
        // A bad signature naming our order, and one naming nothing of ours: anyone can send these.
        assert.equal((await h.postNotify(notifyXml(order, {}, 'f'.repeat(32)))).status, 200);
        assert.equal((await h.postNotify(notifyXml(stranger, {}, 'f'.repeat(32)))).status, 200);
        h.clock.now += 1000;
      }
      // Signed by the merchant's key, for orders the account does not have: each one is alerted, with its number.
      await h.postNotify(notifyXml({ ...order, out_trade_no: 'Unknown0001' }));
      await h.postNotify(notifyXml({ ...order, out_trade_no: 'Unknown0002' }));
      const fresh = (await rejections()).slice(0, (await rejections()).length - before);
      const summary = fresh.map(
        (d: Record<string, unknown>) => `${d.reason}:${d.payment_intent ?? d.out_trade_no ?? '-'}`,
      );
      assert.deepEqual(summary.sort(), [
        'signature_invalid:-',
        `signature_invalid:${created.body.id}`,
        'unknown_out_trade_no:Unknown0001',
        'unknown_out_trade_no:Unknown0002',
      ]);
      // An hour later the same unverifiable notify is alerted again.
      h.clock.now += 3600_000;
      await h.postNotify(notifyXml(order, {}, 'f'.repeat(32)));
      assert.equal((await rejections()).length, before + 5);
    });
  });
}

describe('alert texts', () => {
  const alert = (type: Alert['type'], data: Record<string, unknown>, extra: Partial<Alert> = {}): Alert => ({
    id: 'evt_1',
    type,
    created: Date.UTC(2026, 10, 22, 4, 0),
    data,
    paymentIntent: 'pi_1',
    refund: null,
    ...extra,
  });

  test('each alert says what happened and what to do, escaped, with a link to its payment', () => {
    const html = alertsSection([
      alert('refund.wechat_status_conflict', { status: 'failed' }, { refund: 're_1' }),
      alert('refund.wechat_status_conflict', { status: 'failed', corrected: true }, { refund: 're_2' }),
      alert(
        'refund.wechat_status_conflict',
        { status: 'failed', corrected: false, reason: 'exceeds_unrefunded_amount', unrefunded_amount: 100 },
        { refund: 're_3' },
      ),
      alert('payment_intent.wechat_status_conflict', {}),
      alert(
        'payment_intent.notify_rejected',
        { reason: 'unknown_out_trade_no', out_trade_no: '<b>x' },
        {
          paymentIntent: null,
        },
      ),
      alert('payment_intent.notify_rejected', { reason: 'amount_mismatch', source: 'orderquery' }),
      alert('checkout.session.completed_after_expiry', { checkout_session: 'cs_test_1' }),
      alert('payment_intent.wechat_status_conflict', {
        retired_out_trade_no: 'AbC123',
        out_trade_no: 'AbC123_2',
        status: 'succeeded',
      }),
      alert('payment_intent.wechat_status_conflict', {
        retired_out_trade_no: 'XyZ789',
        out_trade_no: 'XyZ789_2',
        status: 'requires_action',
      }),
      alert(
        'refund.notify_rejected',
        { reason: 'req_info_invalid', error: 'req_info does not decrypt with this APIv2 key.' },
        { paymentIntent: null },
      ),
    ]);
    assert.match(html, /A refund notify could not be read and was refused: req_info does not decrypt/);
    assert.match(
      html,
      /order AbC123 as paid, which it had said failed .* order AbC123_2, paid too: the payer paid twice/,
    );
    assert.match(
      html,
      /order XyZ789 as paid, .* order XyZ789_2, which is not paid: the payer paid through the old order/,
    );
    assert.match(html, /Checkout session cs_test_1 was paid after it expired, and is now complete/);
    assert.match(html, /refund re_1 as succeeded, which is failed here: the payer got the money back/);
    assert.match(
      html,
      /refund re_2 as succeeded, after it had closed or refused it: .* now marked succeeded here, and its amount is no longer refundable/,
    );
    assert.match(
      html,
      /refund re_3 as succeeded, which is failed here, and the payment&#39;s other refunds leave less than its amount unrefunded: .* The refund was left failed\./,
    );
    assert.match(html, /canceled here as paid: the payer was charged\. Refund it/);
    assert.match(html, /order this account does not have \(&lt;b&gt;x\)/);
    assert.match(html, /WeChat \(orderquery\) reported another amount/);
    assert.match(html, /<time>2026-11-22 12:00<\/time>/, 'China Standard Time');
    assert.equal(html.match(/href="\/dashboard\/payments\/pi_1"/g)?.length, 8);
  });

  test('every alert type has its own text', () => {
    const texts = ALERT_TYPES.map((type) => alertsSection([alert(type, { reason: 'signature_invalid' })]));
    assert.equal(new Set(texts).size, ALERT_TYPES.length);
  });
});

describe('the alerts query on SQLite', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('sqlite');
  });
  after(async () => h?.close());

  test('reads the newest alerts from their own index in order, with no sort and no search of the events', async () => {
    await sql`ANALYZE`.execute(h.gateway.ctx.db);
    const plans = await sqlitePlans(h.gateway.ctx.db, (db) =>
      recentAlerts({ ...h.gateway.ctx, db }, { accountId: h.accountId, livemode: false }),
    );
    assert.equal(plans.length, 1);
    const text = plans[0]!;
    assert.match(
      text,
      /SEARCH event_alerts USING (COVERING )?INDEX event_alerts_account_created \(account_id=\? AND livemode=\?\)/,
    );
    assert.match(text, /SEARCH events USING INDEX sqlite_autoindex_events_1 \(id=\?\)/);
    assert.doesNotMatch(text, /TEMP B-TREE|SCAN/, text);
  });

  test('only alert events are recorded as alerts, in the same transaction as the event', async () => {
    const db = h.gateway.ctx.db;
    const base = { accountId: h.accountId, livemode: false, objectId: null, data: {} };
    const count = async () =>
      Number(
        (
          await db
            .selectFrom('event_alerts')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    await recordEvent(db, { ...base, type: 'payment_intent.succeeded' }, h.clock.now);
    assert.equal(await count(), before);
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await recordEvent(trx, { ...base, type: 'refund.wechat_status_conflict' }, h.clock.now);
        throw new Error('the state change failed');
      }),
    );
    assert.equal(await count(), before, 'rolled back with its event');
    await recordEvent(db, { ...base, type: 'refund.wechat_status_conflict' }, h.clock.now);
    assert.equal(await count(), before + 1);
  });
});
