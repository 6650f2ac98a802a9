// Money-safety regressions: a checkout session paid twice refunds the extra payment, two concurrent confirms send
// one micropay, payout status replies about another number or amount are not adopted, and the payout send lease
// outlasts the WeChat client's whole call.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GetRedpackInfoReply, GetTransferInfoReply } from '@wxpay/sdk';
import { MERCHANT, signedReply } from '../../sdk/test/support/mock-wechat.ts';
import { runCheckoutSessions } from '../src/domain/checkout-sessions.ts';
import { loadAccount } from '../src/domain/context.ts';
import { replyMismatch, sendLeaseMs } from '../src/domain/payout-sending.ts';
import { wechatCallLeaseMs } from '../src/domain/wechat-lease.ts';
import { runRefundSync } from '../src/jobs/refund-sync.ts';
import { eventsOf } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, type Json, startHarness } from './support/harness.ts';
import { type PayoutWorld, redpackBody, startPayoutWorld } from './support/payout-sandbox.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';

const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0';
const PHONE = 'Mozilla/5.0 (iPhone) Mobile/15E148';

describe('payout send lease', () => {
  test('is (retries + 1) × timeout + backoff + margin, longer than any call the client can make', () => {
    assert.equal(wechatCallLeaseMs({ timeoutMs: 10_000 }), 2 * 10_000 + 200 + 15_000);
    assert.equal(
      wechatCallLeaseMs({ timeoutMs: 10_000, retries: 2, retryDelayMs: 100 }),
      30_000 + 300 + 15_000,
    );
    assert.equal(wechatCallLeaseMs({ timeoutMs: 5000, retries: 0 }), 5000 + 15_000);
    for (const timeoutMs of [800, 10_000, 30_000, 60_000]) {
      const lease = sendLeaseMs({ config: { wechatTimeoutMs: timeoutMs } as never });
      assert.ok(lease > 2 * timeoutMs + 200, `lease ${lease} for a ${timeoutMs} ms timeout`);
    }
  });
  test('a status reply is compared with the record by number and amount', () => {
    const row = { wechat_no: '1900000109202601010000000001', amount: 150 };
    assert.equal(replyMismatch(row, row.wechat_no, '150'), undefined);
    assert.equal(replyMismatch(row, undefined, undefined), undefined);
    assert.equal(replyMismatch(row, '1900000109202601010000000002', '150')?.reason, 'number_mismatch');
    assert.equal(replyMismatch(row, row.wechat_no, '15000')?.reason, 'amount_mismatch');
  });
});

