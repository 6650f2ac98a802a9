// PaymentIntents end to end: HTTP → gateway → mock WeChat over HTTPS → real SQLite file / PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseXml, verifySign } from '@wxpay/sdk';
import { MERCHANT } from '../../sdk/test/support/mock-wechat.ts';
import { eventsOf } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, type Json, startHarness } from './support/harness.ts';

for (const kind of DATABASE_KINDS) {
  describe(`payment intents on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
    });
    after(async () => {
      await h?.close();
    });

    const create = (wechatPay: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      h.api('POST', '/v1/payment_intents', {
        amount: 20,
        currency: 'CNY',
        confirm: true,
        payment_method_data: { type: 'wechat_pay' },
        payment_method_options: { wechat_pay: wechatPay },
        ...extra,
      });

    const cases: {
      terminal: string;
      options?: Record<string, string>;
      // biome-ignore lint/suspicious/noExplicitAny: next_action differs per terminal type
      check(nextAction: any, h: Harness): void;
    }[] = [
      {
        terminal: 'WEB',
        check(next, h) {
          assert.equal(next.type, 'wechat_pay_display_qr_code');
          assert.match(next.wechat_pay_display_qr_code.image_data_url, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
          assert.ok(next.wechat_pay_display_qr_code.image_url_svg.startsWith(`${h.url}/qr/pi_`));
        },
      },
      {
        terminal: 'WAP',
        check(next) {
          assert.equal(next.type, 'wechat_pay_redirect_to_web');
          assert.match(
            next.wechat_pay_redirect_to_web.url,
            /checkmweb\?prepay_id=.*&redirect_url=https%3A%2F%2Fshop\.example%2Fdone$/,
          );
        },
      },
      {
        terminal: 'OFFICIAL_ACCOUNT',
        options: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        check(next) {
          const params = next.wechat_pay_official_account_params;
          assert.equal(next.type, 'wechat_pay_official_account_params');
          assert.match(params.package, /^prepay_id=wx/);
          assert.deepEqual(Object.keys(params).sort(), [
            'appId',
            'nonceStr',
            'package',
            'paySign',
            'signType',
            'timeStamp',
          ]);
        },
      },
      {
        terminal: 'MINI_PROGRAM',
        options: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        check(next) {
          assert.equal(next.type, 'wechat_pay_mini_program_params');
          assert.match(next.wechat_pay_mini_program_params.paySign, /^[0-9A-F]{32}$/);
        },
      },
      {
        terminal: 'APP',
        check(next) {
          assert.equal(next.type, 'wechat_pay_app_params');
          assert.equal(next.wechat_pay_app_params.package, 'Sign=WXPay');
          assert.match(next.wechat_pay_app_params.prepayid, /^wx/);
        },
      },
    ];

    for (const c of cases) {
      test(`${c.terminal} reaches succeeded through a verified notify, with one succeeded event`, async () => {
        const created = await create(
          { terminal_type: c.terminal, client_ip: '203.0.113.7', ...c.options },
          { return_url: 'https://shop.example/done' },
        );
        assert.equal(created.status, 200, JSON.stringify(created.body));
        assert.equal(created.body.status, 'requires_action');
        c.check(created.body.next_action, h);
        const outTradeNo = created.body.wechat_pay.out_trade_no;
        const sent = h.mock.requests.find(
          (r) => r.path === '/pay/unifiedorder' && r.fields.out_trade_no === outTradeNo,
        )!;
        assert.equal(sent.fields.total_fee, '20');
        assert.equal(sent.fields.notify_url, `${h.url}/notify/wechatpay/${h.accountId}`);
        assert.match(sent.fields.time_expire!, /^\d{14}$/);

        const reply = await h.postNotify(h.pay(outTradeNo));
        assert.match(reply.text, /<return_code><!\[CDATA\[SUCCESS\]\]><\/return_code>/);
        const after = await h.api('GET', `/v1/payment_intents/${created.body.id}`);
        assert.equal(after.body.status, 'succeeded');
        assert.equal(after.body.wechat_pay.transaction_id, h.orders.get(outTradeNo)!.transaction_id);
        assert.equal((await eventsOf(h.api, created.body.id, 'payment_intent.succeeded')).length, 1);
      });
    }

    test('the QR link of a WEB intent renders an SVG of its code_url', async () => {
      const created = await create({ terminal_type: 'WEB' });
      const response = await fetch(created.body.next_action.wechat_pay_display_qr_code.image_url_svg);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'image/svg+xml');
      assert.match(await response.text(), /^<svg/);
    });

    test('SCAN_CODE charges the payment code with micropay and succeeds on the signed reply', async () => {
      const created = await create(
        { terminal_type: 'SCAN_CODE' },
        { payment_method_data: { type: 'wechat_pay', wechat_pay: { payment_code: '134567890123456789' } } },
      );
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.status, 'succeeded');
      assert.equal(h.mock.requests.at(-1)!.fields.auth_code, '134567890123456789');
    });

    test('a micropay reply with another amount is refused: processing, notify_rejected, never succeeded', async () => {
      const created = await create(
        { terminal_type: 'SCAN_CODE' },
        { payment_method_data: { type: 'wechat_pay', wechat_pay: { payment_code: '154567890123456789' } } },
      );
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.status, 'processing');
      const rejected = await eventsOf(h.api, created.body.id, 'payment_intent.notify_rejected');
      assert.equal(rejected.length, 1);
      assert.equal((await eventsOf(h.api, created.body.id, 'payment_intent.succeeded')).length, 0);
    });

    test('SCAN_CODE waiting for the payer (USERPAYING) is processing until orderquery says SUCCESS', async () => {
      const created = await create(
        { terminal_type: 'SCAN_CODE' },
        { payment_method_data: { type: 'wechat_pay', wechat_pay: { payment_code: '144567890123456789' } } },
      );
      assert.equal(created.body.status, 'processing');
      h.orders.get(created.body.wechat_pay.out_trade_no)!.state = 'SUCCESS';
      h.clock.now += 6_000;
      await h.gateway.runJobs();
      assert.equal((await h.api('GET', `/v1/payment_intents/${created.body.id}`)).body.status, 'succeeded');
    });

    test('a second notify for a paid intent changes nothing and still answers SUCCESS', async () => {
      const created = await create({ terminal_type: 'WEB' });
      const xml = h.pay(created.body.wechat_pay.out_trade_no);
      await h.postNotify(xml);
      const again = await h.postNotify(xml);
      assert.match(again.text, /SUCCESS/);
      assert.equal((await eventsOf(h.api, created.body.id, 'payment_intent.succeeded')).length, 1);
    });

    test('a forged notify is refused, recorded as notify_rejected, and leaves the intent unchanged', async () => {
      const created = await create({ terminal_type: 'WEB' });
      const order = h.orders.get(created.body.wechat_pay.out_trade_no)!;
      const { notifyXml } = await import('./support/harness.ts');
      const forged = notifyXml(order, {}, 'f'.repeat(32));
      const reply = await h.postNotify(forged);
      assert.match(reply.text, /<return_code><!\[CDATA\[FAIL\]\]><\/return_code>/);
      assert.equal(
        (await h.api('GET', `/v1/payment_intents/${created.body.id}`)).body.status,
        'requires_action',
      );
      const rejected = await eventsOf(h.api, created.body.id, 'payment_intent.notify_rejected');
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0]!.data.object.reason, 'signature_invalid');
    });

    test('a notify whose amount or currency differs is refused and leaves the intent unchanged', async () => {
      const created = await create({ terminal_type: 'WEB' });
      const outTradeNo = created.body.wechat_pay.out_trade_no;
      for (const overrides of [{ total_fee: '1' }, { fee_type: 'USD' }] as Record<string, string>[]) {
        const reply = await h.postNotify(h.pay(outTradeNo, overrides));
        assert.match(reply.text, /FAIL/);
      }
      assert.equal(
        (await h.api('GET', `/v1/payment_intents/${created.body.id}`)).body.status,
        'requires_action',
      );
      const rejected = await eventsOf(h.api, created.body.id, 'payment_intent.notify_rejected');
      assert.deepEqual(
        rejected.map((e) => e.data.object.reason),
        ['amount_mismatch', 'amount_mismatch'],
      );
      assert.equal((await eventsOf(h.api, created.body.id, 'payment_intent.succeeded')).length, 0);
    });

    test('a notify for another account’s URL is refused (mch_id/appid do not match)', async () => {
      const created = await create({ terminal_type: 'WEB' });
      const other = (
        await h.api('GET', '/v1/payment_intents?limit=1', undefined, {
          authorization: `Bearer ${h.otherKey}`,
        })
      ).body;
      assert.equal(other.data.length, 0);
      const otherAccount = await h.gateway.ctx.db
        .selectFrom('accounts')
        .select('id')
        .where('id', '!=', h.accountId)
        .executeTakeFirstOrThrow();
      const reply = await h.postNotify(h.pay(created.body.wechat_pay.out_trade_no), otherAccount.id);
      assert.match(reply.text, /FAIL/);
      assert.equal(
        (await h.api('GET', `/v1/payment_intents/${created.body.id}`)).body.status,
        'requires_action',
      );
    });

    test('a dropped notify is recovered by the orderquery follow-up, and the query reply is kept', async () => {
      const created = await create({ terminal_type: 'WEB' });
      h.pay(created.body.wechat_pay.out_trade_no); // paid, but the notify never arrives
      await h.gateway.runJobs();
      assert.equal(
        (await h.api('GET', `/v1/payment_intents/${created.body.id}`)).body.status,
        'requires_action',
        'not due yet',
      );
      h.clock.now += 61_000;
      const { followUps } = await h.gateway.runJobs();
      assert.ok(followUps >= 1);
      const after = await h.api('GET', `/v1/payment_intents/${created.body.id}?expand[]=wechat_payloads`);
      assert.equal(after.body.status, 'succeeded');
      assert.deepEqual(
        after.body.wechat_payloads.map((p: { kind: string }) => p.kind),
        ['prepay', 'query'],
      );
      // What WeChat sent, as sent: its signed XML, not our reading of it.
      const [prepay, query] = after.body.wechat_payloads.map((p: { body: string }) => parseXml(p.body));
      assert.ok(verifySign(prepay, MERCHANT.key) && verifySign(query, MERCHANT.key));
      assert.equal(prepay.code_url, created.body.next_action.wechat_pay_display_qr_code.image_data_url);
      assert.equal(query.trade_state, 'SUCCESS');
      assert.equal((await eventsOf(h.api, created.body.id, 'payment_intent.succeeded')).length, 1);
    });

    test('client_result ok moves to processing and never to succeeded while WeChat says NOTPAY', async () => {
      const created = await create({
        terminal_type: 'OFFICIAL_ACCOUNT',
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      });
      const result = await h.api('POST', `/v1/payment_intents/${created.body.id}/client_result`, {
        err_msg: 'get_brand_wcpay_request:ok',
      });
      assert.equal(result.status, 200);
      assert.equal(result.body.status, 'processing');
      assert.equal(result.body.client_result, 'get_brand_wcpay_request:ok');
      const queried = h.mock.requests.filter(
        (r) => r.path === '/pay/orderquery' && r.fields.out_trade_no === created.body.wechat_pay.out_trade_no,
      );
      assert.equal(queried.length, 1, 'an immediate orderquery');
      assert.equal((await eventsOf(h.api, created.body.id, 'payment_intent.succeeded')).length, 0);
      // The verified notify still completes it.
      await h.postNotify(h.pay(created.body.wechat_pay.out_trade_no));
      assert.equal((await h.api('GET', `/v1/payment_intents/${created.body.id}`)).body.status, 'succeeded');
    });

    test('a cancel within 5 minutes of the order is scheduled, and the worker closes the order after', async () => {
      const created = await create({ terminal_type: 'WEB' });
      const canceled = await h.api('POST', `/v1/payment_intents/${created.body.id}/cancel`, {});
      assert.equal(canceled.status, 200);
      assert.equal(canceled.body.status, 'requires_action');
      assert.ok(canceled.body.cancellation_scheduled_at > 0);
      const outTradeNo = created.body.wechat_pay.out_trade_no;
      assert.equal(
        h.mock.requests.filter((r) => r.path === '/pay/closeorder' && r.fields.out_trade_no === outTradeNo)
          .length,
        0,
      );
      h.clock.now += 5 * 60_000 + 1000;
      await h.gateway.runJobs();
      const after = await h.api('GET', `/v1/payment_intents/${created.body.id}`);
      assert.equal(after.body.status, 'canceled');
      assert.equal(after.body.cancellation_reason, 'requested_by_customer');
      assert.equal(h.orders.get(outTradeNo)!.state, 'CLOSED');
    });

    test('a paid notify for an intent we closed is kept, recorded on the intent and alerted once; it stays canceled', async () => {
      const created = await create({ terminal_type: 'WEB' });
      const outTradeNo = created.body.wechat_pay.out_trade_no;
      h.clock.now += 5 * 60_000 + 1000;
      const canceled = await h.api('POST', `/v1/payment_intents/${created.body.id}/cancel`, {});
      assert.equal(canceled.body.status, 'canceled');
      // WeChat contradicts itself: the order it closed is paid after all (the mock plays it).
      const notify = h.pay(outTradeNo);
      for (let i = 0; i < 2; i++) assert.match((await h.postNotify(notify)).text, /SUCCESS/);
      const after = await h.api('GET', `/v1/payment_intents/${created.body.id}?expand[]=wechat_payloads`);
      assert.equal(after.body.status, 'canceled');
      assert.equal(after.body.wechat_pay.transaction_id, h.orders.get(outTradeNo)!.transaction_id);
      assert.equal(after.body.wechat_payloads.filter((p: Json) => p.kind === 'notify').length, 2);
      const alerts = await eventsOf(h.api, created.body.id, 'payment_intent.wechat_status_conflict');
      assert.equal(alerts.length, 1, 'one alert, not one per notify');
      assert.equal(alerts[0]!.data.object.transaction_id, h.orders.get(outTradeNo)!.transaction_id);
      assert.equal(alerts[0]!.data.object.total_fee, String(created.body.amount));
      assert.equal((await eventsOf(h.api, created.body.id, 'payment_intent.succeeded')).length, 0);
      // The merchant can give the money back through the API (this mock account has no client certificate,
      // so WeChat is never called: the refund is accepted, then fails before sending, saying why).
      const refund = await h.api('POST', '/v1/refunds', { payment_intent: created.body.id });
      assert.equal(refund.status, 200, JSON.stringify(refund.body));
      assert.equal(refund.body.amount, created.body.amount);
      assert.equal(refund.body.failure_reason, 'certificate');
      // A canceled intent WeChat never reported paid cannot be refunded.
      const unpaid = await h.api('POST', '/v1/payment_intents', { amount: 500, currency: 'cny' });
      await h.api('POST', `/v1/payment_intents/${unpaid.body.id}/cancel`);
      const refused = await h.api('POST', '/v1/refunds', { payment_intent: unpaid.body.id });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'payment_intent_unexpected_state');
    });

    test('an intent not yet ordered at WeChat cancels at once', async () => {
      const created = await h.api('POST', '/v1/payment_intents', { amount: 500, currency: 'cny' });
      assert.equal(created.body.status, 'requires_payment_method');
      const canceled = await h.api('POST', `/v1/payment_intents/${created.body.id}/cancel`);
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      assert.equal(canceled.body.status, 'canceled');
      const again = await h.api('POST', `/v1/payment_intents/${created.body.id}/cancel`);
      assert.equal(again.status, 400);
      assert.equal(again.body.error.code, 'payment_intent_unexpected_state');
    });

    test('expiry closes the order and cancels the intent', async () => {
      const created = await create({ terminal_type: 'WEB' });
      h.clock.now += 2 * 60 * 60_000 + 1000;
      await h.gateway.runJobs();
      const after = await h.api('GET', `/v1/payment_intents/${created.body.id}`);
      assert.equal(after.body.status, 'canceled');
      assert.equal(after.body.cancellation_reason, 'expired');
      assert.equal(h.orders.get(created.body.wechat_pay.out_trade_no)!.state, 'CLOSED');
    });

    test('create without confirm, then confirm', async () => {
      const created = await h.api('POST', '/v1/payment_intents', {
        amount: 1999,
        currency: 'HKD',
        metadata: { order: '42' },
        payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
      });
      assert.equal(created.body.status, 'requires_confirmation');
      assert.deepEqual(created.body.metadata, { order: '42' });
      const confirmed = await h.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, {});
      assert.equal(confirmed.body.status, 'requires_action');
      const sent = h.mock.requests.find(
        (r) =>
          r.path === '/pay/unifiedorder' && r.fields.out_trade_no === created.body.wechat_pay.out_trade_no,
      )!;
      assert.equal(sent.fields.fee_type, 'HKD');
      assert.equal(sent.fields.total_fee, '1999');
    });

    test('the same Idempotency-Key and body replays; another body is an idempotency_error', async () => {
      const body = { amount: 300, currency: 'CNY' };
      const headers = { 'idempotency-key': `key-${Math.random()}` };
      const first = await h.api('POST', '/v1/payment_intents', body, headers);
      const second = await h.api('POST', '/v1/payment_intents', body, headers);
      assert.equal(second.status, 200);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      const conflict = await h.api('POST', '/v1/payment_intents', { ...body, amount: 301 }, headers);
      assert.equal(conflict.status, 409);
      assert.equal(conflict.body.error.type, 'idempotency_error');
      const list = await h.api('GET', '/v1/payment_intents?limit=100');
      assert.equal(list.body.data.filter((pi: { amount: number }) => pi.amount === 300).length, 1);
    });

    test('a concurrent duplicate of an in-flight Idempotency-Key is a 409', async () => {
      const headers = { 'idempotency-key': `slow-${Math.random()}` };
      const body = {
        amount: 301,
        currency: 'CNY',
        confirm: true,
        payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
      };
      const [a, b] = await Promise.all([
        h.api('POST', '/v1/payment_intents', body, headers),
        h.api('POST', '/v1/payment_intents', body, headers),
      ]);
      const statuses = [a.status, b.status].sort();
      // One runs; the other either sees it in progress (409) or, if it finished first, replays it (200).
      assert.ok(
        statuses[0] === 200 && (statuses[1] === 409 || statuses[1] === 200),
        JSON.stringify(statuses),
      );
      if (statuses[1] === 409)
        assert.equal([a, b].find((r) => r.status === 409)!.body.error.code, 'idempotency_key_in_use');
      else assert.equal(a.body.id, b.body.id);
    });

    test('another account’s intent answers 404, on every route', async () => {
      const created = await h.api('POST', '/v1/payment_intents', { amount: 100, currency: 'CNY' });
      const as = { authorization: `Bearer ${h.otherKey}` };
      for (const [method, path] of [
        ['GET', ''],
        ['POST', '/confirm'],
        ['POST', '/cancel'],
      ] as const) {
        const response = await h.api(
          method,
          `/v1/payment_intents/${created.body.id}${path}`,
          method === 'POST' ? {} : undefined,
          as,
        );
        assert.equal(response.status, 404, `${method} ${path}`);
        assert.equal(response.body.error.code, 'resource_missing');
      }
      const events = await h.api('GET', `/v1/events?object_id=${created.body.id}`, undefined, as);
      assert.equal(events.body.data.length, 0);
    });

    test('lists paginate by keyset, newest first, with has_more', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        h.clock.now += 1000;
        ids.push(
          (
            await h.api('POST', '/v1/payment_intents', {
              amount: 7000 + i,
              currency: 'CNY',
              metadata: { page: 'yes' },
            })
          ).body.id,
        );
      }
      const first = await h.api('GET', '/v1/payment_intents?limit=2');
      assert.equal(first.body.object, 'list');
      assert.deepEqual(
        first.body.data.map((pi: { id: string }) => pi.id),
        [ids[2], ids[1]],
      );
      assert.equal(first.body.has_more, true);
      const next = await h.api('GET', `/v1/payment_intents?limit=1&starting_after=${ids[1]}`);
      assert.deepEqual(
        next.body.data.map((pi: { id: string }) => pi.id),
        [ids[0]],
      );
      const back = await h.api('GET', `/v1/payment_intents?limit=2&ending_before=${ids[0]}`);
      assert.deepEqual(
        back.body.data.map((pi: { id: string }) => pi.id),
        [ids[2], ids[1]],
      );
      const since = Math.floor(h.clock.now / 1000);
      const recent = await h.api(
        'GET',
        `/v1/payment_intents?created[gte]=${since}&status=requires_payment_method`,
      );
      assert.deepEqual(
        recent.body.data.map((pi: { id: string }) => pi.id),
        [ids[2]],
      );
    });
  });
}
