// Micropay with an unknown outcome: orderquery until the deadline, then reverse, resent while WeChat says recall=Y.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MERCHANT, signedReply } from '../../sdk/test/support/mock-wechat.ts';
import { createAccount, createApiKey } from '../src/domain/accounts.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, type Json, startHarness } from './support/harness.ts';

for (const kind of DATABASE_KINDS) {
  describe(`micropay reverse on ${kind}`, () => {
    let h: Harness;
    let key: string;
    /** recall values the mock's reverse answers with, in order; then recall=N. */
    let recalls: string[] = [];
    before(async () => {
      h = await startHarness(kind);
      // reverse needs the merchant's client certificate: an account of the mock's merchant that has it.
      const { id } = await createAccount(h.gateway.ctx.db, {
        appid: MERCHANT.appid,
        mchId: MERCHANT.mchId,
        key: MERCHANT.key,
        pfx: h.mock.clientCert.pfx,
        passphrase: h.mock.clientCert.passphrase,
      });
      key = await createApiKey(h.gateway.ctx.db, id, false);
      h.mock.on('/secapi/pay/reverse', ({ fields }) => {
        const recall = recalls.shift() ?? 'N';
        if (recall === 'Y') {
          return {
            // Not refused, not done: WeChat asks for the reverse to be sent again.
            body: signedReply({ recall: 'Y' }),
          };
        }
        const order = h.orders.get(fields.out_trade_no!);
        if (order) order.state = 'REVOKED' as never;
        return { body: signedReply({ recall: 'N' }) };
      });
    });
    after(async () => {
      await h?.close();
    });

    const api = async (method: string, path: string, body?: unknown): Promise<Json> => {
      const response = await fetch(h.url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return response.json();
    };
    const userPaying = () =>
      api('POST', '/v1/payment_intents', {
        amount: 300,
        currency: 'CNY',
        confirm: true,
        payment_method_data: { type: 'wechat_pay', wechat_pay: { payment_code: '144567890123456789' } },
        payment_method_options: { wechat_pay: { terminal_type: 'SCAN_CODE' } },
      });
    const reverses = (outTradeNo: string) =>
      h.mock.requests.filter((r) => r.path === '/secapi/pay/reverse' && r.fields.out_trade_no === outTradeNo)
        .length;

    test('still USERPAYING after the deadline: reversed, resent on recall=Y, then canceled once', async () => {
      recalls = ['Y'];
      const intent = await userPaying();
      assert.equal(intent.status, 'processing');
      const outTradeNo = intent.wechat_pay.out_trade_no;

      h.clock.now += 6_000;
      await h.gateway.runJobs();
      assert.equal(reverses(outTradeNo), 0, 'no reverse before the deadline');
      assert.equal((await api('GET', `/v1/payment_intents/${intent.id}`)).status, 'processing');

      h.clock.now += 30_000;
      await h.gateway.runJobs();
      assert.equal(reverses(outTradeNo), 1);
      assert.equal((await api('GET', `/v1/payment_intents/${intent.id}`)).status, 'processing', 'recall=Y');

      h.clock.now += 6_000;
      await h.gateway.runJobs();
      assert.equal(reverses(outTradeNo), 2, 'the reverse is sent again after recall=Y');
      const done = await api('GET', `/v1/payment_intents/${intent.id}?expand[]=wechat_payloads`);
      assert.equal(done.status, 'canceled');
      assert.equal(done.cancellation_reason, 'reversed');
      assert.equal(done.wechat_payloads.filter((p: Json) => p.kind === 'reverse').length, 2);
      const sent = h.mock.requests.filter((r) => r.path === '/secapi/pay/reverse').at(-1)!;
      assert.equal(sent.clientCn, MERCHANT.mchId, 'reverse is sent with the client certificate');

      h.clock.now += 60_000;
      await h.gateway.runJobs();
      assert.equal(reverses(outTradeNo), 2, 'nothing more once reversed');
      const events = await api('GET', `/v1/events?object_id=${intent.id}&type=payment_intent.canceled`);
      assert.equal(events.data.length, 1);
    });

    test('paid by the deadline: orderquery settles it and nothing is reversed', async () => {
      const intent = await userPaying();
      const outTradeNo = intent.wechat_pay.out_trade_no;
      h.orders.get(outTradeNo)!.state = 'SUCCESS';
      h.clock.now += 40_000;
      await h.gateway.runJobs();
      assert.equal((await api('GET', `/v1/payment_intents/${intent.id}`)).status, 'succeeded');
      assert.equal(reverses(outTradeNo), 0);
    });
  });
}
