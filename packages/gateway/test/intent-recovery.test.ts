// Intents left mid-way by a confirm that died, raced or failed: the follow-up job resumes a micropay whose process
// died during the call, a cancel never cancels from a row a confirm has changed since, a payment WeChat took for
// an intent canceled meanwhile is recorded and alerted, and an order WeChat never received can be canceled.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { BusinessError, buildXml, type WechatPay } from '@wxpay/sdk';
import { sql } from 'kysely';
import type { Db, IntentRow } from '../src/db/schema.ts';
import { loadAccount } from '../src/domain/context.ts';
import { ApiError } from '../src/domain/errors.ts';
import { closeIntent, queryIntent } from '../src/domain/reconcile.ts';
import { markIntentCanceled } from '../src/domain/transitions.ts';
import { wechatCallLeaseMs } from '../src/domain/wechat-lease.ts';
import { runCloses } from '../src/jobs/expiry.ts';
import { runFollowUps } from '../src/jobs/follow-up.ts';
import { eventsOf, type Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway, waitFor } from './support/sandbox-gateway.ts';

type MicropayParams = Parameters<WechatPay['micropay']>[0];

for (const kind of DATABASE_KINDS) {
  describe(`intent recovery on ${kind}`, () => {
    let s: SandboxGateway;
    /** The gateway's own client factory, which the tests' fault injection wraps and restores. */
    let realWechat: SandboxGateway['gateway']['ctx']['wechat'];
    before(async () => {
      s = await startSandboxGateway(kind);
      realWechat = s.gateway.ctx.wechat;
    });
    /** Confirms a test left stalled (a failed assertion skips its own wake-up): let go before the gateway closes. */
    const stalled: (() => void)[] = [];
    after(async () => {
      for (const release of stalled) release();
      await s?.close();
    });

    const scanCode = { wechat_pay: { terminal_type: 'SCAN_CODE', client_ip: '203.0.113.9' } };
    const paymentCode = () => ({
      type: 'wechat_pay',
      wechat_pay: { payment_code: s.sandbox.paymentCode().auth_code },
    });
    const movements = (movementKind: string, outTradeNo: string) =>
      s.sandbox
        .ledger(s.sandbox.merchants[0]!.mchId)
        .movements.filter((m) => m.kind === movementKind && m.ref === outTradeNo);
    const rowOf = (id: string): Promise<IntentRow> =>
      s.gateway.ctx.db
        .selectFrom('payment_intents')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
    const payloadsOf = async (id: string, payloadKind: string) =>
      (
        await s.gateway.ctx.db
          .selectFrom('wechat_payloads')
          .select('body')
          .where('intent_id', '=', id)
          .where('kind', '=', payloadKind)
          .execute()
      ).map((p) => p.body);
    const retrieve = async (id: string): Promise<Json> =>
      (await s.api('GET', `/v1/payment_intents/${id}`)).body;
    const post = async (path: string, body: string): Promise<Json> => {
      const response = await fetch(s.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      return response.json();
    };
    /** WeChat's view of an order: its trade_state, or the err_code of the refusal. */
    const tradeStateAtWechat = async (outTradeNo: string): Promise<string | undefined> => {
      const client = realWechat(await loadAccount(s.gateway.ctx, s.accountId), false);
      try {
        return (await client.orderQuery({ out_trade_no: outTradeNo })).trade_state;
      } catch (error) {
        if (error instanceof BusinessError) return error.errCode;
        throw error;
      }
    };
    /** Moves the gateway's clock past `lease` (a confirm's confirming_until). */
    const passLease = (lease: number) => {
      s.clock.offsetMs += Math.max(0, lease - s.gateway.ctx.now()) + 1000;
    };

    /** Answers the gateway's next micropay call with `replacement` (given the real client); later calls go through. */
    const replaceNextMicropay = (
      replacement: (target: WechatPay, params: MicropayParams) => Promise<unknown>,
    ): (() => void) => {
      const ctx = s.gateway.ctx;
      let replaced = false;
      ctx.wechat = (account, livemode) => {
        const client = realWechat(account, livemode);
        return new Proxy(client, {
          get(target, name) {
            if (name === 'micropay' && !replaced) {
              replaced = true;
              return (params: MicropayParams) => replacement(target, params);
            }
            // Bound to the real client: its methods use private fields, which a proxy does not have.
            const value = Reflect.get(target, name, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      };
      return () => {
        ctx.wechat = realWechat;
      };
    };

    /**
     * Starts the SCAN_CODE confirm of a new intent whose micropay does `send` and then never comes back: the process
     * died mid-call, so it never handles the reply nor releases its lease. Resolves once `send` is done. `wake()`
     * lets that confirm go on with a lost reply, as a stalled process that resumes would.
     */
    const confirmThatDies = async (
      amount: number,
      send: (target: WechatPay, params: MicropayParams) => Promise<unknown>,
    ) => {
      const created = await s.api('POST', '/v1/payment_intents', {
        amount,
        currency: 'CNY',
        payment_method_options: scanCode,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      let sent!: () => void;
      const reachedWechat = new Promise<void>((resolve) => {
        sent = resolve;
      });
      let wake!: () => void;
      const stall = new Promise<void>((resolve) => {
        wake = resolve;
      });
      stalled.push(wake);
      const restore = replaceNextMicropay(async (target, params) => {
        try {
          await send(target, params);
        } finally {
          sent();
        }
        await stall;
        throw new Error('the reply of this micropay was lost with its process');
      });
      const answer = s.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, {
        payment_method_data: paymentCode(),
      });
      await reachedWechat;
      restore();
      return {
        id: created.body.id as string,
        outTradeNo: created.body.wechat_pay.out_trade_no as string,
        wake,
        answer,
      };
    };

    /** The next micropay waits until `open()`, then is sent for real: its confirm holds the lease meanwhile. */
    const gatedMicropay = () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      stalled.push(open);
      let reached!: () => void;
      const atGate = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const restore = replaceNextMicropay(async (target, params) => {
        reached();
        await gate;
        return target.micropay(params);
      });
      return {
        atGate,
        open: () => {
          restore();
          open();
        },
      };
    };

    /** A micropay sent with WeChat's negative-test header: the order is left with the payer typing a password. */
    const userpayingMicropay = (target: WechatPay, params: MicropayParams) =>
      new Promise<string>((resolve, reject) => {
        const fields = target.prepare('micropay', params as unknown as Record<string, string>);
        const req = httpsRequest(
          `${s.sandbox.url}/pay/micropay`,
          {
            method: 'POST',
            ca: s.sandbox.caCert,
            headers: { 'content-type': 'text/xml', 'wechatpay-negative-test': 'MICROPAY_USERPAYING' },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        req.end(buildXml(fields));
      });

    /**
     * `db`, except that the first read of intent `id` that finds it unordered (from selectFrom('payment_intents')
     * to executeTakeFirst) runs `hold` after reading, before its caller sees the row: the connection is free by then.
     */
    const afterFirstRead = (db: Db, id: string, hold: () => Promise<void>): Db => {
      let armed = true;
      const chain = (builder: object): object =>
        new Proxy(builder, {
          get(target, name) {
            const value = Reflect.get(target, name, target);
            if (typeof value !== 'function') return value;
            if (name === 'executeTakeFirst')
              return async (...args: unknown[]) => {
                const row = (await value.apply(target, args)) as Partial<IntentRow> | undefined;
                if (armed && row?.id === id && row.ordered_at === null) {
                  armed = false;
                  await hold();
                }
                return row;
              };
            return (...args: unknown[]) => {
              const next = value.apply(target, args);
              return next && typeof next === 'object' && 'executeTakeFirst' in next ? chain(next) : next;
            };
          },
        });
      return new Proxy(db, {
        get(target, name) {
          const value = Reflect.get(target, name, target);
          if (typeof value !== 'function') return value;
          if (name === 'selectFrom') return (...args: unknown[]) => chain(value.apply(target, args));
          return value.bind(target);
        },
      });
    };

    test('a micropay whose process died after WeChat charged is found paid by the follow-up job once its lease runs out, charged once', async () => {
      const ctx = s.gateway.ctx;
      const dead = await confirmThatDies(600, (target, params) => target.micropay(params));
      assert.equal(movements('payment', dead.outTradeNo).length, 1, 'WeChat charged the payer');
      const stored = await rowOf(dead.id);
      assert.equal(stored.status, 'requires_confirmation');
      assert.ok(stored.confirming_until !== null && stored.confirming_until > ctx.now());

      // While the lease may still cover the call, the job leaves the intent alone, even with its query due.
      await ctx.db
        .updateTable('payment_intents')
        .set({ next_query_at: ctx.now() - 1 })
        .where('id', '=', dead.id)
        .execute();
      await runFollowUps(ctx);
      assert.equal((await payloadsOf(dead.id, 'query')).length, 0, 'not queried during the lease');
      assert.equal((await rowOf(dead.id)).status, 'requires_confirmation');
      const meanwhile = await s.api('POST', `/v1/payment_intents/${dead.id}/confirm`, {
        payment_method_data: paymentCode(),
      });
      assert.equal(meanwhile.status, 409, JSON.stringify(meanwhile.body));

      passLease(stored.confirming_until!);
      assert.ok((await runFollowUps(ctx)) >= 1, 'the job claims the abandoned confirm');
      const settled = await retrieve(dead.id);
      assert.equal(settled.status, 'succeeded');
      assert.equal(settled.wechat_pay.transaction_id, movements('payment', dead.outTradeNo)[0]!.bizNo);
      assert.equal(movements('payment', dead.outTradeNo).length, 1, 'charged exactly once');
      assert.equal(movements('reverse', dead.outTradeNo).length, 0, 'a paid order is not reversed');

      // The stalled process resumes: what it does with its lost reply changes nothing.
      dead.wake();
      const answer = await dead.answer;
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal((await retrieve(dead.id)).status, 'succeeded');
      assert.equal((await eventsOf(s.api, dead.id, 'payment_intent.succeeded')).length, 1);
      assert.equal(movements('payment', dead.outTradeNo).length, 1);
    });

    test('a micropay whose process died while the payer was still typing the password is reversed at the deadline', async () => {
      const ctx = s.gateway.ctx;
      const dead = await confirmThatDies(650, userpayingMicropay);
      assert.equal(await tradeStateAtWechat(dead.outTradeNo), 'USERPAYING');
      const stored = await rowOf(dead.id);
      assert.equal(stored.status, 'requires_confirmation');

      passLease(stored.confirming_until!);
      assert.ok(
        ctx.now() >= stored.ordered_at! + ctx.config.micropayDeadlineSeconds * 1000,
        'past the deadline',
      );
      assert.ok((await runFollowUps(ctx)) >= 1);
      const reversed = await retrieve(dead.id);
      assert.equal(reversed.status, 'canceled');
      assert.equal(reversed.cancellation_reason, 'reversed');
      assert.equal(await tradeStateAtWechat(dead.outTradeNo), 'REVOKED');
      assert.equal((await payloadsOf(dead.id, 'reverse')).length, 1);
      assert.equal(movements('payment', dead.outTradeNo).length, 0, 'nothing was charged');

      dead.wake();
      await dead.answer;
      assert.equal((await retrieve(dead.id)).status, 'canceled');
      assert.equal((await eventsOf(s.api, dead.id, 'payment_intent.canceled')).length, 1);
    });

    test('after such a death, the cashier confirming again with a new code gets the charged order, not a second charge', async () => {
      const ctx = s.gateway.ctx;
      const dead = await confirmThatDies(700, (target, params) => target.micropay(params));
      passLease((await rowOf(dead.id)).confirming_until!);
      const again = await s.api('POST', `/v1/payment_intents/${dead.id}/confirm`, {
        payment_method_data: paymentCode(),
      });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.status, 'succeeded');
      assert.equal(again.body.wechat_pay.transaction_id, movements('payment', dead.outTradeNo)[0]!.bizNo);
      await runFollowUps(ctx);
      assert.equal((await retrieve(dead.id)).status, 'succeeded');
      assert.equal(movements('payment', dead.outTradeNo).length, 1, 'the second code was not charged');
      assert.equal(movements('reverse', dead.outTradeNo).length, 0);
      dead.wake();
      await dead.answer;
    });

    test('a cancel that read the intent before a confirm placed its order does not cancel it behind the payment', async () => {
      const ctx = s.gateway.ctx;
      const created = await s.api('POST', '/v1/payment_intents', {
        amount: 720,
        currency: 'CNY',
        payment_method_options: scanCode,
      });
      const id: string = created.body.id;
      const outTradeNo: string = created.body.wechat_pay.out_trade_no;
      const stale = await rowOf(id);
      assert.equal(stale.ordered_at, null);

      // The micropay waits at a gate, so the confirm holds its lease as long as the test needs. The cancel's read
      // of the intent is held until that confirm has stored its order time and taken the lease.
      const micropay = gatedMicropay();
      const db = ctx.db;
      let readByCancel!: () => void;
      const cancelHasRead = new Promise<void>((resolve) => {
        readByCancel = resolve;
      });
      ctx.db = afterFirstRead(db, id, async () => {
        readByCancel();
        await waitFor('the confirm to take its lease', async () =>
          (await rowOf(id)).confirming_until !== null ? true : undefined,
        );
      });
      let confirm: Promise<{ status: number; body: Json }>;
      let canceled: { status: number; body: Json };
      try {
        const cancel = s.api('POST', `/v1/payment_intents/${id}/cancel`, {});
        await cancelHasRead;
        confirm = s.api('POST', `/v1/payment_intents/${id}/confirm`, { payment_method_data: paymentCode() });
        canceled = await cancel;
        await micropay.atGate;
      } finally {
        ctx.db = db;
      }
      // The order may be paid any moment: the cancel is a close at WeChat, scheduled by its 5-minute rule.
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      assert.equal(canceled.body.status, 'requires_confirmation', 'not canceled behind the order');
      assert.ok(canceled.body.cancellation_scheduled_at !== null);
      // The close job (or the compatible close) holding that stale row is refused while the confirm calls WeChat.
      await assert.rejects(closeIntent(ctx, stale, 'requested_by_customer'), (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.status, 409);
        return true;
      });
      assert.equal((await rowOf(id)).status, 'requires_confirmation');

      micropay.open();
      const answer = await confirm!;
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.status, 'succeeded');
      assert.equal(answer.body.wechat_pay.transaction_id, movements('payment', outTradeNo)[0]!.bizNo);
      assert.equal(movements('payment', outTradeNo).length, 1);
      assert.equal((await eventsOf(s.api, id, 'payment_intent.wechat_status_conflict')).length, 0);
      s.clock.offsetMs += (ctx.config.closeDelaySeconds + 1) * 1000;
      await runCloses(ctx);
      assert.equal((await retrieve(id)).status, 'succeeded', 'the scheduled close leaves a paid intent');
    });

    test('a micropay that succeeds for an intent canceled meanwhile records the payment, alerts once and can be refunded', async () => {
      const ctx = s.gateway.ctx;
      const created = await s.api('POST', '/v1/payment_intents', {
        amount: 730,
        currency: 'CNY',
        payment_method_options: scanCode,
      });
      const id: string = created.body.id;
      const outTradeNo: string = created.body.wechat_pay.out_trade_no;
      const micropay = gatedMicropay();
      const confirm = s.api('POST', `/v1/payment_intents/${id}/confirm`, {
        payment_method_data: paymentCode(),
      });
      await micropay.atGate;
      // Whatever canceled it while the micropay was on its way (an operator, an older gateway): it is canceled.
      assert.ok(await markIntentCanceled(ctx, await rowOf(id), 'requested_by_customer'));
      micropay.open();
      const answer = await confirm;
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const charged = movements('payment', outTradeNo);
      assert.equal(charged.length, 1, 'WeChat charged the payer');
      assert.equal(answer.body.status, 'canceled');
      assert.equal(answer.body.wechat_pay.transaction_id, charged[0]!.bizNo, 'the payment is recorded');
      const alerts = await eventsOf(s.api, id, 'payment_intent.wechat_status_conflict');
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.data.object.transaction_id, charged[0]!.bizNo);
      assert.equal(alerts[0]!.data.object.total_fee, '730');
      assert.equal(alerts[0]!.data.object.source, 'micropay');
      assert.equal((await eventsOf(s.api, id, 'payment_intent.succeeded')).length, 0);
      // An orderquery from a stale row says SUCCESS again: still one alert.
      await queryIntent(ctx, { ...(await rowOf(id)), status: 'processing' });
      assert.equal((await eventsOf(s.api, id, 'payment_intent.wechat_status_conflict')).length, 1);

      const refund = await s.api('POST', '/v1/refunds', { payment_intent: id });
      assert.equal(refund.status, 200, JSON.stringify(refund.body));
      assert.equal(refund.body.amount, 730);
      await s.sandbox.clock.advance(6);
      await waitFor('the refund to succeed', async () => {
        const { body } = await s.api('GET', `/v1/refunds/${refund.body.id}`);
        return body.status === 'succeeded' ? body : undefined;
      });
      const refunded = movements('refund', refund.body.wechat_pay.out_refund_no);
      assert.deepEqual(
        refunded.map((m) => m.amount),
        [-730],
        'the payer got the money back',
      );
    });

    test('compat queryOrder says SUCCESS for an order canceled here that orderquery finds paid', async () => {
      const ctx = s.gateway.ctx;
      const paying = await post('/wxPay/toPay', 'merchant_id=8&product_id=4&price=0.05');
      const orderId: string = paying.order_id;
      const intent = await ctx.db
        .selectFrom('payment_intents')
        .selectAll()
        .where('out_trade_no', '=', orderId)
        .executeTakeFirstOrThrow();
      // A cancel wins a race with the payer; WeChat's notify is lost, so orderquery is what finds the payment.
      assert.ok(await markIntentCanceled(ctx, intent, 'requested_by_customer'));
      s.sandbox.faults.add({ endpoint: 'payment_notify', kind: 'drop_notify', count: 1 });
      const paid = s.sandbox.pay({ code_url: paying.code_url[0] });
      assert.ok(paid.ok, JSON.stringify(paid));
      await queryIntent(ctx, intent);
      const after = await rowOf(intent.id);
      assert.equal(after.status, 'canceled');
      assert.equal(after.wechat_transaction_id, movements('payment', orderId)[0]!.bizNo);
      const alerts = await eventsOf(s.api, intent.id, 'payment_intent.wechat_status_conflict');
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.data.object.source, 'orderquery');

      assert.deepEqual(await post('/wxPay/queryOrder', `order_id=${orderId}`), {
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
      });
      // The old service's table says paid too.
      const deal = await sql<{ status: number; transaction_id: string }>`
        select status, transaction_id from deal where order_id = ${orderId}`.execute(ctx.db);
      assert.deepEqual(
        deal.rows.map((r) => [Number(r.status), r.transaction_id]),
        [[1, after.wechat_transaction_id]],
      );
    });

    test('an order whose unifiedorder failed (HTTP 500) never reached WeChat: it is canceled once no call can land, and closed once', async () => {
      const ctx = s.gateway.ctx;
      s.sandbox.faults.add({ endpoint: 'unifiedorder', kind: 'http_500', count: 100 });
      const placeFailing = async (amount: number): Promise<IntentRow> => {
        const created = await s.api('POST', '/v1/payment_intents', {
          amount,
          currency: 'CNY',
          confirm: true,
          payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } },
        });
        assert.equal(created.status, 502, JSON.stringify(created.body));
        const row = await ctx.db
          .selectFrom('payment_intents')
          .selectAll()
          .where('amount', '=', amount)
          .executeTakeFirstOrThrow();
        assert.equal(row.status, 'requires_confirmation');
        assert.notEqual(row.ordered_at, null);
        return row;
      };
      const byCancel = await placeFailing(810);
      const byExpiry = await placeFailing(820);
      const compat = await post('/wxPay/toPay', 'merchant_id=9&product_id=5&price=8.30');
      assert.equal(compat.error?.code, 'wechat_http_status', JSON.stringify(compat));
      const deal = await ctx.db
        .selectFrom('compat_deals')
        .select('order_id')
        .where('product_id', '=', 5)
        .executeTakeFirstOrThrow();
      s.sandbox.faults.clear();
      for (const outTradeNo of [byCancel.out_trade_no, byExpiry.out_trade_no, deal.order_id])
        assert.equal(await tradeStateAtWechat(outTradeNo), 'ORDERNOTEXIST');

      // Right after the failed call, an attempt WeChat may still be processing could create the order: the cancel
      // is scheduled, not done.
      const early = await s.api('POST', `/v1/payment_intents/${byCancel.id}/cancel`, {});
      assert.equal(early.status, 200, JSON.stringify(early.body));
      assert.equal(early.body.status, 'requires_confirmation');
      assert.ok(early.body.cancellation_scheduled_at !== null, 'the close is scheduled');

      s.clock.offsetMs += wechatCallLeaseMs({ timeoutMs: ctx.config.wechatTimeoutMs }) + 1000;
      const canceled = await s.api('POST', `/v1/payment_intents/${byCancel.id}/cancel`, {});
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      assert.equal(canceled.body.status, 'canceled');
      assert.equal(canceled.body.cancellation_reason, 'requested_by_customer');

      // The compatible close answers "retry after 5 minutes" until then; then it closes.
      assert.equal((await post('/wxPay/doCloseOrder', `order_id=${deal.order_id}`)).code, 1);
      s.clock.offsetMs += (ctx.config.closeDelaySeconds + 1) * 1000;
      assert.deepEqual(await post('/wxPay/doCloseOrder', `order_id=${deal.order_id}`), {
        code: 0,
        msg: '关单成功',
      });

      // At expiry the close job cancels the last one, once, instead of retrying it for ever.
      s.clock.offsetMs += ctx.config.intentTtlSeconds * 1000;
      await runCloses(ctx);
      const expired = await rowOf(byExpiry.id);
      assert.equal(expired.status, 'canceled');
      assert.equal(expired.cancellation_reason, 'expired');
      const queries = (await payloadsOf(byExpiry.id, 'query')).length;
      await runCloses(ctx);
      assert.equal((await payloadsOf(byExpiry.id, 'query')).length, queries, 'not queried again');
      assert.equal((await eventsOf(s.api, byExpiry.id, 'payment_intent.canceled')).length, 1);
    });
  });
}
