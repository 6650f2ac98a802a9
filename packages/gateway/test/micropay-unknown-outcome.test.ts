// Micropay (付款码) whose answer cannot be trusted after WeChat charged the payer, and a confirm whose out_trade_no
// WeChat has already charged: never answered "refused", never marked failed on a guess, charged exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BusinessError,
  ProtocolError,
  RequestValidationError,
  SignatureError,
  type WechatPay,
  XmlError,
} from '@wxpay/sdk';
import { loadAccount } from '../src/domain/context.ts';
import { runFollowUps } from '../src/jobs/follow-up.ts';
import type { Json } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway } from './support/sandbox-gateway.ts';

const PATH = '/pay/micropay';

/** Faults the sandbox cannot produce: WeChat charges the payer, then the reply that reaches the gateway is bad. */
const LOST_REPLIES: [string, () => Error][] = [
  [
    'a garbled reply (XmlError)',
    () => new XmlError(`reply from ${PATH} is not WeChat XML: root element must be <xml>, got <html>`),
  ],
  [
    'an unverifiable reply (SignatureError)',
    () =>
      new SignatureError(`reply from ${PATH} has a signature that does not verify with the configured key`),
  ],
  [
    'an unsigned return_code FAIL (ProtocolError)',
    () => new ProtocolError(`${PATH}: return_code FAIL: 系统繁忙`, '系统繁忙'),
  ],
];

