// A payment that failed is confirmed again on the same PaymentIntent. WeChat refuses a second order on the number
// of a failed one (OUT_TRADE_NO_USED), so the retry is ordered under a number of its own: paid once, refunded on
// the order that was paid, and a notify naming the given-up number still finds its intent. Real sandbox, SQLite
// and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Merchant } from '@wxpay/sandbox';
import { WechatPay } from '@wxpay/sdk';
import { closeIntent, queryIntent } from '../src/domain/reconcile.ts';
import { markIntentCanceled, markIntentSucceeded } from '../src/domain/transitions.ts';
import { closeRetiredOrders, MAX_CLOSE_FAILURES } from '../src/jobs/retired-closes.ts';
import { eventsOf, type Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';
import { signedFor, startWechatProxy, viaProxy, type WechatProxy } from './support/wechat-proxy.ts';

const web = { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } };
const scanCode = { wechat_pay: { terminal_type: 'SCAN_CODE', client_ip: '203.0.113.9' } };

for (const kind of DATABASE_KINDS) {
  describe(`confirming a failed payment again, on ${kind}`, () => {
    let s: SandboxGateway;
    let merchant: Merchant;
    let proxy: WechatProxy;
    /** Asks the sandbox directly, as the merchant would in WeChat's merchant platform. */
    let wechat: WechatPay;
    before(async () => {
      s = await startSandboxGateway(kind);
      merchant = s.sandbox.merchants[0]!;
      proxy = await startWechatProxy(s.sandbox, merchant);
      wechat = new WechatPay({
        appid: merchant.appid,
        mchId: merchant.mchId,
        key: merchant.key,
        baseUrl: s.sandbox.url,
        ca: s.sandbox.caCert,
        clientCert: { pfx: merchant.pfx, passphrase: merchant.passphrase },
      });
    });
    after(async () => {
      await wechat?.close();
      await proxy?.close();
      await s?.close();
    });

    const paymentCode = () => ({
      type: 'wechat_pay',
      wechat_pay: { payment_code: s.sandbox.paymentCode().auth_code },
    });
    const payments = (outTradeNo: string) =>
      s.sandbox.ledger(merchant.mchId).movements.filter((m) => m.kind === 'payment' && m.ref === outTradeNo);
    const tradeState = async (outTradeNo: string) =>
      (await wechat.orderQuery({ out_trade_no: outTradeNo })).trade_state;
    /** Leaves the close job only the given payments' retired orders: earlier tests' are marked done. */
    const closeOnlyThoseOf = (...intentIds: string[]) =>
      s.gateway.ctx.db
        .updateTable('payment_intent_retired_orders')
        .set({ close_at: null })
        .where('intent_id', 'not in', intentIds)
        .execute();
    const retiredRows = (intentId: string) =>
      s.gateway.ctx.db
        .selectFrom('payment_intent_retired_orders')
        .selectAll()
        .where('intent_id', '=', intentId)
        .execute();

    /** A WEB intent whose payer failed in WeChat (PAYERROR), as the gateway learns it from orderquery. */
    async function failedQrPayment(amount: number): Promise<Json> {
      const created = await s.qrIntent(amount);
      const failed = s.sandbox.pay(
        { code_url: created.next_action.wechat_pay_display_qr_code.image_data_url },
        { outcome: 'PAYERROR' },
      );
      assert.equal(failed.ok, true, JSON.stringify(failed));
      const reported = await s.api('POST', `/v1/payment_intents/${created.id}/client_result`, {
        err_msg: 'get_brand_wcpay_request:ok',
      });
      assert.equal(reported.status, 200, JSON.stringify(reported.body));
      assert.equal(reported.body.status, 'requires_payment_method');
      assert.equal(reported.body.payment_failed.code, 'PAYERROR');
      return reported.body;
    }

    test('a QR payment the payer failed is paid on a new order, once, and refunded on that order', async () => {
      const failed = await failedQrPayment(1234);
      const first = failed.wechat_pay.out_trade_no;
      const oldQr = failed.next_action;

      const confirmed = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.status, 'requires_action');
      assert.equal(confirmed.body.payment_failed, null, 'the next confirm clears the last failure');
      const second = confirmed.body.wechat_pay.out_trade_no;
      assert.equal(second, `${first}_2`);
      assert.notDeepEqual(confirmed.body.next_action, oldQr);

      const paid = s.sandbox.pay({
        code_url: confirmed.body.next_action.wechat_pay_display_qr_code.image_data_url,
      });
      assert.equal(paid.ok, true, JSON.stringify(paid));
      const succeeded = await waitFor('intent succeeded', async () => {
        const { body } = await s.api('GET', `/v1/payment_intents/${failed.id}`);
        return body.status === 'succeeded' ? body : undefined;
      });
      assert.equal(succeeded.amount, 1234);
      assert.equal(await tradeState(first), 'PAYERROR');
      assert.equal(await tradeState(second), 'SUCCESS');
      assert.equal(payments(first).length, 0);
      assert.equal(payments(second).length, 1);
      const retired = await retiredRows(failed.id);
      assert.deepEqual(
        retired.map((r) => [r.out_trade_no, r.trade_state, r.transaction_id]),
        [[first, 'PAYERROR', null]],
      );
      const types = (await eventsOf(s.api, failed.id)).map((e) => e.type);
      assert.equal(types.filter((t) => t === 'payment_intent.payment_failed').length, 1);
      assert.equal(types.filter((t) => t === 'payment_intent.succeeded').length, 1);

      const refund = await s.api('POST', '/v1/refunds', { payment_intent: failed.id, amount: 234 });
      assert.equal(refund.status, 200, JSON.stringify(refund.body));
      const refunded = await wechat.refundQuery({ out_trade_no: second });
      assert.equal(refunded.refund_fee_0, '234');
    });

    test('a micropay WeChat failed is charged with the next payment code on a new order', async () => {
      const created = await viaProxy(s.gateway.ctx, proxy, merchant, 5000, async () => {
        proxy.plan('/pay/micropay', { headers: { 'Wechatpay-Negative-Test': 'MICROPAY_PAYERROR' } });
        return s.api('POST', '/v1/payment_intents', {
          amount: 880,
          currency: 'CNY',
          confirm: true,
          payment_method_options: scanCode,
          payment_method_data: paymentCode(),
        });
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.status, 'requires_payment_method');
      assert.equal(created.body.payment_failed.code, 'TRADE_ERROR');
      const first = created.body.wechat_pay.out_trade_no;
      assert.equal(await tradeState(first), 'PAYERROR');

      const confirmed = await s.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, {
        payment_method_options: scanCode,
        payment_method_data: paymentCode(),
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.status, 'succeeded');
      const second = confirmed.body.wechat_pay.out_trade_no;
      assert.equal(second, `${first}_2`);
      assert.equal(payments(second).length, 1);
      assert.equal(payments(first).length, 0);
    });

    test('a failure twice over gives each retry its own number', async () => {
      const failed = await failedQrPayment(500);
      const first = failed.wechat_pay.out_trade_no;
      const again = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      s.sandbox.pay(
        { code_url: again.body.next_action.wechat_pay_display_qr_code.image_data_url },
        { outcome: 'PAYERROR' },
      );
      const reported = await s.api('POST', `/v1/payment_intents/${failed.id}/client_result`, {
        err_msg: 'get_brand_wcpay_request:ok',
      });
      assert.equal(reported.body.status, 'requires_payment_method');
      const third = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(third.status, 200, JSON.stringify(third.body));
      assert.equal(third.body.wechat_pay.out_trade_no, `${first}_3`);
      assert.deepEqual(
        (await retiredRows(failed.id)).map((r) => r.out_trade_no).sort(),
        [first, `${first}_2`].sort(),
      );
    });

    test('an order WeChat never received keeps its number: nothing to give up', async () => {
      // A payment code WeChat does not know: refused for good, and no order is created.
      const created = await s.api('POST', '/v1/payment_intents', {
        amount: 300,
        currency: 'CNY',
        confirm: true,
        payment_method_options: scanCode,
        payment_method_data: { type: 'wechat_pay', wechat_pay: { payment_code: '134567890123456789' } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.payment_failed.code, 'AUTH_CODE_INVALID');
      const first = created.body.wechat_pay.out_trade_no;
      const confirmed = await s.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, {
        payment_method_options: scanCode,
        payment_method_data: paymentCode(),
      });
      assert.equal(confirmed.body.status, 'succeeded', JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.wechat_pay.out_trade_no, first);
      assert.deepEqual(await retiredRows(created.body.id), []);
    });

    test('when WeChat cannot be asked how the failed order ended, no new order is placed', async () => {
      const failed = await failedQrPayment(700);
      const before = proxy.calls.length;
      const answer = await viaProxy(s.gateway.ctx, proxy, merchant, 5000, async () => {
        proxy.plan('/pay/orderquery', { answer: 'not xml' });
        return s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, { payment_method_options: web });
      });
      assert.equal(answer.status, 502, JSON.stringify(answer.body));
      assert.equal(answer.body.error.type, 'wechat_error');
      assert.match(answer.body.error.message, /no new order was placed; confirm again/);
      assert.deepEqual(proxy.calls.slice(before), ['/pay/orderquery']);
      const row = await s.api('GET', `/v1/payment_intents/${failed.id}`);
      assert.equal(row.body.status, 'requires_payment_method');
      assert.equal(row.body.wechat_pay.out_trade_no, failed.wechat_pay.out_trade_no);
      assert.deepEqual(await retiredRows(failed.id), []);
    });

    test('two confirms racing after a failure place one new order', async () => {
      const failed = await failedQrPayment(650);
      const first = failed.wechat_pay.out_trade_no;
      // B reads the failed intent and asks WeChat about its order; its answer is held back until A has read the
      // same intent, asked, retired the order and placed the next one.
      const ctx = s.gateway.ctx;
      const real = ctx.wechat;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let held = false;
      ctx.wechat = (account, livemode) =>
        new Proxy(real(account, livemode), {
          get(target, name) {
            if (name === 'orderQuery' && !held) {
              held = true;
              return async (params: Parameters<WechatPay['orderQuery']>[0]) => {
                await gate;
                return target.orderQuery(params);
              };
            }
            // Bound to the real client: its methods use private fields, which a proxy does not have.
            const value = Reflect.get(target, name, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      let b: Promise<{ status: number; body: Json }>;
      try {
        b = s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, { payment_method_options: web });
        await waitFor('B asking WeChat', async () => (held ? true : undefined));
        const a = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
          payment_method_options: web,
        });
        assert.equal(a.status, 200, JSON.stringify(a.body));
        assert.equal(a.body.wechat_pay.out_trade_no, `${first}_2`);
      } finally {
        release();
        ctx.wechat = real;
      }
      // WeChat's PAYERROR was about the first order; B finds the intent moved on and places nothing.
      const lost = await b;
      assert.equal(lost.status, 409, JSON.stringify(lost.body));
      assert.equal(lost.body.error.code, 'lock_timeout');
      assert.equal((await retiredRows(failed.id)).length, 1);
      const now = await s.api('GET', `/v1/payment_intents/${failed.id}`);
      assert.equal(now.body.status, 'requires_action');
      assert.equal(now.body.wechat_pay.out_trade_no, `${first}_2`);
      assert.equal(now.body.payment_failed, null);
      assert.equal(await tradeState(`${first}_2`), 'NOTPAY');
      await assert.rejects(wechat.orderQuery({ out_trade_no: `${first}_3` }), { errCode: 'ORDERNOTEXIST' });
    });

    test('a cancel that read the intent before a retry placed its new order refuses, and the new order stays payable', async () => {
      const failed = await failedQrPayment(460);
      // Old enough for WeChat's closeorder, so the cancel would close rather than schedule.
      await s.advance(6 * 60_000);
      const stale = await s.gateway.ctx.db
        .selectFrom('payment_intents')
        .selectAll()
        .where('id', '=', failed.id)
        .executeTakeFirstOrThrow();
      const again = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      await assert.rejects(closeIntent(s.gateway.ctx, stale, 'requested_by_customer'), {
        status: 409,
        code: 'lock_timeout',
      });
      const now = await s.api('GET', `/v1/payment_intents/${failed.id}`);
      assert.equal(now.body.status, 'requires_action');
      assert.equal(await tradeState(again.body.wechat_pay.out_trade_no), 'NOTPAY');
      assert.ok(
        s.sandbox.pay({ code_url: again.body.next_action.wechat_pay_display_qr_code.image_data_url }).ok,
      );
      await waitFor('intent succeeded', async () => {
        const { body } = await s.api('GET', `/v1/payment_intents/${failed.id}`);
        return body.status === 'succeeded' ? body : undefined;
      });
    });

    test('the API lists a payment by any of its order numbers and by its transaction_id, as a WeChat bill shows them', async () => {
      const failed = await failedQrPayment(480);
      const first = failed.wechat_pay.out_trade_no;
      const again = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
        payment_method_options: web,
      });
      assert.ok(
        s.sandbox.pay({ code_url: again.body.next_action.wechat_pay_display_qr_code.image_data_url }).ok,
      );
      const paid = await waitFor('intent succeeded', async () => {
        const { body } = await s.api('GET', `/v1/payment_intents/${failed.id}`);
        return body.status === 'succeeded' ? body : undefined;
      });
      const list = async (query: Record<string, string>) => {
        const answer = await s.api('GET', `/v1/payment_intents?${new URLSearchParams(query)}`);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        return answer.body.data.map((p: Json) => p.id);
      };
      const txn = paid.wechat_pay.transaction_id as string;
      assert.deepEqual(await list({ out_trade_no: first }), [failed.id]);
      assert.deepEqual(await list({ out_trade_no: `${first}_2` }), [failed.id]);
      assert.deepEqual(await list({ transaction_id: txn }), [failed.id]);
      assert.deepEqual(await list({ out_trade_no: first, transaction_id: txn, status: 'succeeded' }), [
        failed.id,
      ]);
      assert.deepEqual(await list({ out_trade_no: first, status: 'canceled' }), []);
      assert.deepEqual(await list({ out_trade_no: 'NoSuchOrder' }), []);
      const other = await failedQrPayment(490);
      assert.deepEqual(await list({ out_trade_no: other.wechat_pay.out_trade_no, transaction_id: txn }), []);
      for (const [param, value] of [
        ['out_trade_no', 'has space'],
        ['out_trade_no', 'x'.repeat(33)],
        ['transaction_id', '4200-0000'],
      ] as const) {
        const bad = await s.api('GET', `/v1/payment_intents?${new URLSearchParams({ [param]: value })}`);
        assert.equal(bad.status, 400, JSON.stringify(bad.body));
        assert.equal(bad.body.error.param, param);
      }
    });

    test('the order a retry gave up is closed at WeChat once its 5 minutes have passed, so it cannot be paid too', async () => {
      const failed = await failedQrPayment(505);
      const first = failed.wechat_pay.out_trade_no;
      const again = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      const [row] = await retiredRows(failed.id);
      assert.ok(
        row!.close_at !== null && row!.close_at > s.gateway.ctx.now(),
        'due after WeChat’s 5 minutes',
      );
      await closeOnlyThoseOf(failed.id);
      await closeRetiredOrders(s.gateway.ctx);
      assert.equal(await tradeState(first), 'PAYERROR', 'not closed before it may be');

      await s.advance(5 * 60_000 + 20_000);
      // The first try fails (an unreadable reply): tried again a minute later, not at once.
      await viaProxy(s.gateway.ctx, proxy, merchant, 5000, async () => {
        proxy.plan('/pay/closeorder', { answer: 'not xml' }, { answer: 'not xml' }, { answer: 'not xml' });
        await closeRetiredOrders(s.gateway.ctx);
      });
      proxy.clear();
      const [failedClose] = await retiredRows(failed.id);
      assert.equal(failedClose!.close_failures, 1);
      assert.equal(await tradeState(first), 'PAYERROR');
      await closeRetiredOrders(s.gateway.ctx);
      assert.equal(await tradeState(first), 'PAYERROR', 'waits out its back-off');

      await s.advance(61_000);
      assert.ok((await closeRetiredOrders(s.gateway.ctx)) >= 1);
      assert.equal(await tradeState(first), 'CLOSED');
      const [closed] = await retiredRows(failed.id);
      assert.equal(closed!.close_at, null, 'done: never closed twice');
      // The new order is untouched and is paid.
      assert.equal(await tradeState(`${first}_2`), 'NOTPAY');
      assert.ok(
        s.sandbox.pay({ code_url: again.body.next_action.wechat_pay_display_qr_code.image_data_url }).ok,
      );
      await waitFor('intent succeeded', async () => {
        const { body } = await s.api('GET', `/v1/payment_intents/${failed.id}`);
        return body.status === 'succeeded' ? body : undefined;
      });
    });

    test("closeorder's other answers for a given-up order: paid (alerted, never applied), already closed, refusals to the cap", async () => {
      const signed = (fields: Record<string, string>) => signedFor(merchant, fields);
      const refusal = (code: string) => signed({ result_code: 'FAIL', err_code: code, err_code_des: code });
      const retiredOne = async (amount: number) => {
        const failed = await failedQrPayment(amount);
        const again = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
          payment_method_options: web,
        });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        return { id: failed.id as string, first: failed.wechat_pay.out_trade_no as string };
      };
      const paidLate = await retiredOne(515);
      const queryFails = await retiredOne(525);
      const closedAlready = await retiredOne(535);
      await closeOnlyThoseOf(paidLate.id, queryFails.id, closedAlready.id);
      await s.advance(5 * 60_000 + 20_000);
      const runWith = async (steps: Record<string, string[]>) =>
        viaProxy(s.gateway.ctx, proxy, merchant, 5000, async () => {
          for (const [path, answers] of Object.entries(steps))
            proxy.plan(path, ...answers.map((answer) => ({ answer })));
          await closeRetiredOrders(s.gateway.ctx, { limit: 1 });
          proxy.clear();
        });
      const txn = '4200000000000000000000000515';
      await runWith({
        '/pay/closeorder': [refusal('ORDERPAID')],
        '/pay/orderquery': [
          signed({
            result_code: 'SUCCESS',
            trade_state: 'SUCCESS',
            out_trade_no: paidLate.first,
            transaction_id: txn,
            total_fee: '515',
            fee_type: 'CNY',
            trade_type: 'NATIVE',
            openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
          }),
        ],
      });
      const [paidRow] = await retiredRows(paidLate.id);
      assert.equal(paidRow!.close_at, null);
      assert.equal(paidRow!.transaction_id, txn);
      const conflicts = await eventsOf(s.api, paidLate.id, 'payment_intent.wechat_status_conflict');
      assert.equal(conflicts.length, 1);
      assert.equal(conflicts[0]!.data.object.source, 'close');
      assert.equal((await s.api('GET', `/v1/payment_intents/${paidLate.id}`)).body.status, 'requires_action');

      const notXml = Array(3).fill('not xml');
      await runWith({ '/pay/closeorder': [refusal('ORDERPAID')], '/pay/orderquery': notXml });
      const [queried] = await retiredRows(queryFails.id);
      assert.equal(queried!.close_failures, 1, 'a query that fails is a failed try, backed off');
      assert.ok(queried!.close_at !== null && queried!.close_at > s.gateway.ctx.now());
      assert.equal((await eventsOf(s.api, queryFails.id, 'payment_intent.wechat_status_conflict')).length, 0);

      await runWith({ '/pay/closeorder': [refusal('ORDERCLOSED')] });
      assert.equal((await retiredRows(closedAlready.id))[0]!.close_at, null, 'already closed: done');

      // The last try allowed fails: it is given up, not retried forever.
      await s.gateway.ctx.db
        .updateTable('payment_intent_retired_orders')
        .set({ close_failures: MAX_CLOSE_FAILURES - 1, close_at: s.gateway.ctx.now() })
        .where('out_trade_no', '=', queryFails.first)
        .execute();
      await runWith({ '/pay/closeorder': notXml });
      const [gaveUp] = await retiredRows(queryFails.id);
      assert.equal(gaveUp!.close_failures, MAX_CLOSE_FAILURES);
      assert.equal(gaveUp!.close_at, null);
    });

    test('a late answer about the given-up order moves nothing: a failure, a cancel or a payment of it', async () => {
      const failed = await failedQrPayment(420);
      const stale = await s.gateway.ctx.db
        .selectFrom('payment_intents')
        .selectAll()
        .where('id', '=', failed.id)
        .executeTakeFirstOrThrow();
      const confirmed = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      const ctx = s.gateway.ctx;
      // orderquery of the old number still says PAYERROR.
      const queried = await queryIntent(ctx, stale);
      assert.equal(queried.status, 'requires_action');
      assert.equal(queried.payment_failed, null);
      assert.equal(await markIntentCanceled(ctx, stale, 'requested_by_customer'), undefined);
      const paid = { transaction_id: '4200000000000000000000000420', total_fee: '420', fee_type: 'CNY' };
      assert.equal(await markIntentSucceeded(ctx, stale, paid, { kind: 'query', body: '<xml/>' }), undefined);
      const now = await s.api('GET', `/v1/payment_intents/${failed.id}`);
      assert.equal(now.body.status, 'requires_action');
      assert.equal(now.body.wechat_pay.transaction_id, null);
      assert.equal(now.body.wechat_pay.out_trade_no, `${stale.out_trade_no}_2`);
      const conflicts = await eventsOf(s.api, failed.id, 'payment_intent.wechat_status_conflict');
      assert.equal(conflicts.length, 1);
      assert.equal(conflicts[0]!.data.object.retired_out_trade_no, stale.out_trade_no);
      assert.equal(conflicts[0]!.data.object.source, 'query');
    });

    test('a notify for a given-up number finds its intent: a failure is kept, a payment is alerted once and not applied', async () => {
      const failed = await failedQrPayment(990);
      const first = failed.wechat_pay.out_trade_no;
      const confirmed = await s.api('POST', `/v1/payment_intents/${failed.id}/confirm`, {
        payment_method_options: web,
      });
      assert.equal(confirmed.status, 200);
      // WeChat said PAYERROR, so no paid notify can come for the first order: these are crafted, signed with the
      // merchant's key, as a contradiction from WeChat would be.
      const notify = async (fields: Record<string, string>) => {
        const body = signedFor(merchant, {
          out_trade_no: first,
          total_fee: '990',
          fee_type: 'CNY',
          trade_type: 'NATIVE',
          openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
          ...fields,
        });
        const response = await fetch(`${s.url}/notify/wechatpay/${s.accountId}`, {
          method: 'POST',
          headers: { 'content-type': 'text/xml' },
          body,
        });
        return response.text();
      };
      const failure = await notify({ result_code: 'FAIL', err_code: 'PAYERROR', err_code_des: '支付失败' });
      assert.match(failure, /<return_code><!\[CDATA\[SUCCESS\]\]><\/return_code>/);
      const paidFields = {
        result_code: 'SUCCESS',
        transaction_id: '4200000000000000000000000990',
        cash_fee: '990',
        bank_type: 'CMC',
        time_end: '20261123010203',
      };
      for (let i = 0; i < 2; i++) {
        const reply = await notify(paidFields);
        assert.match(reply, /<return_code><!\[CDATA\[SUCCESS\]\]><\/return_code>/);
      }
      const intent = await s.api('GET', `/v1/payment_intents/${failed.id}?expand[]=wechat_payloads`);
      assert.equal(intent.body.status, 'requires_action', 'the intent is left as it was');
      assert.equal(intent.body.wechat_pay.out_trade_no, `${first}_2`);
      assert.equal(intent.body.wechat_pay.transaction_id, null);
      const notifies = intent.body.wechat_payloads.filter((p: Json) => p.kind === 'notify');
      assert.equal(notifies.length, 3);
      const conflicts = await eventsOf(s.api, failed.id, 'payment_intent.wechat_status_conflict');
      assert.equal(conflicts.length, 1);
      assert.equal(conflicts[0]!.data.object.retired_out_trade_no, first);
      assert.equal(conflicts[0]!.data.object.transaction_id, paidFields.transaction_id);
      const retired = await retiredRows(failed.id);
      assert.equal(retired[0]!.transaction_id, paidFields.transaction_id);
      // That payment's transaction_id, as WeChat's bill shows it, finds the payment.
      const byTransaction = await s.api(
        'GET',
        `/v1/payment_intents?transaction_id=${paidFields.transaction_id}`,
      );
      assert.deepEqual(
        byTransaction.body.data.map((p: Json) => p.id),
        [failed.id],
      );
      const rejected = await eventsOf(s.api, failed.id, 'payment_intent.notify_rejected');
      assert.equal(rejected.length, 0);
    });
  });
}
