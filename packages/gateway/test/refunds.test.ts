// Refunds end to end: HTTP → gateway → the real sandbox over mTLS, on a real SQLite file and on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildXml, encryptReqInfo, nonce, XmlError } from '@wxpay/sdk';
import { createApiKey } from '../src/domain/accounts.ts';
import { markFailedRefundSucceeded } from '../src/domain/refund-transitions.ts';
import { runRefundQueries, runRefundResends } from '../src/jobs/refund-sync.ts';
import { apiClient } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import type { Json } from './support/harness.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';

for (const kind of DATABASE_KINDS) {
  describe(`refunds on ${kind}`, () => {
    let s: SandboxGateway;
    before(async () => {
      s = await startSandboxGateway(kind);
    });
    after(async () => {
      await s?.close();
    });

    const refund = (body: Record<string, unknown>) => s.api('POST', '/v1/refunds', body);
    /** A refund notify as WeChat sends it: outer ids and req_info encrypted with the merchant key. */
    const refundNotify = (intent: Json, created: Json, info: Record<string, string>) => {
      const merchant = s.sandbox.merchants[0]!;
      return buildXml({
        return_code: 'SUCCESS',
        appid: merchant.appid,
        mch_id: merchant.mchId,
        nonce_str: nonce(),
        req_info: encryptReqInfo(
          {
            transaction_id: intent.wechat_pay.transaction_id,
            out_trade_no: intent.wechat_pay.out_trade_no,
            refund_id: created.wechat_pay.refund_id,
            out_refund_no: created.wechat_pay.out_refund_no,
            ...info,
          },
          merchant.key,
        ),
      });
    };
    const postRefundNotify = async (xml: string) => {
      const response = await fetch(`${s.url}/notify/wechatpay/${s.accountId}/refund`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: xml,
      });
      return response.text();
    };
    const intentOf = async (id: string) => (await s.api('GET', `/v1/payment_intents/${id}`)).body;
    const refundMovements = (outTradeNo?: string) =>
      s.sandbox
        .ledger(s.sandbox.merchants[0]!.mchId)
        .movements.filter((m) => m.kind === 'refund' && (outTradeNo === undefined || m.ref === outTradeNo));
    /** Lets the sandbox settle refunds (5 simulated seconds) and waits until the gateway has the final status. */
    const settle = async (refundId: string, status = 'succeeded') => {
      await s.sandbox.clock.advance(6);
      return waitFor(`refund ${status}`, async () => {
        const { body } = await s.api('GET', `/v1/refunds/${refundId}`);
        return body.status === status ? body : undefined;
      });
    };
    /** A refund that never left: what a crash between storing the refund and sending it leaves. */
    const refundThatNeverLeft = async (intent: Json, amount: number) => {
      s.sandbox.faults.add({ endpoint: 'refund', kind: 'systemerror', count: 2 });
      const created = await refund({ payment_intent: intent.id, amount });
      await s.gateway.ctx.db
        .updateTable('refunds')
        .set({ attempts: 0, submitted: 0, next_attempt_at: null })
        .where('id', '=', created.body.id)
        .execute();
      return created.body as Json;
    };
    const eventTypes = async (objectId: string) =>
      ((await s.api('GET', `/v1/events?object_id=${objectId}&limit=100`)).body.data as Json[])
        .map((e) => e.type)
        .sort();
    const refundOf = async (id: string) => (await s.api('GET', `/v1/refunds/${id}`)).body;
    /** The data of the object's `type` events, newest first. */
    const eventData = async (objectId: string, type: string) =>
      (
        (await s.api('GET', `/v1/events?object_id=${objectId}&type=${type}&limit=100`)).body.data as Json[]
      ).map((e) => e.data.object);
    /**
     * A refund of `amount` that WeChat pays back but whose notify it holds back a minute (and, with `duplicate`,
     * sends twice), failed here meanwhile by a REFUNDCLOSE notify for it.
     */
    const refundClosedHere = async (intent: Json, amount: number, { duplicate = false } = {}) => {
      // Refunds of earlier tests settle first, so that the held-back notify is this refund's.
      await s.sandbox.clock.advance(6);
      s.sandbox.faults.add({ endpoint: 'refund_notify', kind: 'delay_notify', delaySeconds: 60, count: 1 });
      if (duplicate) s.sandbox.faults.add({ endpoint: 'refund_notify', kind: 'duplicate_notify', count: 1 });
      const created = await refund({ payment_intent: intent.id, amount });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const closed = refundNotify(intent, created.body, {
        total_fee: String(intent.amount),
        refund_fee: String(amount),
        refund_status: 'REFUNDCLOSE',
      });
      assert.match(await postRefundNotify(closed), /SUCCESS/);
      assert.equal((await refundOf(created.body.id)).status, 'failed');
      return created.body as Json;
    };
    /** The events of a refund failed here by REFUNDCLOSE, then marked succeeded as WeChat reports it, sorted. */
    const CLOSED_THEN_PAID_BACK = [
      'charge.refund.updated',
      'charge.refund.updated',
      'charge.refund.updated',
      'refund.created',
      'refund.failed',
      'refund.succeeded',
      'refund.wechat_status_conflict',
    ];
    /** WeChat's held-back notify for the refund arrives: SUCCESS, the payer got the money back. */
    const wechatReportsPaidBack = () => s.sandbox.clock.advance(70);

    test('a partial, a second partial and the remainder refund the payment in full, each settled by its notify', async () => {
      const intent = await s.paidIntent(1000);
      const first = await refund({ payment_intent: intent.id, amount: 300, reason: 'requested_by_customer' });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.status, 'pending');
      assert.equal(first.body.amount, 300);
      assert.equal(first.body.wechat_pay.submitted, true);
      assert.match(first.body.wechat_pay.out_refund_no, /^[0-9A-Za-z]{24}$/);
      assert.equal((await intentOf(intent.id)).amount_refunded, 300);
      const settled = await settle(first.body.id);
      assert.equal(settled.status, 'succeeded');

      const second = await refund({ payment_intent: intent.id, amount: 200 });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      await settle(second.body.id);
      const rest = await refund({ payment_intent: intent.id });
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      assert.equal(rest.body.amount, 500, 'no amount refunds what remains');
      await settle(rest.body.id);

      const after = await intentOf(intent.id);
      assert.equal(after.amount_refunded, 1000);
      assert.equal(after.refunded, true);
      const listed = await s.api('GET', `/v1/refunds?payment_intent=${intent.id}&limit=2`);
      assert.equal(listed.body.data.length, 2);
      assert.equal(listed.body.has_more, true);
      assert.equal(listed.body.data[0].id, rest.body.id, 'newest first');
      const page2 = await s.api(
        'GET',
        `/v1/refunds?payment_intent=${intent.id}&starting_after=${listed.body.data[1].id}`,
      );
      assert.deepEqual(
        page2.body.data.map((r: Json) => r.id),
        [first.body.id],
      );
      assert.deepEqual(await eventTypes(first.body.id), [
        'charge.refund.updated',
        'charge.refund.updated',
        'refund.created',
        'refund.succeeded',
      ]);
      assert.equal(
        refundMovements().filter((m) =>
          [first, second, rest].some((r) => r.body.wechat_pay.out_refund_no === m.ref),
        ).length,
        3,
      );
      const again = await refund({ payment_intent: intent.id, amount: 1 });
      assert.equal(again.status, 400);
      assert.equal(again.body.error.code, 'charge_already_refunded');
    });

    test('50 concurrent 10-fen refunds of a 100-fen payment: exactly 10 are accepted, the rest refused clearly', async () => {
      const intent = await s.paidIntent(100);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => refund({ payment_intent: intent.id, amount: 10 })),
      );
      const accepted = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status !== 200);
      assert.equal(accepted.length, 10, JSON.stringify(refused.slice(0, 2).map((r) => r.body)));
      for (const r of refused) {
        assert.equal(r.status, 400);
        assert.ok(
          ['amount_too_large', 'charge_already_refunded'].includes(r.body.error.code),
          r.body.error.code,
        );
      }
      const { body: list } = await s.api('GET', `/v1/refunds?payment_intent=${intent.id}&limit=100`);
      const live = (list.data as Json[]).filter((r) => r.status === 'pending' || r.status === 'succeeded');
      assert.equal(
        live.reduce((sum, r) => sum + r.amount, 0),
        100,
      );
      assert.equal((await intentOf(intent.id)).amount_refunded, 100);
      assert.equal(
        refundMovements()
          .filter((m) => live.some((r) => r.wechat_pay.out_refund_no === m.ref))
          .reduce((a, m) => a - m.amount, 0),
        100,
        'WeChat refunded exactly the payment',
      );
    });

    test('the 51st refund of one payment is refused', async () => {
      const intent = await s.paidIntent(100);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => refund({ payment_intent: intent.id, amount: 1 })),
      );
      assert.deepEqual(
        answers.filter((a) => a.status !== 200).map((a) => a.body),
        [],
      );
      const fiftyFirst = await refund({ payment_intent: intent.id, amount: 1 });
      assert.equal(fiftyFirst.status, 400);
      assert.equal(fiftyFirst.body.error.code, 'refund_limit_exceeded');
      assert.equal((await intentOf(intent.id)).amount_refunded, 50);
    });

    test('an intent that has not succeeded cannot be refunded', async () => {
      const created = await s.api('POST', '/v1/payment_intents', { amount: 100, currency: 'CNY' });
      const answer = await refund({ payment_intent: created.body.id, amount: 10 });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error.code, 'payment_intent_unexpected_state');
      assert.equal(answer.body.error.param, 'payment_intent');
      assert.equal((await s.api('GET', `/v1/refunds?payment_intent=${created.body.id}`)).body.data.length, 0);
    });

    test('a payment ordered more than 365 days ago cannot be refunded', async () => {
      const intent = await s.paidIntent(100);
      s.clock.offsetMs += 366 * 24 * 3600_000;
      try {
        const answer = await refund({ payment_intent: intent.id, amount: 10 });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error.code, 'charge_expired_for_refund');
      } finally {
        s.clock.offsetMs -= 366 * 24 * 3600_000;
      }
      assert.equal((await intentOf(intent.id)).amount_refunded, 0);
    });

    test('bad input is a 400 naming the field', async () => {
      const intent = await s.paidIntent(10);
      const cases: [Record<string, unknown>, string][] = [
        [{ payment_intent: intent.id, amount: 0 }, 'amount'],
        [{ payment_intent: intent.id, amount: 1.5 }, 'amount'],
        [{ payment_intent: intent.id, amount: '5' }, 'amount'],
        [{ payment_intent: intent.id, reason: 'bored' }, 'reason'],
        [{ amount: 5 }, 'payment_intent'],
        [{ payment_intent: intent.id, currency: 'CNY' }, 'currency'],
        [{ payment_intent: intent.id, amount: 11 }, 'amount'],
      ];
      for (const [body, param] of cases) {
        const answer = await refund(body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(answer.body.error.param, param, JSON.stringify(answer.body));
      }
      const missing = await refund({ payment_intent: 'pi_doesnotexist000000000000' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.param, 'payment_intent');
    });

    test('SYSTEMERROR after WeChat committed: the worker resends the same out_refund_no and WeChat refunds once', async () => {
      const intent = await s.paidIntent(500);
      // Twice: the SDK itself resends once (same out_refund_no) before giving up.
      s.sandbox.faults.add({ endpoint: 'refund', kind: 'systemerror_after_commit', count: 2 });
      const created = await refund({ payment_intent: intent.id, amount: 200 });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.status, 'pending');
      assert.equal(created.body.wechat_pay.submitted, false);
      const outRefundNo = created.body.wechat_pay.out_refund_no;
      // Not due yet: nothing is resent.
      assert.equal(await runRefundResends(s.gateway.ctx), 0);
      s.clock.offsetMs += 11_000;
      assert.equal(await runRefundResends(s.gateway.ctx), 1);
      const resent = (await s.api('GET', `/v1/refunds/${created.body.id}`)).body;
      assert.equal(resent.wechat_pay.submitted, true);
      assert.equal(resent.wechat_pay.out_refund_no, outRefundNo);
      assert.equal(refundMovements(outRefundNo).length, 1, 'the sandbox ledger has one refund');
      assert.equal(refundMovements(outRefundNo)[0]!.amount, -200);
      await settle(created.body.id);
      assert.equal(refundMovements(outRefundNo).length, 1);
      assert.equal((await intentOf(intent.id)).amount_refunded, 200);
    });

    test('a dropped refund notify is recovered by refundquery', async () => {
      const intent = await s.paidIntent(300);
      s.sandbox.faults.add({ endpoint: 'refund_notify', kind: 'drop_notify', count: 1 });
      const created = await refund({ payment_intent: intent.id, amount: 300 });
      assert.equal(created.body.status, 'pending');
      await s.sandbox.clock.advance(6);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await s.api('GET', `/v1/refunds/${created.body.id}`)).body.status, 'pending');
      assert.equal(await runRefundQueries(s.gateway.ctx), 0, 'not due before a minute');
      s.clock.offsetMs += 61_000;
      assert.equal(await runRefundQueries(s.gateway.ctx), 1);
      const done = (await s.api('GET', `/v1/refunds/${created.body.id}`)).body;
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(await eventTypes(created.body.id), [
        'charge.refund.updated',
        'charge.refund.updated',
        'refund.created',
        'refund.succeeded',
      ]);
      assert.equal((await intentOf(intent.id)).refunded, true);
    });

    test('a refund whose reply is garbled after WeChat acted stays pending and is never sent under a new number', async () => {
      const intent = await s.paidIntent(300);
      // The one fault the sandbox cannot produce: WeChat refunds, then the reply is lost in a garbled 200.
      const ctx = s.gateway.ctx;
      const realFactory = ctx.wechat;
      ctx.wechat = (account, livemode) => {
        const client = realFactory(account, livemode);
        return new Proxy(client, {
          get(target, name, receiver) {
            if (name !== 'refund') return Reflect.get(target, name, receiver);
            return async (params: Parameters<typeof client.refund>[0]) => {
              await target.refund(params);
              throw new XmlError(
                'reply from /secapi/pay/refund is not WeChat XML: root element must be <xml>, got <html>',
              );
            };
          },
        });
      };
      let created: Awaited<ReturnType<typeof refund>>;
      try {
        created = await refund({ payment_intent: intent.id, amount: 300 });
      } finally {
        ctx.wechat = realFactory;
      }
      assert.equal(created.body.status, 'pending', 'the outcome is unknown, so it is not failed');
      assert.equal((await intentOf(intent.id)).amount_refunded, 300, 'the amount stays reserved');
      const again = await refund({ payment_intent: intent.id, amount: 1 });
      assert.equal(again.status, 400, 'nothing is left to refund while the first is unresolved');
      s.clock.offsetMs += 3600_000;
      await runRefundQueries(s.gateway.ctx);
      await runRefundResends(s.gateway.ctx);
      assert.equal(
        refundMovements(created.body.wechat_pay.out_refund_no).length,
        1,
        'WeChat refunded exactly once',
      );
    });

    test('a refund that never left can be canceled and gives its amount back; a sent one cannot', async () => {
      const intent = await s.paidIntent(400);
      s.sandbox.faults.add({ endpoint: 'refund', kind: 'systemerror', count: 2 });
      const sent = await refund({ payment_intent: intent.id, amount: 150 });
      assert.equal(sent.body.status, 'pending');
      assert.equal(sent.body.wechat_pay.submitted, false);
      assert.equal((await intentOf(intent.id)).amount_refunded, 150);
      // WeChat answered SYSTEMERROR: it may still act on the request, so the refund is not cancelable.
      const refusedCancel = await s.api('POST', `/v1/refunds/${sent.body.id}/cancel`);
      assert.equal(refusedCancel.status, 400);
      assert.equal(refusedCancel.body.error.code, 'refund_unexpected_state');
      assert.match(refusedCancel.body.error.message, /same out_refund_no/);
      s.clock.offsetMs += 3600_000;
      await runRefundResends(s.gateway.ctx);
      assert.equal(refundMovements(sent.body.wechat_pay.out_refund_no).length, 1, 'resent once, same number');

      const local = await refundThatNeverLeft(intent, 100);
      s.sandbox.faults.clear();
      const canceled = await s.api('POST', `/v1/refunds/${local.id}/cancel`);
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      assert.equal(canceled.body.status, 'canceled');
      assert.equal((await intentOf(intent.id)).amount_refunded, 150);
      assert.equal(refundMovements(local.wechat_pay.out_refund_no).length, 0, 'never sent');
    });

    test('a REFUNDCLOSE notify fails the refund and gives its amount back to the intent', async () => {
      const intent = await s.paidIntent(200);
      s.sandbox.faults.add({ endpoint: 'refund_notify', kind: 'drop_notify', count: 1 });
      const created = await refund({ payment_intent: intent.id, amount: 120 });
      assert.equal((await intentOf(intent.id)).amount_refunded, 120);
      const xml = refundNotify(intent, created.body, {
        total_fee: '200',
        refund_fee: '120',
        refund_status: 'REFUNDCLOSE',
      });
      assert.match(await postRefundNotify(xml), /SUCCESS/);
      const failed = (await s.api('GET', `/v1/refunds/${created.body.id}`)).body;
      assert.equal(failed.status, 'failed');
      assert.equal(failed.failure_reason, 'refund_closed');
      const after = await intentOf(intent.id);
      assert.equal(after.amount_refunded, 0);
      assert.equal(after.refunded, false);
      assert.ok((await eventTypes(created.body.id)).includes('refund.failed'));
    });

    test('a refund notify with another refund_fee is refused and changes nothing; the right one completes it', async () => {
      const intent = await s.paidIntent(700);
      s.sandbox.faults.add({ endpoint: 'refund_notify', kind: 'drop_notify', count: 1 });
      const created = await refund({ payment_intent: intent.id, amount: 70 });
      const notify = (refundFee: string) =>
        refundNotify(intent, created.body, {
          total_fee: '700',
          refund_fee: refundFee,
          settlement_refund_fee: refundFee,
          refund_status: 'SUCCESS',
          success_time: '2026-01-01 12:00:00',
          refund_recv_accout: '支付用户的零钱',
        });
      const rejections = async () =>
        ((await s.api('GET', '/v1/events?type=refund.notify_rejected&limit=100')).body.data as Json[]).map(
          (e) => e.data.object,
        );
      const before = (await rejections()).length;
      assert.match(await postRefundNotify(notify('71')), /FAIL/);
      assert.equal((await s.api('GET', `/v1/refunds/${created.body.id}`)).body.status, 'pending');
      assert.match(
        await postRefundNotify(notify('70').replace(/<req_info>.{8}/, '<req_info>AAAAAAAA')),
        /FAIL/,
      );
      assert.equal((await s.api('GET', `/v1/refunds/${created.body.id}`)).body.status, 'pending');
      // Each refusal is alerted, saying why: the amount, or a req_info this account's key does not decrypt.
      const all = await rejections();
      const [garbled, mismatched] = all.slice(0, all.length - before);
      assert.equal(mismatched.reason, 'refund_fee_mismatch');
      assert.equal(mismatched.refund, created.body.id);
      assert.equal(mismatched.payment_intent, intent.id);
      assert.deepEqual(mismatched.received, { refund_fee: '71' });
      assert.equal(garbled.reason, 'req_info_invalid');
      assert.equal(garbled.refund, null);
      assert.match(garbled.error, /APIv2 key/);
      assert.match(await postRefundNotify(notify('70')), /SUCCESS/);
      assert.equal((await s.api('GET', `/v1/refunds/${created.body.id}`)).body.status, 'succeeded');
      assert.match(await postRefundNotify(notify('70')), /SUCCESS/, 'a duplicate is acknowledged');
      assert.deepEqual(await eventTypes(created.body.id), [
        'charge.refund.updated',
        'charge.refund.updated',
        'refund.created',
        'refund.notify_rejected',
        'refund.succeeded',
      ]);
    });

    test('a refund notify that names no refund is alerted in the mode the merchant works in: live once a live key is in use', async () => {
      const merchant = s.sandbox.merchants[0]!;
      const unreadable = () =>
        buildXml({
          return_code: 'SUCCESS',
          appid: merchant.appid,
          mch_id: merchant.mchId,
          nonce_str: nonce(),
          req_info: 'AAAAAAAAAAAAAAAAAAAAAA==',
        });
      const rejected = async (api: typeof s.api) =>
        (await api('GET', '/v1/events?type=refund.notify_rejected&limit=100')).body.data.length as number;
      // Past the window of any unreadable notify an earlier test posted.
      s.clock.offsetMs += 3600_000;
      const inTest = await rejected(s.api);
      assert.match(await postRefundNotify(unreadable()), /FAIL/);
      assert.equal(await rejected(s.api), inTest + 1, 'only test keys: the test dashboard shows it');
      // Anyone can post to the notify URL: the same unreadable notify again is refused and logged, not alerted again.
      assert.match(await postRefundNotify(unreadable()), /FAIL/);
      assert.equal(await rejected(s.api), inTest + 1);

      const live = apiClient(s.url, await createApiKey(s.gateway.ctx.db, s.accountId, true));
      const inLive = await rejected(live);
      assert.match(await postRefundNotify(unreadable()), /FAIL/);
      assert.equal(await rejected(live), inLive + 1);
      assert.equal(await rejected(s.api), inTest + 1);
    });

    test('a refund WeChat closed and later reports paid back is marked succeeded, and its amount is no longer refundable', async () => {
      const intent = await s.paidIntent(200);
      const closed = await refundClosedHere(intent, 120);
      assert.equal((await intentOf(intent.id)).amount_refunded, 0, 'a failed refund gives its amount back');

      await wechatReportsPaidBack();
      const paidBack = await waitFor('refund succeeded', async () => {
        const body = await refundOf(closed.id);
        return body.status === 'succeeded' ? body : undefined;
      });
      assert.equal(paidBack.failure_reason, null);
      assert.equal(paidBack.wechat_pay.submitted, true);
      const after = await intentOf(intent.id);
      assert.equal(after.amount_refunded, 120);
      assert.equal(after.refunded, false);
      const tooMuch = await refund({ payment_intent: intent.id, amount: 81 });
      assert.equal(tooMuch.status, 400, JSON.stringify(tooMuch.body));
      assert.equal(tooMuch.body.error.code, 'amount_too_large');
      assert.equal(tooMuch.body.error.param, 'amount');
      assert.match(
        tooMuch.body.error.message,
        /Refund amount \(81\) is greater than the unrefunded amount \(80\)/,
      );
      assert.deepEqual(await eventTypes(closed.id), CLOSED_THEN_PAID_BACK);
      const [succeeded] = await eventData(closed.id, 'refund.succeeded');
      assert.equal(succeeded.object, 'refund');
      assert.equal(succeeded.status, 'succeeded');
      assert.equal(succeeded.amount, 120);
      const [alert] = await eventData(closed.id, 'refund.wechat_status_conflict');
      assert.deepEqual(alert, {
        status: 'failed',
        wechat_refund_status: 'SUCCESS',
        refund_fee: '120',
        corrected: true,
      });

      // What remains is what WeChat still refunds.
      const rest = await refund({ payment_intent: intent.id });
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      assert.equal(rest.body.amount, 80);
      await settle(rest.body.id);
      assert.equal((await intentOf(intent.id)).refunded, true);
      const ours = new Set([closed.wechat_pay.out_refund_no, rest.body.wechat_pay.out_refund_no]);
      assert.equal(
        refundMovements()
          .filter((m) => ours.has(m.ref))
          .reduce((sum, m) => sum - m.amount, 0),
        200,
        'WeChat refunded the payment once, in full',
      );
    });

    test('a refund WeChat closed and later reports paid back, when the amount was refunded again meanwhile, changes nothing and the merchant is alerted', async () => {
      const intent = await s.paidIntent(200);
      const closed = await refundClosedHere(intent, 120);
      // Refunded again meanwhile: a refund whose outcome is unknown (SYSTEMERROR, and the SDK's own resend) holds 100.
      s.sandbox.faults.add({ endpoint: 'refund', kind: 'systemerror', count: 2 });
      const again = await refund({ payment_intent: intent.id, amount: 100 });
      assert.equal(again.body.status, 'pending');
      assert.equal((await intentOf(intent.id)).amount_refunded, 100);

      await wechatReportsPaidBack();
      const [alert] = await waitFor('the alert', async () => {
        const alerts = await eventData(closed.id, 'refund.wechat_status_conflict');
        return alerts.length ? alerts : undefined;
      });
      assert.deepEqual(alert, {
        status: 'failed',
        wechat_refund_status: 'SUCCESS',
        refund_fee: '120',
        corrected: false,
        reason: 'exceeds_unrefunded_amount',
        unrefunded_amount: 100,
      });
      const still = await refundOf(closed.id);
      assert.equal(still.status, 'failed');
      assert.equal(still.failure_reason, 'refund_closed');
      assert.equal(
        (await intentOf(intent.id)).amount_refunded,
        100,
        'nothing reserved beyond the amount paid',
      );
      assert.equal((await refundOf(again.body.id)).status, 'pending');
      assert.deepEqual(await eventTypes(closed.id), [
        'charge.refund.updated',
        'charge.refund.updated',
        'refund.created',
        'refund.failed',
        'refund.wechat_status_conflict',
      ]);
      const listed = (await s.api('GET', '/v1/events?type=refund.wechat_status_conflict&limit=100')).body
        .data as Json[];
      assert.ok(listed.some((e) => e.data.object.corrected === false));

      // WeChat, which has paid back the first refund, refuses the second: together they exceed the payment.
      s.clock.offsetMs += 3600_000;
      await runRefundResends(s.gateway.ctx);
      assert.equal((await refundOf(again.body.id)).status, 'failed');
      assert.equal(refundMovements(again.body.wechat_pay.out_refund_no).length, 0);
    });

    test('a second report that a closed refund was paid back, even at the same moment, changes nothing: one event, one reservation', async () => {
      const intent = await s.paidIntent(200);
      const closed = await refundClosedHere(intent, 80, { duplicate: true });
      const paidBack = refundNotify(intent, closed, {
        total_fee: '200',
        refund_fee: '80',
        refund_status: 'SUCCESS',
        success_time: '2026-01-01 12:00:00',
      });
      const answers = await Promise.all([postRefundNotify(paidBack), postRefundNotify(paidBack)]);
      for (const answer of answers) assert.match(answer, /SUCCESS/);
      assert.equal((await refundOf(closed.id)).status, 'succeeded');
      // WeChat's own notify comes too, and once more after it was acknowledged.
      await wechatReportsPaidBack();
      const [sent] = s.sandbox.notifies({ ref: closed.wechat_pay.out_refund_no });
      assert.deepEqual(
        sent!.attempts.map((a) => [a.ok, a.duplicate ?? false]),
        [
          [true, false],
          [true, true],
        ],
      );
      assert.equal((await refundOf(closed.id)).status, 'succeeded');
      // A report that read the refund as failed before the first correction committed comes too late: the
      // correction's own conditional update turns it away.
      assert.equal(
        await markFailedRefundSucceeded(s.gateway.ctx, closed.id, {}, { corrected: true }),
        'not_failed',
      );
      assert.equal((await intentOf(intent.id)).amount_refunded, 80, 'reserved again once, not twice');
      assert.deepEqual(await eventTypes(closed.id), CLOSED_THEN_PAID_BACK);
    });

    test('WeChat reporting paid back a refund canceled here, which never left, only alerts the merchant', async () => {
      const intent = await s.paidIntent(300);
      const local = await refundThatNeverLeft(intent, 100);
      const canceled = await s.api('POST', `/v1/refunds/${local.id}/cancel`);
      assert.equal(canceled.body.status, 'canceled', JSON.stringify(canceled.body));
      const paidBack = refundNotify(intent, local, {
        refund_id: '50000000000000000000000001',
        total_fee: '300',
        refund_fee: '100',
        refund_status: 'SUCCESS',
        success_time: '2026-01-01 12:00:00',
      });
      assert.match(await postRefundNotify(paidBack), /SUCCESS/);
      assert.equal((await refundOf(local.id)).status, 'canceled');
      assert.equal((await intentOf(intent.id)).amount_refunded, 0);
      assert.deepEqual(await eventData(local.id, 'refund.wechat_status_conflict'), [
        { status: 'canceled', wechat_refund_status: 'SUCCESS', refund_fee: '100' },
      ]);
      assert.equal((await eventData(local.id, 'refund.succeeded')).length, 0);
    });
  });
}
