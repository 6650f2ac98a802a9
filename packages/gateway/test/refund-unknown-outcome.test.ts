// A refusal proves only that the try which got it did not take effect: after a try whose outcome is unknown, a
// refund or payout refused (or rate limited) on a later try of the same WeChat number stays open until WeChat is
// asked, and the payer is paid exactly once. Real sandbox (with WeChat's QPS limits), SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Merchant } from '@wxpay/sandbox';
import { BusinessError, buildXml, encryptReqInfo, nonce, TransportError, WechatPay } from '@wxpay/sdk';
import { sendRefund } from '../src/domain/refunds.ts';
import { runRefundQueries, runRefundResends } from '../src/jobs/refund-sync.ts';
import type { Json } from './support/api-client.ts';
import { DATABASE_KINDS, type DatabaseKind } from './support/databases.ts';
import { openid, type PayoutWorld, redpackBody, startPayoutWorld } from './support/payout-sandbox.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';
import { startWechatProxy, viaProxy, type WechatProxy } from './support/wechat-proxy.ts';

const WECHAT_TIMEOUT_MS = 2000;
const REFUND_QPS = 150;

/** return_code FAIL, as WeChat answers a call it could not process (unsigned). */
const returnCodeFail = (msg: string) => buildXml({ return_code: 'FAIL', return_msg: msg });

interface RefundWorld extends SandboxGateway {
  merchant: Merchant;
  proxy: WechatProxy;
}

/**
 * A gateway on `kind` with a sandbox that enforces WeChat's QPS limits. Simulated time runs at 1/10 000 of real
 * time, so one simulated second (one rate-limit window) lasts as long as a test needs.
 */
async function startRefundWorld(kind: DatabaseKind): Promise<RefundWorld> {
  const env = await startSandboxGateway(kind, {
    wechatTimeoutMs: WECHAT_TIMEOUT_MS,
    sandbox: { qpsLimits: true, timeScale: 0.0001, startTime: Math.floor(Date.now() / 1000) * 1000 },
  });
  const merchant = env.sandbox.merchants[0]!;
  const proxy = await startWechatProxy(env.sandbox, merchant);
  return {
    ...env,
    merchant,
    proxy,
    async close() {
      await proxy.close();
      await env.close();
    },
  };
}

