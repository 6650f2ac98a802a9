// Refunds: partial and multiple, limits, idempotency, refundquery's numbered fields, the encrypted notify.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BusinessError, type WechatPay } from '@wxpay/sdk';
import type { Merchant, Sandbox } from '../src/index.ts';
import { control, type NotifySink, notifySink, start, tradeNo } from './support.ts';

describe('refunds', () => {
  let sandbox: Sandbox;
  let merchant: Merchant;
  let pay: WechatPay;
  let sink: NotifySink;

  before(async () => {
    ({ sandbox, merchant, pay } = await start({ seed: 'refunds' }));
    sink = await notifySink();
  });
  after(async () => {
    await pay.close();
    await sink.close();
    await sandbox.close();
  });

  async function paidOrder(totalFee: number): Promise<string> {
    const out_trade_no = tradeNo();
    const placed = await pay.unifiedOrder({
      body: 'refundable',
      out_trade_no,
      total_fee: totalFee,
      spbill_create_ip: '127.0.0.1',
      trade_type: 'APP',
      notify_url: sink.url,
    });
    assert.ok(sandbox.pay({ prepay_id: placed.prepay_id }).ok);
    return out_trade_no;
  }
  const isCode = (code: string) => (e: unknown) => e instanceof BusinessError && e.errCode === code;

  test('two partial refunds add up; a third beyond the paid amount is refused; the order is REFUND', async () => {
    const out_trade_no = await paidOrder(1000);
    const first = await pay.refund({
      out_trade_no,
      out_refund_no: tradeNo('R'),
      total_fee: 1000,
      refund_fee: 300,
    });
    assert.equal(first.refund_fee, '300');
    await pay.refund({ out_trade_no, out_refund_no: tradeNo('R'), total_fee: 1000, refund_fee: 700 });
    await assert.rejects(
      pay.refund({ out_trade_no, out_refund_no: tradeNo('R'), total_fee: 1000, refund_fee: 1 }),
      isCode('ERROR'),
    );
    assert.equal((await pay.orderQuery({ out_trade_no })).trade_state, 'REFUND');
  });

  test('the same out_refund_no refunds once; with other amounts it is refused', async () => {
    const out_trade_no = await paidOrder(500);
    const balanceBefore = sandbox.ledger(merchant.mchId).balance;
    const out_refund_no = tradeNo('R');
    const a = await pay.refund({ out_trade_no, out_refund_no, total_fee: 500, refund_fee: 200 });
    const b = await pay.refund({ out_trade_no, out_refund_no, total_fee: 500, refund_fee: 200 });
    assert.equal(a.refund_id, b.refund_id);
    // A retry that changes only the description is the same refund, as WeChat's refusal speaks of amounts only.
    const c = await pay.refund({
      out_trade_no,
      out_refund_no,
      total_fee: 500,
      refund_fee: 200,
      refund_desc: 'retry',
    });
    assert.equal(c.refund_id, a.refund_id);
    assert.equal(sandbox.ledger(merchant.mchId).balance, balanceBefore - 200);
    await assert.rejects(
      pay.refund({ out_trade_no, out_refund_no, total_fee: 500, refund_fee: 250 }),
      isCode('INVALID_REQUEST'),
    );
  });

  test('an unpaid order cannot be refunded, a wrong total_fee is PARAM_ERROR', async () => {
    const out_trade_no = tradeNo();
    await pay.unifiedOrder({
      body: 'x',
      out_trade_no,
      total_fee: 100,
      spbill_create_ip: '127.0.0.1',
      trade_type: 'APP',
      notify_url: sink.url,
    });
    await assert.rejects(
      pay.refund({ out_trade_no, out_refund_no: tradeNo('R'), total_fee: 100, refund_fee: 1 }),
      isCode('TRADE_STATE_ERROR'),
    );
    const paid = await paidOrder(100);
    await assert.rejects(
      pay.refund({ out_trade_no: paid, out_refund_no: tradeNo('R'), total_fee: 99, refund_fee: 1 }),
      isCode('PARAM_ERROR'),
    );
  });

  test('at most 50 refunds per order', async () => {
    const out_trade_no = await paidOrder(100);
    for (let i = 0; i < 50; i++) {
      await pay.refund({
        out_trade_no,
        out_refund_no: `${out_trade_no}R${i}`,
        total_fee: 100,
        refund_fee: 1,
      });
    }
    await assert.rejects(
      pay.refund({ out_trade_no, out_refund_no: `${out_trade_no}R50`, total_fee: 100, refund_fee: 1 }),
      /最大次数/,
    );
  });

  test('a refund larger than the merchant balance is NOTENOUGH', async () => {
    const out_trade_no = await paidOrder(800);
    const set = await control(sandbox, 'PUT', `/sandbox/v1/merchants/${merchant.mchId}/balance`, {
      balance: 10,
    });
    assert.equal(set.status, 200);
    await assert.rejects(
      pay.refund({ out_trade_no, out_refund_no: tradeNo('R'), total_fee: 800, refund_fee: 800 }),
      isCode('NOTENOUGH'),
    );
    await control(sandbox, 'PUT', `/sandbox/v1/merchants/${merchant.mchId}/balance`, {
      balance: 100_000_000,
    });
  });

  test('refundquery numbers each refund; PROCESSING becomes SUCCESS and an encrypted notify follows', async () => {
    const out_trade_no = await paidOrder(900);
    const r0 = tradeNo('R');
    const r1 = tradeNo('R');
    await pay.refund({
      out_trade_no,
      out_refund_no: r0,
      total_fee: 900,
      refund_fee: 100,
      notify_url: sink.url,
    });
    await pay.refund({
      out_trade_no,
      out_refund_no: r1,
      total_fee: 900,
      refund_fee: 200,
      notify_url: sink.url,
    });
    const q = await pay.refundQuery({ out_trade_no });
    assert.equal(q.refund_count, '2');
    assert.equal(q.out_refund_no_0, r0);
    assert.equal(q.refund_fee_1, '200');
    assert.equal(q.refund_status_0, 'PROCESSING');

    const seen = sink.received.length;
    await sandbox.clock.advance(5);
    const done = await pay.refundQuery({ out_refund_no: r1 });
    assert.equal(done.refund_count, '1');
    assert.equal(done.refund_status_0, 'SUCCESS');
    assert.ok(done.refund_success_time_0);

    const refundNotifies = sink.received.slice(seen).filter((n) => n.body.includes('req_info'));
    assert.equal(refundNotifies.length, 2);
    for (const n of refundNotifies) assert.ok(!n.body.includes('<sign>'), 'refund notifies carry no sign');
    const decoded = refundNotifies.map((n) => pay.parseRefundNotify(n.body));
    const mine = decoded.find((d) => d.out_refund_no === r1);
    assert.ok(mine);
    assert.equal(mine.refund_status, 'SUCCESS');
    assert.equal(mine.refund_fee, '200');
    assert.equal(mine.out_trade_no, out_trade_no);
  });

  test('refundquery pages with offset and says REFUNDNOTEXIST when there is none', async () => {
    const out_trade_no = await paidOrder(100);
    for (let i = 0; i < 12; i++)
      await pay.refund({
        out_trade_no,
        out_refund_no: `${out_trade_no}P${i}`,
        total_fee: 100,
        refund_fee: 1,
      });
    const page = await pay.refundQuery({ out_trade_no, offset: 10 });
    assert.equal(page.total_refund_count, '12');
    assert.equal(page.refund_count, '2');
    assert.equal(page.out_refund_no_0, `${out_trade_no}P10`);
    await assert.rejects(pay.refundQuery({ out_refund_no: tradeNo('none') }), isCode('REFUNDNOTEXIST'));
  });

  test('the ledger records every payment and refund with a running balance', async () => {
    const { movements, balance } = sandbox.ledger(merchant.mchId);
    assert.ok(movements.length > 0);
    for (let i = 1; i < movements.length; i++) {
      assert.equal(movements[i]!.balance, movements[i - 1]!.balance + movements[i]!.amount);
    }
    assert.equal(movements.at(-1)!.balance, balance);
    const viaApi = await control(sandbox, 'GET', `/sandbox/v1/ledger?mch_id=${merchant.mchId}`);
    assert.equal(viaApi.json.balance, balance);
  });
});