for (const kind of DATABASE_KINDS) {
  describe(`a checkout session paid twice on ${kind}`, () => {
    let s: SandboxGateway;
    before(async () => {
      s = await startSandboxGateway(kind);
    });
    after(async () => {
      await s?.close();
    });

    const createSession = async () => {
      const { status, body } = await s.api('POST', '/v1/checkout/sessions', {
        amount: 888,
        currency: 'CNY',
        description: 'Mug',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
      });
      assert.equal(status, 200, JSON.stringify(body));
      return body;
    };
    const open = async (session: Json, userAgent: string) => {
      const page = await fetch(session.url, { headers: { 'user-agent': userAgent } });
      assert.equal(page.status, 200);
      await page.text();
      return (await s.api('GET', `/v1/checkout/sessions/${session.id}`)).body.payment_intent as string;
    };
    const intent = async (id: string) => (await s.api('GET', `/v1/payment_intents/${id}`)).body;
    const payAtWechat = async (id: string) => {
      const paid = await s.sandbox.pay({
        mch_id: s.sandbox.merchants[0]!.mchId,
        out_trade_no: (await intent(id)).wechat_pay.out_trade_no,
      });
      assert.ok(paid.ok, JSON.stringify(paid));
      await waitFor(`${id} succeeded`, async () =>
        (await intent(id)).status === 'succeeded' ? true : undefined,
      );
    };
    const eventTypes = async (objectId: string) =>
      ((await s.api('GET', `/v1/events?object_id=${objectId}&limit=100`)).body.data as Json[]).map(
        (e) => e.type,
      );
    const refundsOf = (intentId: string) =>
      s.gateway.ctx.db.selectFrom('refunds').selectAll().where('payment_intent', '=', intentId).execute();

    /** Exactly one payment kept, the other refunded in full (and settled at the sandbox), one completion. */
    const assertOneKept = async (session: Json, kept: string, extra: string) => {
      const done = (await s.api('GET', `/v1/checkout/sessions/${session.id}`)).body;
      assert.equal(done.status, 'complete');
      assert.equal(done.payment_intent, kept);
      assert.equal((await intent(kept)).amount_refunded, 0);
      const refunds = await refundsOf(extra);
      assert.equal(refunds.length, 1, 'one refund of the extra payment');
      assert.equal(refunds[0]!.amount, 888);
      assert.equal(refunds[0]!.reason, 'duplicate');
      assert.equal((await intent(extra)).amount_refunded, 888);
      await s.sandbox.clock.advance(6);
      await waitFor('duplicate refund succeeded', async () =>
        (await s.api('GET', `/v1/refunds/${refunds[0]!.id}`)).body.status === 'succeeded' ? true : undefined,
      );
      // The job runs again: nothing more is refunded and the session completes once.
      await runCheckoutSessions(s.gateway.ctx);
      assert.equal((await refundsOf(extra)).length, 1);
      assert.equal((await refundsOf(kept)).length, 0);
      const types = await eventTypes(session.id);
      assert.equal(types.filter((t) => t === 'checkout.session.completed').length, 1);
      assert.equal(types.filter((t) => t === 'checkout.session.duplicate_payment_refunded').length, 1);
      const event = (
        await s.api(
          'GET',
          `/v1/events?object_id=${session.id}&type=checkout.session.duplicate_payment_refunded`,
        )
      ).body.data[0];
      assert.equal(event.data.object.payment_intent, extra);
      assert.equal(event.data.object.kept_payment_intent, kept);
      assert.equal(event.data.object.refund, refunds[0]!.id);
    };

    test('a crash right after the duplicate refund is stored loses neither the refund nor its event', async () => {
      const session = await createSession();
      const desktop = await open(session, DESKTOP);
      const phone = await open(session, PHONE);
      await payAtWechat(desktop);
      await payAtWechat(phone);
      // The process dies the moment the refund would go to WeChat: after its transaction, before the call.
      const dying = {
        ...s.gateway.ctx,
        wechat: () => {
          throw new Error('the process died here');
        },
      };
      await runCheckoutSessions(dying);
      const [refund] = await refundsOf(phone);
      assert.equal(refund?.status, 'pending');
      assert.equal(refund.submitted, 0);
      const types = await eventTypes(session.id);
      assert.equal(types.filter((t) => t === 'checkout.session.duplicate_payment_refunded').length, 1);
      // A restarted gateway's worker sends the stored refund; nothing is refunded twice.
      s.clock.offsetMs += 10 * 60_000;
      assert.deepEqual(await runRefundSync(s.gateway.ctx), { resent: 1, queried: 0 });
      assert.equal((await refundsOf(phone))[0]?.submitted, 1);
      await runCheckoutSessions(s.gateway.ctx);
      assert.equal((await refundsOf(phone)).length, 1);
      assert.equal((await refundsOf(desktop)).length, 0);
    });

    test('both orders paid before the session syncs: the first is kept, the second refunded', async () => {
      const session = await createSession();
      const desktop = await open(session, DESKTOP);
      const phone = await open(session, PHONE);
      assert.notEqual(desktop, phone);
      await payAtWechat(desktop);
      await payAtWechat(phone);
      await runCheckoutSessions(s.gateway.ctx);
      await assertOneKept(session, desktop, phone);
    });

    test('the other order paid after the session completed is refunded by the job', async () => {
      const session = await createSession();
      const desktop = await open(session, DESKTOP);
      const phone = await open(session, PHONE);
      await payAtWechat(phone);
      await runCheckoutSessions(s.gateway.ctx);
      assert.equal((await s.api('GET', `/v1/checkout/sessions/${session.id}`)).body.status, 'complete');
      // Canceled within WeChat's 5 minutes, so only scheduled: the payer can still pay the desktop QR.
      await payAtWechat(desktop);
      await runCheckoutSessions(s.gateway.ctx);
      await assertOneKept(session, phone, desktop);
    });

    test('going back to the desktop shows its QR order again instead of placing a third', async () => {
      const session = await createSession();
      const desktop = await open(session, DESKTOP);
      const phone = await open(session, PHONE);
      assert.notEqual(desktop, phone);
      assert.equal(await open(session, DESKTOP), desktop);
      assert.equal(await open(session, PHONE), phone);
      const placed = await s.gateway.ctx.db
        .selectFrom('checkout_session_intents')
        .select('intent_id')
        .where('session_id', '=', session.id)
        .execute();
      assert.equal(placed.length, 2);
    });
  });

  describe(`concurrent confirms on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
      // A slow micropay, so that the two confirms overlap at WeChat.
      h.mock.on('/pay/micropay', ({ fields }) => ({
        delayMs: 300,
        body: signedReply({
          appid: MERCHANT.appid,
          mch_id: MERCHANT.mchId,
          out_trade_no: fields.out_trade_no!,
          total_fee: fields.total_fee!,
          fee_type: fields.fee_type ?? 'CNY',
          cash_fee: fields.total_fee!,
          transaction_id: `4200000${Date.now()}`.padEnd(28, '0'),
          trade_type: 'MICROPAY',
        }),
      }));
    });
    after(async () => {
      await h?.close();
    });

    test('two parallel /confirm of a SCAN_CODE intent send one micropay; the other is a 409', async () => {
      const created = await h.api('POST', '/v1/payment_intents', {
        amount: 500,
        currency: 'CNY',
        payment_method_options: { wechat_pay: { terminal_type: 'SCAN_CODE' } },
      });
      assert.equal(created.body.status, 'requires_confirmation', JSON.stringify(created.body));
      const confirm = () =>
        h.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, {
          payment_method_data: { type: 'wechat_pay', wechat_pay: { payment_code: '134567890123456789' } },
        });
      const results = await Promise.all([confirm(), confirm()]);
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409], JSON.stringify(results.map((r) => r.body)));
      const outTradeNo = created.body.wechat_pay.out_trade_no;
      const sent = h.mock.requests.filter(
        (r) => r.path === '/pay/micropay' && r.fields.out_trade_no === outTradeNo,
      );
      assert.equal(sent.length, 1, 'WeChat receives exactly one micropay');
      const after = await h.api('GET', `/v1/payment_intents/${created.body.id}`);
      assert.equal(after.body.status, 'succeeded');
      const again = await confirm();
      assert.equal(again.status, 400, 'a succeeded intent cannot be confirmed again');
    });
  });

  describe(`payout status replies checked against the record on ${kind}`, () => {
    let w: PayoutWorld;
    before(async () => {
      w = await startPayoutWorld(kind);
    });
    after(async () => {
      await w?.close();
    });

    const events = (id: string, type: string) => eventsOf(w.api, id, type);
    const client = async () => w.gateway.ctx.wechat(await loadAccount(w.gateway.ctx, w.accountId), false);

    test('a gettransferinfo reply about another number or amount is not adopted, even a final FAILED', async () => {
      // A frozen account: the sandbox's real reply would fail the transfer.
      const sent = await w.api('POST', '/v1/transfers', {
        openid: 'banned-user-1',
        amount: 100,
        description: '奖励',
        check_name: 'NO_CHECK',
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      const before = sent.body.status;
      assert.notEqual(before, 'failed');
      await w.sandbox.clock.advance(4);
      const wechat = await client();
      const real = wechat.getTransferInfo.bind(wechat);
      const cases: [string, (r: GetTransferInfoReply) => GetTransferInfoReply][] = [
        ['number_mismatch', (r) => ({ ...r, partner_trade_no: `${r.partner_trade_no}9`.slice(-28) })],
        ['amount_mismatch', (r) => ({ ...r, payment_amount: '10000' })],
      ];
      try {
        for (const [reason, change] of cases) {
          wechat.getTransferInfo = async (params) => {
            const reply = await real(params);
            assert.equal(reply.status, 'FAILED');
            return change(reply);
          };
          await w.recover();
          const row = (await w.api('GET', `/v1/transfers/${sent.body.id}`)).body;
          assert.equal(row.status, before, `${reason}: the state is kept`);
          assert.ok(
            (await events(sent.body.id, 'transfer.query_rejected')).some(
              (e) => e.data.object.reason === reason,
            ),
            `${reason}: an alert event`,
          );
          assert.equal((await events(sent.body.id, 'transfer.failed')).length, 0);
        }
      } finally {
        delete (wechat as Partial<typeof wechat>).getTransferInfo;
      }
      // The true reply is adopted as before.
      await w.recover();
      assert.equal((await w.api('GET', `/v1/transfers/${sent.body.id}`)).body.status, 'failed');
    });

    test('a gethbinfo reply with another amount keeps the red packet as it is', async () => {
      const sent = await w.api('POST', '/v1/redpacks', redpackBody());
      assert.equal(sent.body.status, 'sent', JSON.stringify(sent.body));
      const wechat = await client();
      const real = wechat.getRedpackInfo.bind(wechat);
      wechat.getRedpackInfo = async (params) => {
        const reply = await real(params);
        return { ...reply, status: 'FAILED', total_amount: '15000' } as GetRedpackInfoReply;
      };
      try {
        await w.recover();
      } finally {
        delete (wechat as Partial<typeof wechat>).getRedpackInfo;
      }
      assert.equal((await w.api('GET', `/v1/redpacks/${sent.body.id}`)).body.status, 'sent');
      const alerts = await events(sent.body.id, 'redpack.query_rejected');
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.data.object.reason, 'amount_mismatch');
      assert.equal(alerts[0]!.data.object.expected, '150');
    });
  });
}