for (const kind of DATABASE_KINDS) {
  describe(`micropay with an unknown outcome on ${kind}`, () => {
    let s: SandboxGateway;
    before(async () => {
      s = await startSandboxGateway(kind);
    });
    after(async () => {
      await s?.close();
    });

    const movements = (movementKind: string, outTradeNo?: string) =>
      s.sandbox
        .ledger(s.sandbox.merchants[0]!.mchId)
        .movements.filter(
          (m) => m.kind === movementKind && (outTradeNo === undefined || m.ref === outTradeNo),
        );
    const paymentCode = () => ({
      type: 'wechat_pay',
      wechat_pay: { payment_code: s.sandbox.paymentCode().auth_code },
    });
    const scanCode = { wechat_pay: { terminal_type: 'SCAN_CODE', client_ip: '203.0.113.9' } };
    const retrieve = async (id: string): Promise<Json> =>
      (await s.api('GET', `/v1/payment_intents/${id}`)).body;
    /** The gateway's client for the sandbox merchant, as the confirm uses it. */
    const merchantClient = async (): Promise<WechatPay> =>
      s.gateway.ctx.wechat(await loadAccount(s.gateway.ctx, s.accountId), false);
    /**
     * Runs `call` while every micropay the gateway sends is answered by `answer` instead of the sandbox's reply;
     * `answer` gets the real call, which it may make first (WeChat acted, then the reply was lost).
     */
    const withMicropay = async <T>(
      answer: (send: () => Promise<unknown>) => Promise<never>,
      call: () => Promise<T>,
    ): Promise<T> => {
      const ctx = s.gateway.ctx;
      const realFactory = ctx.wechat;
      ctx.wechat = (account, livemode) => {
        const client = realFactory(account, livemode);
        return new Proxy(client, {
          get(target, name) {
            if (name !== 'micropay') {
              // Bound to the real client: its methods use private fields, which a proxy does not have.
              const value = Reflect.get(target, name, target);
              return typeof value === 'function' ? value.bind(target) : value;
            }
            return (params: Parameters<WechatPay['micropay']>[0]) => answer(() => target.micropay(params));
          },
        });
      };
      try {
        return await call();
      } finally {
        ctx.wechat = realFactory;
      }
    };
    /**
     * An unconfirmed SCAN_CODE intent whose out_trade_no the sandbox then charges directly: what a confirm whose
     * micropay reached WeChat leaves when its process dies before it stores the answer.
     */
    const chargedBehindTheGatewaysBack = async (amount: number) => {
      const created = await s.api('POST', '/v1/payment_intents', {
        amount,
        currency: 'CNY',
        payment_method_options: scanCode,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.status, 'requires_confirmation');
      const outTradeNo: string = created.body.wechat_pay.out_trade_no;
      const paid = await (await merchantClient()).micropay({
        body: 'wxpay',
        out_trade_no: outTradeNo,
        total_fee: amount,
        spbill_create_ip: '203.0.113.9',
        auth_code: s.sandbox.paymentCode().auth_code,
      });
      assert.equal(paid.result_code, 'SUCCESS');
      assert.equal(movements('payment', outTradeNo).length, 1);
      return { id: created.body.id as string, outTradeNo, transactionId: paid.transaction_id };
    };

    for (const [name, lostReply] of LOST_REPLIES) {
      test(`${name} after WeChat charged: processing, not refused; the follow-up job finds it paid, charged once`, async () => {
        const paymentsBefore = movements('payment').length;
        const created = await withMicropay(
          async (send) => {
            await send();
            throw lostReply();
          },
          () =>
            s.api('POST', '/v1/payment_intents', {
              amount: 700,
              currency: 'CNY',
              confirm: true,
              payment_method_options: scanCode,
              payment_method_data: paymentCode(),
            }),
        );
        assert.equal(created.status, 200, `not a 4xx "refused": ${JSON.stringify(created.body)}`);
        assert.equal(created.body.status, 'processing', 'the outcome is being confirmed');
        assert.equal(created.body.payment_failed, null);
        const id: string = created.body.id;
        const outTradeNo: string = created.body.wechat_pay.out_trade_no;
        assert.equal(movements('payment', outTradeNo).length, 1, 'WeChat charged the payer');

        // The cashier scans another code while the first is unresolved: nothing is sent, nothing charged again.
        const again = await s.api('POST', `/v1/payment_intents/${id}/confirm`, {
          payment_method_data: paymentCode(),
        });
        assert.equal(again.status, 400, JSON.stringify(again.body));
        assert.equal(again.body.error.code, 'payment_intent_unexpected_state');
        assert.equal((await retrieve(id)).status, 'processing');
        assert.equal(movements('payment').length, paymentsBefore + 1, 'the second code was not charged');

        // The follow-up job polls orderquery at the micropay poll interval and finds the order paid.
        s.clock.offsetMs += (s.gateway.ctx.config.micropayPollSeconds + 1) * 1000;
        assert.ok((await runFollowUps(s.gateway.ctx)) >= 1, 'the follow-up job claims the intent');
        const settled = await retrieve(id);
        assert.equal(settled.status, 'succeeded');
        assert.equal(settled.wechat_pay.transaction_id, movements('payment', outTradeNo)[0]!.bizNo);
        assert.equal(movements('payment', outTradeNo).length, 1, 'charged exactly once');
        assert.equal(movements('reverse', outTradeNo).length, 0, 'a paid order is not reversed');
        assert.equal(movements('payment').length, paymentsBefore + 1);
      });
    }

    test('an error raised before the micropay left is answered as not sent and the intent can be confirmed again', async () => {
      const created = await withMicropay(
        async () => {
          throw new RequestValidationError('auth_code', 'auth_code must be a string or number', PATH);
        },
        () =>
          s.api('POST', '/v1/payment_intents', {
            amount: 500,
            currency: 'CNY',
            confirm: true,
            payment_method_options: scanCode,
            payment_method_data: paymentCode(),
          }),
      );
      assert.equal(created.status, 400, JSON.stringify(created.body));
      assert.equal(created.body.error.code, 'wechat_invalid_request');
      assert.match(created.body.error.message, /not sent/);
      const list = await s.api('GET', '/v1/payment_intents?limit=1');
      const intent: Json = list.body.data[0];
      assert.equal(intent.status, 'requires_confirmation');
      assert.equal(movements('payment', intent.wechat_pay.out_trade_no).length, 0, 'nothing was charged');

      const confirmed = await s.api('POST', `/v1/payment_intents/${intent.id}/confirm`, {
        payment_method_data: paymentCode(),
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.status, 'succeeded');
      assert.equal(movements('payment', intent.wechat_pay.out_trade_no).length, 1);
    });

    test('a confirm answered OUT_TRADE_NO_USED for an order already charged succeeds from orderquery, charged once', async () => {
      const { id, outTradeNo, transactionId } = await chargedBehindTheGatewaysBack(800);
      const confirmed = await s.api('POST', `/v1/payment_intents/${id}/confirm`, {
        payment_method_data: paymentCode(),
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.status, 'succeeded', JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.payment_failed, null);
      assert.equal(confirmed.body.wechat_pay.transaction_id, transactionId);
      assert.equal(movements('payment', outTradeNo).length, 1, 'the second code was not charged');
      const payloads = (await s.api('GET', `/v1/payment_intents/${id}?expand[]=wechat_payloads`)).body
        .wechat_payloads as Json[];
      assert.ok(
        payloads.some((p) => p.kind === 'micropay' && p.body.includes('OUT_TRADE_NO_USED')),
        'the refusal is kept with the intent',
      );
      assert.ok(
        payloads.some((p) => p.kind === 'query'),
        'the order was queried',
      );
    });

    test('OUT_TRADE_NO_USED for an order WeChat reports unpaid is answered as that refusal, not left processing', async () => {
      const created = await s.api('POST', '/v1/payment_intents', {
        amount: 850,
        currency: 'CNY',
        payment_method_options: scanCode,
      });
      const outTradeNo: string = created.body.wechat_pay.out_trade_no;
      // Another order under this out_trade_no, unpaid: a QR order placed for it by some other path.
      await (await merchantClient()).unifiedOrder({
        body: 'wxpay',
        out_trade_no: outTradeNo,
        total_fee: 850,
        spbill_create_ip: '203.0.113.9',
        notify_url: 'https://shop.example/notify',
        trade_type: 'NATIVE',
        product_id: 'p1',
      });
      const confirmed = await s.api('POST', `/v1/payment_intents/${created.body.id}/confirm`, {
        payment_method_data: paymentCode(),
      });
      assert.equal(confirmed.status, 402, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.error.code, 'OUT_TRADE_NO_USED');
      const after = await retrieve(created.body.id);
      assert.notEqual(after.status, 'processing', 'nothing is unknown: WeChat says the order is unpaid');
      assert.equal(movements('payment', outTradeNo).length, 0);
    });

    test('a micropay answered ORDERPAID (as real WeChat answers a paid out_trade_no) succeeds from orderquery', async () => {
      const { id, outTradeNo, transactionId } = await chargedBehindTheGatewaysBack(900);
      const confirmed = await withMicropay(
        async () => {
          throw new BusinessError('ORDERPAID', '该订单已支付', { endpoint: PATH });
        },
        () => s.api('POST', `/v1/payment_intents/${id}/confirm`, { payment_method_data: paymentCode() }),
      );
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.status, 'succeeded', JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.payment_failed, null);
      assert.equal(confirmed.body.wechat_pay.transaction_id, transactionId);
      assert.equal(movements('payment', outTradeNo).length, 1);
    });

    test('a QR-code confirm of an order already charged (unifiedorder ORDERPAID) succeeds from orderquery', async () => {
      const { id, outTradeNo, transactionId } = await chargedBehindTheGatewaysBack(1000);
      const confirmed = await s.api('POST', `/v1/payment_intents/${id}/confirm`, {
        payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.status, 'succeeded', JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.wechat_pay.transaction_id, transactionId);
      assert.equal(movements('payment', outTradeNo).length, 1);
    });
  });
}