for (const kind of DATABASE_KINDS) {
  describe(`refunds after an unknown outcome, on ${kind}`, () => {
    let w: RefundWorld;
    let otherTraffic: WechatPay;
    before(async () => {
      w = await startRefundWorld(kind);
      otherTraffic = new WechatPay({
        appid: w.merchant.appid,
        mchId: w.merchant.mchId,
        key: w.merchant.key,
        baseUrl: w.sandbox.url,
        ca: w.sandbox.caCert,
        clientCert: { pfx: w.merchant.pfx, passphrase: w.merchant.passphrase },
        retries: 0,
      });
    });
    after(async () => {
      await otherTraffic?.close();
      await w?.close();
    });

    const refund = (body: Record<string, unknown>) => w.api('POST', '/v1/refunds', body);
    const refundOf = async (id: string) => (await w.api('GET', `/v1/refunds/${id}`)).body;
    const intentOf = async (id: string) => (await w.api('GET', `/v1/payment_intents/${id}`)).body;
    /** What the sandbox refunded for the gateway's refunds of `intentId`, whatever their out_refund_no. */
    const refundedByWechat = async (intentId: string) => {
      const ours = (await w.api('GET', `/v1/refunds?payment_intent=${intentId}&limit=100`)).body
        .data as Json[];
      const numbers = new Set(ours.map((r) => r.wechat_pay.out_refund_no));
      return w.sandbox
        .ledger(w.merchant.mchId)
        .movements.filter((m) => m.kind === 'refund' && numbers.has(m.ref))
        .map((m) => m.amount);
    };
    const paidIntent = async (amount: number) => {
      const created = await w.api('POST', '/v1/payment_intents', {
        amount,
        currency: 'CNY',
        confirm: true,
        payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const paid = await w.sandbox.pay({
        code_url: created.body.next_action.wechat_pay_display_qr_code.image_data_url,
      });
      assert.ok(paid.ok, JSON.stringify(paid));
      return waitFor('intent succeeded', async () => {
        const body = await intentOf(created.body.id);
        return body.status === 'succeeded' ? body : undefined;
      });
    };
    /** Moves WeChat's clock just past the next whole second: a fresh rate-limit window. */
    const freshSecond = async () => {
      const now = w.sandbox.clock.now();
      await w.sandbox.clock.advance((1000 - (now % 1000) + 1) / 1000);
    };
    /** `calls` other refund calls of this merchant in the current second (refused: no such order). */
    const otherRefundCalls = async (calls: number) => {
      for (let i = 0; i < calls; i += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, calls - i) }, (_, j) =>
            otherTraffic
              .refund({
                out_trade_no: `elsewhere${i + j}`,
                out_refund_no: `other${i + j}`,
                total_fee: 1,
                refund_fee: 1,
              })
              .then(
                () => assert.fail('the order does not exist'),
                (error: { errCode?: string }) => assert.equal(error.errCode, 'ORDERNOTEXIST'),
              ),
          ),
        );
      }
    };
    /** Lets the sandbox settle refunds (5 simulated seconds) and waits for the gateway's final status. */
    const settled = async (refundId: string) => {
      await w.sandbox.clock.advance(6);
      return waitFor('refund succeeded', async () => {
        const body = await refundOf(refundId);
        return body.status === 'succeeded' ? body : undefined;
      });
    };
    /** The refund is still open with its amount reserved: nothing more than the rest can be refunded. */
    const assertStillReserved = async (intent: Json, created: Json) => {
      const now = await refundOf(created.id);
      assert.equal(now.status, 'pending', `not failed: ${JSON.stringify(now)}`);
      assert.equal(now.failure_reason, null);
      assert.equal((await intentOf(intent.id)).amount_refunded, created.amount, 'the amount stays reserved');
      const full = await refund({ payment_intent: intent.id, amount: intent.amount });
      assert.equal(full.status, 400, JSON.stringify(full.body));
      assert.equal(full.body.error.code, 'amount_too_large');
    };

    test("the 150th refund call lands and its reply is lost; the SDK's resend, the 151st, is FREQUENCY_LIMITED: the refund stays pending and WeChat refunds once", async () => {
      const intent = await paidIntent(1000);
      await freshSecond();
      await otherRefundCalls(REFUND_QPS - 1);
      // WeChat acts on the 150th call but the connection is cut before it answers.
      w.sandbox.faults.add({ endpoint: 'refund', kind: 'timeout', holdMs: 50, count: 1 });
      const first = await refund({ payment_intent: intent.id, amount: 300 });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.status, 'pending', JSON.stringify(first.body));
      assert.equal(first.body.wechat_pay.submitted, false);
      const outRefundNo = first.body.wechat_pay.out_refund_no;
      assert.deepEqual(await refundedByWechat(intent.id), [-300], 'WeChat did refund');
      await assertStillReserved(intent, first.body);

      // The worker resends in a later second, with the same out_refund_no: WeChat answers with its refund.
      await freshSecond();
      w.clock.offsetMs += 11_000;
      await runRefundResends(w.gateway.ctx);
      const resent = await refundOf(first.body.id);
      assert.equal(resent.wechat_pay.submitted, true);
      assert.equal(resent.wechat_pay.out_refund_no, outRefundNo);
      await settled(first.body.id);
      assert.deepEqual(await refundedByWechat(intent.id), [-300], 'exactly one refund of 300');
      assert.equal((await intentOf(intent.id)).amount_refunded, 300);
    });

    test("the worker's resend after a lost reply is FREQUENCY_LIMITED: still pending, then resent and refunded once", async () => {
      const intent = await paidIntent(1000);
      await freshSecond();
      // Both tries of the first call land (the second as the same refund) and lose their replies.
      w.sandbox.faults.add({ endpoint: 'refund', kind: 'timeout', holdMs: 50, count: 2 });
      const first = await refund({ payment_intent: intent.id, amount: 300 });
      assert.equal(first.body.status, 'pending', JSON.stringify(first.body));
      assert.deepEqual(await refundedByWechat(intent.id), [-300]);

      await freshSecond();
      await otherRefundCalls(REFUND_QPS);
      w.clock.offsetMs += 11_000;
      await runRefundResends(w.gateway.ctx);
      await assertStillReserved(intent, first.body);
      assert.equal(
        (await refundOf(first.body.id)).wechat_pay.out_refund_no,
        first.body.wechat_pay.out_refund_no,
      );

      await freshSecond();
      w.clock.offsetMs += 3600_000;
      await runRefundResends(w.gateway.ctx);
      assert.equal((await refundOf(first.body.id)).wechat_pay.submitted, true);
      await settled(first.body.id);
      assert.deepEqual(await refundedByWechat(intent.id), [-300], 'exactly one refund of 300');
    });

    test("a return_code FAIL on the SDK's own resend, after a first try that landed: the refund stays pending and is refunded once", async () => {
      const intent = await paidIntent(800);
      await freshSecond();
      w.proxy.plan('/secapi/pay/refund', 'lose_reply', { answer: returnCodeFail('系统繁忙，请稍后再试') });
      const first = await viaProxy(w.gateway.ctx, w.proxy, w.merchant, WECHAT_TIMEOUT_MS, () =>
        refund({ payment_intent: intent.id, amount: 300 }),
      );
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(await refundedByWechat(intent.id), [-300], 'the first try refunded');
      await assertStillReserved(intent, first.body);

      w.clock.offsetMs += 11_000;
      await runRefundResends(w.gateway.ctx);
      assert.equal((await refundOf(first.body.id)).wechat_pay.submitted, true);
      await settled(first.body.id);
      assert.deepEqual(await refundedByWechat(intent.id), [-300], 'exactly one refund of 300');
    });

    test('a return_code FAIL on the resend of a refund that landed: refundquery finds it, and it is not failed', async () => {
      const intent = await paidIntent(600);
      await freshSecond();
      w.sandbox.faults.add({ endpoint: 'refund', kind: 'timeout', holdMs: 50, count: 2 });
      const first = await refund({ payment_intent: intent.id, amount: 200 });
      assert.equal(first.body.status, 'pending');
      assert.deepEqual(await refundedByWechat(intent.id), [-200]);

      w.proxy.plan('/secapi/pay/refund', { answer: returnCodeFail('系统繁忙，请稍后再试') });
      w.clock.offsetMs += 11_000;
      const queriesBefore = w.proxy.calls.filter((p) => p === '/pay/refundquery').length;
      await viaProxy(w.gateway.ctx, w.proxy, w.merchant, WECHAT_TIMEOUT_MS, () =>
        runRefundResends(w.gateway.ctx),
      );
      assert.equal(w.proxy.calls.filter((p) => p === '/pay/refundquery').length, queriesBefore + 1);
      const after = await refundOf(first.body.id);
      assert.equal(after.status, 'pending', JSON.stringify(after));
      assert.equal(after.wechat_pay.submitted, true, 'refundquery showed WeChat has it');
      assert.equal((await intentOf(intent.id)).amount_refunded, 200);
      await settled(first.body.id);
      assert.deepEqual(await refundedByWechat(intent.id), [-200]);
    });

    test('a return_code FAIL on the resend of a refund that never landed: refundquery says REFUNDNOTEXIST, so it fails and frees its amount', async () => {
      const intent = await paidIntent(600);
      await freshSecond();
      // SYSTEMERROR before WeChat acts, on both tries of the first call.
      w.sandbox.faults.add({ endpoint: 'refund', kind: 'systemerror', count: 2 });
      const first = await refund({ payment_intent: intent.id, amount: 200 });
      assert.equal(first.body.status, 'pending');
      assert.deepEqual(await refundedByWechat(intent.id), []);

      w.proxy.plan('/secapi/pay/refund', { answer: returnCodeFail('证书已失效') });
      w.clock.offsetMs += 11_000;
      const queriesBefore = w.proxy.calls.filter((p) => p === '/pay/refundquery').length;
      await viaProxy(w.gateway.ctx, w.proxy, w.merchant, WECHAT_TIMEOUT_MS, () =>
        runRefundResends(w.gateway.ctx),
      );
      assert.equal(
        w.proxy.calls.filter((p) => p === '/pay/refundquery').length,
        queriesBefore + 1,
        'WeChat is asked before the refund is failed',
      );
      const after = await refundOf(first.body.id);
      assert.equal(after.status, 'failed');
      assert.equal(after.failure_reason, 'protocol');
      assert.equal((await intentOf(intent.id)).amount_refunded, 0, 'the amount is free again');
      assert.deepEqual(await refundedByWechat(intent.id), []);
    });

    test('a worker holding a copy of the refund read before its first attempt cannot send it as a first attempt', async () => {
      const intent = await paidIntent(400);
      await freshSecond();
      w.sandbox.faults.add({ endpoint: 'refund', kind: 'timeout', holdMs: 50, count: 2 });
      const created = await refund({ payment_intent: intent.id, amount: 100 });
      assert.equal(created.body.status, 'pending');
      assert.deepEqual(await refundedByWechat(intent.id), [-100]);
      const row = await w.gateway.ctx.db
        .selectFrom('refunds')
        .selectAll()
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      // Were it sent, this copy's refusal would look like the answer to a first attempt.
      w.proxy.plan('/secapi/pay/refund', { answer: returnCodeFail('系统繁忙，请稍后再试') });
      const callsBefore = w.proxy.calls.length;
      try {
        await viaProxy(w.gateway.ctx, w.proxy, w.merchant, WECHAT_TIMEOUT_MS, () =>
          sendRefund(w.gateway.ctx, { ...row, attempts: 0 }),
        );
      } finally {
        w.proxy.clear();
      }
      assert.equal(w.proxy.calls.length, callsBefore, 'not sent');
      await assertStillReserved(intent, created.body);
      w.clock.offsetMs += 11_000;
      await runRefundResends(w.gateway.ctx);
      await settled(created.body.id);
      assert.deepEqual(await refundedByWechat(intent.id), [-100]);
    });

    const refundRow = (id: string) =>
      w.gateway.ctx.db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    /**
     * A process whose WeChat refund call stalls until `release()`, then fails with `error`: a timeout, or a
     * refusal that comes too late.
     */
    const stalledSender = (error: Error) => {
      let release = () => {};
      let called = false;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const client = {
        refund: async () => {
          called = true;
          await gate;
          throw error;
        },
      };
      return {
        send: (row: Awaited<ReturnType<typeof refundRow>>) =>
          sendRefund({ ...w.gateway.ctx, wechat: () => client as never }, row),
        calledWechat: () => waitFor('the send calls WeChat', async () => (called ? true : undefined)),
        release: () => release(),
      };
    };
    const timedOut = () =>
      new TransportError('NETWORK', 'the call timed out', { endpoint: '/secapi/pay/refund' });

    test('a send that outlived its lease leaves alone the lease of the worker that took the refund over', async () => {
      const intent = await paidIntent(300);
      await freshSecond();
      w.sandbox.faults.add({ endpoint: 'refund', kind: 'timeout', holdMs: 50, count: 2 });
      const created = await refund({ payment_intent: intent.id, amount: 100 });
      assert.equal(created.body.status, 'pending');
      const rowNow = () => refundRow(created.body.id);
      const first = stalledSender(timedOut());
      const firstSend = first.send(await rowNow());
      await first.calledWechat();
      const firstLease = (await rowNow()).sending_until!;
      // The first process stalls past its lease; a second takes the refund over.
      w.clock.offsetMs += firstLease - w.gateway.ctx.now() + 1000;
      const second = stalledSender(timedOut());
      const secondSend = second.send(await rowNow());
      await second.calledWechat();
      const secondLease = (await rowNow()).sending_until!;
      assert.ok(secondLease > firstLease, 'the second send holds a lease of its own');

      first.release();
      await firstSend;
      assert.equal((await rowNow()).sending_until, secondLease, "the second send's lease is still held");
      second.release();
      await secondSend;
      const after = await rowNow();
      assert.equal(after.sending_until, null, 'released by the send that held it');
      assert.equal(after.status, 'pending');
      w.clock.offsetMs += 3600_000;
      await runRefundResends(w.gateway.ctx);
      await settled(created.body.id);
      assert.deepEqual(await refundedByWechat(intent.id), [-100]);
    });

    test("a first send refused after it stalled past its lease cannot fail the refund the worker's resend had accepted", async () => {
      const intent = await paidIntent(300);
      await freshSecond();
      // A refund stored and never sent (as after a crash before its first call).
      w.sandbox.faults.add({ endpoint: 'refund', kind: 'systemerror', count: 2 });
      const created = await refund({ payment_intent: intent.id, amount: 100 });
      w.sandbox.faults.clear();
      await w.gateway.ctx.db
        .updateTable('refunds')
        .set({ attempts: 0, submitted: 0, next_attempt_at: null })
        .where('id', '=', created.body.id)
        .execute();
      assert.deepEqual(await refundedByWechat(intent.id), [], 'WeChat has no such refund yet');
      const rowNow = () => refundRow(created.body.id);
      const first = stalledSender(
        new BusinessError('NOTENOUGH', '余额不足', { endpoint: '/secapi/pay/refund' }),
      );
      const firstSend = first.send(await rowNow());
      await first.calledWechat();
      const firstLease = (await rowNow()).sending_until!;
      w.clock.offsetMs += firstLease - w.gateway.ctx.now() + 1000;
      await freshSecond();
      const resent = await sendRefund(w.gateway.ctx, await rowNow());
      assert.equal(resent.submitted, 1, 'WeChat accepted the resend');

      first.release();
      await firstSend;
      await assertStillReserved(intent, created.body);
      await settled(created.body.id);
      assert.deepEqual(await refundedByWechat(intent.id), [-100]);
    });

    test('a refund held for manual handling (CHANGE) is queried on the slow schedule, not every minute', async () => {
      const intent = await paidIntent(500);
      await freshSecond();
      const created = await refund({ payment_intent: intent.id, amount: 100 });
      assert.equal(created.body.wechat_pay.submitted, true, JSON.stringify(created.body));
      const notify = buildXml({
        return_code: 'SUCCESS',
        appid: w.merchant.appid,
        mch_id: w.merchant.mchId,
        nonce_str: nonce(),
        req_info: encryptReqInfo(
          {
            transaction_id: intent.wechat_pay.transaction_id,
            out_trade_no: intent.wechat_pay.out_trade_no,
            refund_id: created.body.wechat_pay.refund_id,
            out_refund_no: created.body.wechat_pay.out_refund_no,
            total_fee: '500',
            refund_fee: '100',
            refund_status: 'CHANGE',
          },
          w.merchant.key,
        ),
      });
      const answer = await fetch(`${w.gateway.ctx.publicUrl()}/notify/wechatpay/${w.accountId}/refund`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: notify,
      });
      assert.match(await answer.text(), /SUCCESS/);
      assert.equal((await refundOf(created.body.id)).status, 'requires_action');

      const nextQueryAt = async () =>
        (
          await w.gateway.ctx.db
            .selectFrom('refunds')
            .select('next_query_at')
            .where('id', '=', created.body.id)
            .executeTakeFirstOrThrow()
        ).next_query_at!;
      w.clock.offsetMs += 6 * 3600_000 + 1000;
      await runRefundQueries(w.gateway.ctx);
      // WeChat still has it in hand (PROCESSING): the refund stays requires_action.
      assert.equal((await refundOf(created.body.id)).status, 'requires_action');
      const queriedAt = w.gateway.ctx.now();
      assert.ok(
        (await nextQueryAt()) >= queriedAt + 5 * 3600_000,
        `next refundquery in ${((await nextQueryAt()) - queriedAt) / 1000} s`,
      );
    });
  });

  describe(`payouts after an unknown outcome, on ${kind}`, () => {
    let w: PayoutWorld;
    let proxy: WechatProxy;
    let merchant: Merchant;
    before(async () => {
      w = await startPayoutWorld(kind);
      merchant = w.sandbox.merchants[0]!;
      proxy = await startWechatProxy(w.sandbox, merchant);
    });
    after(async () => {
      await proxy?.close();
      await w?.close();
    });

    /** The payout gateway's WeChat timeout (startPayoutWorld). */
    const timeoutMs = 800;
    const send = (path: string, body: Record<string, unknown>) =>
      viaProxy(w.gateway.ctx, proxy, merchant, timeoutMs, () => w.api('POST', path, body));
    const refusal = (errCode: string, des: string) =>
      buildXml({
        return_code: 'SUCCESS',
        return_msg: des,
        result_code: 'FAIL',
        err_code: errCode,
        err_code_des: des,
        mch_id: merchant.mchId,
      });
    const redpack = () => redpackBody();

    test('a red packet whose first try paid and whose resend got FREQ_LIMIT stays sending, and is found, not paid again', async () => {
      proxy.plan('/mmpaymkttransfers/sendredpack', 'lose_reply', {
        answer: refusal('FREQ_LIMIT', '超过频率限制,请稍后再试'),
      });
      const sent = await send('/v1/redpacks', redpack());
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'sending', JSON.stringify(sent.body));
      const billno = sent.body.mch_billno;
      assert.deepEqual(
        w.movements(billno),
        [{ kind: 'redpack', amount: -150, ref: billno }],
        'the first try paid',
      );
      await w.recover();
      const done = (await w.api('GET', `/v1/redpacks/${sent.body.id}`)).body;
      assert.equal(done.status, 'sent');
      assert.equal(done.mch_billno, billno, 'the same number, never a new one');
      assert.deepEqual(w.movements(billno), [{ kind: 'redpack', amount: -150, ref: billno }], 'paid once');
    });

    test('a transfer whose first try paid and whose resend got NOTENOUGH stays sending, and is found, not paid again', async () => {
      proxy.plan('/mmpaymkttransfers/promotion/transfers', 'lose_reply', {
        answer: refusal('NOTENOUGH', '余额不足'),
      });
      const sent = await send('/v1/transfers', {
        openid: openid(),
        amount: 100,
        description: '奖励',
        check_name: 'NO_CHECK',
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'sending', JSON.stringify(sent.body));
      const number = sent.body.partner_trade_no;
      assert.deepEqual(
        w.movements(number).map((m) => m.amount),
        [-100],
      );
      await w.sandbox.clock.advance(4);
      await w.recover();
      const done = (await w.api('GET', `/v1/transfers/${sent.body.id}`)).body;
      assert.equal(done.status, 'succeeded');
      assert.equal(done.partner_trade_no, number);
      assert.deepEqual(
        w.movements(number).map((m) => m.amount),
        [-100],
        'paid once',
      );
    });

    test('a red packet rate limited on its only try (FREQ_LIMIT) is not failed: it is sent later with the same mch_billno', async () => {
      proxy.plan('/mmpaymkttransfers/sendredpack', {
        answer: refusal('FREQ_LIMIT', '超过频率限制,请稍后再试'),
      });
      const sent = await send('/v1/redpacks', redpack());
      assert.equal(sent.body.status, 'sending', JSON.stringify(sent.body));
      const billno = sent.body.mch_billno;
      assert.deepEqual(w.movements(billno), [], 'WeChat processed nothing');
      await w.recover();
      const done = (await w.api('GET', `/v1/redpacks/${sent.body.id}`)).body;
      assert.equal(done.status, 'sent');
      assert.equal(done.mch_billno, billno);
      assert.deepEqual(w.movements(billno), [{ kind: 'redpack', amount: -150, ref: billno }]);
    });
  });
}
