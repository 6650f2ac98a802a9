// Every fault kind, and how rules are counted, drawn and cleared.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BusinessError, TransportError, type WechatPay } from '@wxpay/sdk';
import type { Merchant, Sandbox } from '../src/index.ts';
import {
  clientFor,
  control,
  FAIL_ANSWER,
  type NotifySink,
  notifySink,
  SUCCESS_ANSWER,
  start,
  tradeNo,
} from './support.ts';

describe('faults', () => {
  let sandbox: Sandbox;
  let merchant: Merchant;
  let pay: WechatPay;
  let sink: NotifySink;

  before(async () => {
    ({ sandbox, merchant, pay } = await start({ seed: 'faults' }));
    sink = await notifySink();
  });
  after(async () => {
    await pay.close();
    await sink.close();
    await sandbox.close();
  });

  const orderParams = () => ({
    body: 'fault',
    out_trade_no: tradeNo(),
    total_fee: 10,
    spbill_create_ip: '127.0.0.1',
    trade_type: 'APP' as const,
    notify_url: sink.url,
  });
  const addFault = async (rule: Record<string, unknown>) => {
    const added = await control(sandbox, 'POST', '/sandbox/v1/faults', rule);
    assert.equal(added.status, 201, JSON.stringify(added.json));
  };
  const isCode = (code: string) => (e: unknown) => e instanceof BusinessError && e.errCode === code;

  test('systemerror: SYSTEMERROR and nothing was done', async () => {
    await addFault({ endpoint: 'unifiedorder', kind: 'systemerror', count: 1 });
    const params = orderParams();
    await assert.rejects(pay.unifiedOrder(params), isCode('SYSTEMERROR'));
    await assert.rejects(pay.orderQuery({ out_trade_no: params.out_trade_no }), isCode('ORDERNOTEXIST'));
    assert.ok((await pay.unifiedOrder(params)).prepay_id, 'the rule was used up');
  });

  test('systemerror_after_commit: SYSTEMERROR, but the order exists and a resend gets it back', async () => {
    await addFault({ endpoint: '/pay/unifiedorder', kind: 'systemerror_after_commit', count: 1 });
    const params = orderParams();
    await assert.rejects(pay.unifiedOrder(params), isCode('SYSTEMERROR'));
    assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'NOTPAY');
    const resent = await pay.unifiedOrder(params);
    assert.ok(resent.prepay_id);
  });

  test('systemerror_after_commit on a refund: the money moved once, the resend is idempotent', async () => {
    const params = orderParams();
    const placed = await pay.unifiedOrder(params);
    sandbox.pay({ prepay_id: placed.prepay_id });
    const before = sandbox.ledger(merchant.mchId).balance;
    await addFault({ endpoint: 'refund', kind: 'systemerror_after_commit', count: 1 });
    const refund = {
      out_trade_no: params.out_trade_no,
      out_refund_no: tradeNo('R'),
      total_fee: 10,
      refund_fee: 4,
    };
    await assert.rejects(pay.refund(refund), isCode('SYSTEMERROR'));
    assert.equal(sandbox.ledger(merchant.mchId).balance, before - 4);
    await pay.refund(refund);
    assert.equal(sandbox.ledger(merchant.mchId).balance, before - 4);
  });

  test('timeout: no answer comes, yet the order was placed', async () => {
    const impatient = clientFor(sandbox, merchant, { timeoutMs: 300 });
    try {
      await addFault({ endpoint: 'unifiedorder', kind: 'timeout', count: 1, holdMs: 3000 });
      const params = orderParams();
      await assert.rejects(impatient.unifiedOrder(params), (e: unknown) => e instanceof TransportError);
      assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'NOTPAY');
    } finally {
      await impatient.close();
    }
  });

  test('http_500: HTTP 500 and nothing was done', async () => {
    await addFault({ endpoint: 'unifiedorder', kind: 'http_500', count: 1 });
    const params = orderParams();
    await assert.rejects(
      pay.unifiedOrder(params),
      (e: unknown) => e instanceof TransportError && e.status === 500,
    );
    await assert.rejects(pay.orderQuery({ out_trade_no: params.out_trade_no }), isCode('ORDERNOTEXIST'));
  });

  async function paidOrder(): Promise<string> {
    const params = orderParams();
    const placed = await pay.unifiedOrder(params);
    assert.ok(sandbox.pay({ prepay_id: placed.prepay_id }).ok);
    return params.out_trade_no;
  }
  const receivedFor = (ref: string) => sink.received.filter((n) => n.body.includes(ref));

  test('drop_notify: the payment notify is never sent, the order is still paid', async () => {
    await addFault({ endpoint: 'payment_notify', kind: 'drop_notify', count: 1 });
    const ref = await paidOrder();
    await sandbox.clock.advance(3600);
    assert.equal(receivedFor(ref).length, 0);
    assert.equal(sandbox.notifies({ ref })[0]?.state, 'dropped');
    assert.equal((await pay.orderQuery({ out_trade_no: ref })).trade_state, 'SUCCESS');
  });

  test('duplicate_notify: the merchant gets the same notify twice', async () => {
    await addFault({ endpoint: 'notify', kind: 'duplicate_notify', count: 1 });
    const ref = await paidOrder();
    await sandbox.clock.advance(0);
    const copies = receivedFor(ref);
    assert.equal(copies.length, 2);
    assert.equal(copies[0]?.body, copies[1]?.body);
  });

  test('delay_notify: the first attempt comes delaySeconds late', async () => {
    await addFault({ endpoint: 'payment_notify', kind: 'delay_notify', count: 1, delaySeconds: 120 });
    const ref = await paidOrder();
    await sandbox.clock.advance(119);
    assert.equal(receivedFor(ref).length, 0);
    await sandbox.clock.advance(1);
    assert.equal(receivedFor(ref).length, 1);
    assert.equal(sandbox.notifies({ ref })[0]?.attempts[0]?.offset, 120);
  });

  test('bad_signature_notify: the first attempt fails verification; the retry 15 s later verifies', async () => {
    await addFault({ endpoint: 'payment_notify', kind: 'bad_signature_notify', count: 1 });
    // The merchant verifies every notify with the SDK and answers FAIL to forgeries.
    sink.answer = (body) => {
      try {
        pay.parsePaymentNotify(body);
        return SUCCESS_ANSWER;
      } catch {
        return FAIL_ANSWER;
      }
    };
    try {
      const ref = await paidOrder();
      await sandbox.clock.advance(15);
      const [record] = sandbox.notifies({ ref });
      assert.deepEqual(
        record?.attempts.map((a) => [a.offset, a.ok, a.badSignature ?? false]),
        [
          [0, false, true],
          [15, true, false],
        ],
      );
      assert.throws(() => pay.parsePaymentNotify(receivedFor(ref)[0]!.body), /signature/);
    } finally {
      sink.answer = () => SUCCESS_ANSWER;
    }
  });

  test('bad_signature_notify on a refund notify: req_info cannot be decrypted with the merchant key', async () => {
    const ref = await paidOrder();
    await addFault({ endpoint: 'refund_notify', kind: 'bad_signature_notify', count: 1 });
    const outRefundNo = tradeNo('R');
    await pay.refund({
      out_trade_no: ref,
      out_refund_no: outRefundNo,
      total_fee: 10,
      refund_fee: 10,
      notify_url: sink.url,
    });
    await sandbox.clock.advance(5);
    const [forged] = sink.received.filter((n) => n.body.includes('req_info')).slice(-1);
    assert.ok(forged);
    assert.throws(() => pay.parseRefundNotify(forged.body), /decrypt/);
  });

  test('probability 1 fires on every call until the faults are deleted; probability 0 never', async () => {
    await addFault({ endpoint: 'orderquery', kind: 'systemerror', probability: 0 });
    const ref = await paidOrder();
    assert.equal((await pay.orderQuery({ out_trade_no: ref })).trade_state, 'SUCCESS');
    await addFault({ endpoint: 'orderquery', kind: 'systemerror', probability: 1 });
    for (let i = 0; i < 3; i++)
      await assert.rejects(pay.orderQuery({ out_trade_no: ref }), isCode('SYSTEMERROR'));
    const listed = await control(sandbox, 'GET', '/sandbox/v1/faults');
    assert.equal((listed.json.faults as unknown[]).length, 2);
    const cleared = await control(sandbox, 'DELETE', '/sandbox/v1/faults');
    assert.equal(cleared.status, 200);
    assert.equal((await pay.orderQuery({ out_trade_no: ref })).trade_state, 'SUCCESS');
  });

  test('an unknown fault kind is refused with 400', async () => {
    const bad = await control(sandbox, 'POST', '/sandbox/v1/faults', { endpoint: 'refund', kind: 'meteor' });
    assert.equal(bad.status, 400);
  });
});
