// Trade and fund-flow bills, read back with the SDK's own bill parser.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProtocolError, type WechatPay } from '@wxpay/sdk';
import type { Merchant, Sandbox } from '../src/index.ts';
import { clientFor, rawPost, signedXml, start, tradeNo } from './support.ts';

// 2026-01-10 10:00 in Beijing.
const START = Date.UTC(2026, 0, 10, 2, 0, 0);
const DAY = '20260110';

describe('bills', () => {
  let sandbox: Sandbox;
  let merchant: Merchant;
  let pay: WechatPay;
  let hmac: WechatPay;
  const paid: string[] = [];

  before(async () => {
    ({ sandbox, merchant, pay } = await start({ seed: 'bills', startTime: START }));
    hmac = clientFor(sandbox, merchant, { signType: 'HMAC-SHA256' });
    for (const fee of [100, 250, 1999]) {
      const out_trade_no = tradeNo();
      const placed = await pay.unifiedOrder({
        body: '商品, with a comma',
        out_trade_no,
        total_fee: fee,
        spbill_create_ip: '127.0.0.1',
        trade_type: 'APP',
        notify_url: 'http://127.0.0.1:9/n',
      });
      sandbox.pay({ prepay_id: placed.prepay_id });
      paid.push(out_trade_no);
    }
    await pay.refund({ out_trade_no: paid[1]!, out_refund_no: tradeNo('R'), total_fee: 250, refund_fee: 50 });
  });
  after(async () => {
    await pay.close();
    await hmac.close();
    await sandbox.close();
  });

  test('today’s bill is not available yet', async () => {
    await assert.rejects(
      pay.downloadBill({ bill_date: DAY }),
      (e: unknown) => e instanceof ProtocolError && /bill_date/.test(e.returnMsg),
    );
  });

  test('the next day, the trade bill has WeChat’s layout and the ledger’s totals', async () => {
    await sandbox.clock.advance(24 * 3600);
    const raw = await rawPost(
      `${sandbox.url}/pay/downloadbill`,
      signedXml(
        { appid: merchant.appid, mch_id: merchant.mchId, bill_date: DAY, bill_type: 'ALL' },
        merchant.key,
      ),
      { ca: sandbox.caCert },
    );
    const lines = raw.text.trim().split('\r\n');
    assert.equal(
      lines[0],
      '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单总金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
    );
    assert.ok(lines.slice(1, 5).every((l) => l.startsWith('`2026-01-10 ')));
    assert.equal(
      lines[5],
      '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
    );

    const bill = await (await pay.downloadBill({ bill_date: DAY })).collect();
    assert.equal(bill.rows.length, 4);
    const success = bill.rows.filter((r) => r.trade_state === 'SUCCESS');
    assert.deepEqual(success.map((r) => r.out_trade_no).sort(), [...paid].sort());
    assert.deepEqual(success.map((r) => r.total_fee).sort(), [100, 1999, 250].sort());
    assert.equal(success[0]?.body, '商品, with a comma');
    const refund = bill.rows.find((r) => r.trade_state === 'REFUND');
    assert.equal(refund?.refund_fee, 50);
    assert.equal(bill.summary?.total_count, 4);
    assert.equal(bill.summary?.total_fee, 2349);
    assert.equal(bill.summary?.refund_fee, 50);
  });

  test('bill_type SUCCESS and REFUND select their rows; GZIP comes compressed', async () => {
    const gz = await rawPost(
      `${sandbox.url}/pay/downloadbill`,
      signedXml(
        {
          appid: merchant.appid,
          mch_id: merchant.mchId,
          bill_date: DAY,
          bill_type: 'REFUND',
          tar_type: 'GZIP',
        },
        merchant.key,
      ),
      { ca: sandbox.caCert },
    );
    assert.deepEqual([...gz.bytes.subarray(0, 2)], [0x1f, 0x8b]);
    const ok = await (await pay.downloadBill({ bill_date: DAY, bill_type: 'SUCCESS' })).collect();
    assert.equal(ok.rows.length, 3);
    const refunds = await (
      await pay.downloadBill({ bill_date: DAY, bill_type: 'REFUND', tar_type: 'GZIP' })
    ).collect();
    assert.equal(refunds.rows.length, 1);
    assert.equal(refunds.rows[0]?.out_refund_no !== undefined, true);
  });

  test('a day without trades is No Bill Exist', async () => {
    await assert.rejects(
      pay.downloadBill({ bill_date: '20250101' }),
      (e: unknown) => e instanceof ProtocolError && e.returnMsg === 'No Bill Exist',
    );
  });

  test('the fund-flow bill (HMAC-SHA256, certificate) lists every balance movement', async () => {
    const bill = await (await hmac.downloadFundFlow({ bill_date: DAY, account_type: 'Basic' })).collect();
    assert.equal(bill.rows.length, 4);
    assert.equal(bill.summary?.income_count, 3);
    assert.equal(bill.summary?.income_amount, 2349);
    assert.equal(bill.summary?.expense_amount, 50);
    const last = bill.rows.at(-1)!;
    assert.equal(last.balance, sandbox.ledger(merchant.mchId).balance);
  });
});

describe('the trade bill of the day before', () => {
  // 2026-01-09 12:00 in Beijing.
  const NOON = Date.UTC(2026, 0, 9, 4, 0, 0);
  const isBillCreating = (e: unknown) => e instanceof ProtocolError && e.returnMsg === 'Bill Creating';

  test('is Bill Creating until 10:00 Beijing time, then served; older days are served at any hour', async () => {
    const { sandbox, pay } = await start({ seed: 'bill-hours', startTime: NOON });
    try {
      const out_trade_no = tradeNo();
      const placed = await pay.unifiedOrder({
        body: 'early bird',
        out_trade_no,
        total_fee: 100,
        spbill_create_ip: '127.0.0.1',
        trade_type: 'APP',
        notify_url: 'http://127.0.0.1:9/n',
      });
      assert.ok(sandbox.pay({ prepay_id: placed.prepay_id }).ok);

      await sandbox.clock.advance(12.5 * 3600); // 2026-01-10 00:30
      await assert.rejects(pay.downloadBill({ bill_date: '20260109' }), isBillCreating);
      await sandbox.clock.advance(9 * 3600 + 29 * 60); // 09:59
      await assert.rejects(pay.downloadBill({ bill_date: '20260109' }), isBillCreating);

      await sandbox.clock.advance(60); // 10:00
      const bill = await (await pay.downloadBill({ bill_date: '20260109' })).collect();
      assert.deepEqual(
        bill.rows.map((r) => r.out_trade_no),
        [out_trade_no],
      );

      await sandbox.clock.advance(14.5 * 3600); // 2026-01-11 00:30
      await assert.rejects(pay.downloadBill({ bill_date: '20260110' }), isBillCreating);
      const older = await (await pay.downloadBill({ bill_date: '20260109' })).collect();
      assert.equal(older.rows.length, 1);
    } finally {
      await pay.close();
      await sandbox.close();
    }
  });
});
