import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { fenToYuan, ProtocolError, verifySign, type WechatPay, yuanToFen } from '../src/index.ts';
import { useMockWechat } from './support/client.ts';
import { failReply, MERCHANT, type MockWechat } from './support/mock-wechat.ts';

let mock: MockWechat;
let pay: WechatPay;
useMockWechat((m, p) => {
  mock = m;
  pay = p;
});

const HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单总金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
function row(i: number, amount: string) {
  return [
    '2026-11-21 10:00:00',
    MERCHANT.appid,
    MERCHANT.mchId,
    '0',
    '',
    `42000000${i}`,
    `order${i}`,
    'oUser',
    'NATIVE',
    'SUCCESS',
    'OTHERS',
    'CNY',
    amount,
    '0.00',
    '0',
    '0',
    '0.00',
    '0.00',
    '',
    '',
    '商品,含逗号',
    '',
    '0.01',
    '0.60%',
    amount,
    '0.00',
    '',
  ]
    .map((v) => `\`${v}`)
    .join(',');
}
const SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

describe('downloadBill', () => {
  test('streams typed rows with amounts in fen, then the summary', async () => {
    const rows = Array.from({ length: 3 }, (_, i) => row(i, fenToYuan(101 + i)));
    const csv = [HEADER, ...rows, SUMMARY_HEADER, '`3,`3.06,`0.00,`0.00,`0.03,`3.06,`0.00'].join('\r\n');
    mock.on('/pay/downloadbill', () => ({ body: `\uFEFF${csv}\r\n`, contentType: 'text/plain' }));
    const bill = await pay.downloadBill({ bill_date: '20261121' });
    const seen: string[] = [];
    for await (const r of bill) {
      seen.push(r.out_trade_no);
      assert.equal(typeof r.total_fee, 'number');
    }
    assert.deepEqual(seen, ['order0', 'order1', 'order2']);
    assert.equal(bill.summary?.total_count, 3);
    assert.equal(bill.summary?.total_fee, 306);
    assert.equal(bill.headers[0], '交易时间');
    const sent = mock.requests[0]!.fields;
    assert.equal(sent.bill_type, 'ALL');
    assert.ok(verifySign(sent, MERCHANT.key));
  });

  test('keeps a comma inside a product name and reads amounts exactly', async () => {
    mock.on('/pay/downloadbill', () => ({
      body: [HEADER, row(1, '19.99'), SUMMARY_HEADER, '`1,`19.99,`0,`0,`0,`19.99,`0'].join('\n'),
    }));
    const { rows } = await (await pay.downloadBill({ bill_date: '20261121' })).collect();
    assert.equal(rows[0]!.body, '商品,含逗号');
    assert.equal(rows[0]!.total_fee, 1999);
    assert.equal(rows[0]!.rate, '0.60%');
  });

  test('a gzip bill (tar_type=GZIP) is decompressed while streaming', async () => {
    const csv = [HEADER, row(7, '1.00'), SUMMARY_HEADER, '`1,`1.00,`0,`0,`0,`1.00,`0'].join('\n');
    mock.on('/pay/downloadbill', () => ({ body: gzipSync(csv), contentType: 'application/octet-stream' }));
    const { rows, summary } = await (
      await pay.downloadBill({ bill_date: '20261121', tar_type: 'GZIP' })
    ).collect();
    assert.equal(rows[0]!.out_trade_no, 'order7');
    assert.equal(summary?.total_fee, 100);
  });

  test('an XML error instead of a bill is a ProtocolError', async () => {
    mock.on('/pay/downloadbill', () => ({ body: failReply('No Bill Exist') }));
    await assert.rejects(
      pay.downloadBill({ bill_date: '20261121' }),
      (e: unknown) => e instanceof ProtocolError && e.returnMsg === 'No Bill Exist',
    );
  });

  test('a large bill is read row by row without collecting it', async () => {
    const count = 20_000;
    mock.on('/pay/downloadbill', () => {
      const lines = [HEADER];
      for (let i = 0; i < count; i++) lines.push(row(i, '0.01'));
      lines.push(SUMMARY_HEADER, `\`${count},\`${fenToYuan(count)},\`0,\`0,\`0,\`${fenToYuan(count)},\`0`);
      return { body: lines.join('\n') };
    });
    let total = 0;
    let n = 0;
    const bill = await pay.downloadBill({ bill_date: '20261121' });
    for await (const r of bill) {
      total += r.total_fee ?? 0;
      n++;
    }
    assert.equal(n, count);
    assert.equal(total, bill.summary?.total_fee);
  });
});

describe('downloadFundFlow', () => {
  test('is always HMAC-SHA256, presents the certificate, and types the rows', async () => {
    const csv = [
      '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号',
      ['2026-11-21 10:00:00', '4200000001', 'F1', '退款', '退款', '支出', '1.50', '98.50', 'system', '', 'r1']
        .map((v) => `\`${v}`)
        .join(','),
      '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额',
      '`1,`0,`0.00,`1,`1.50',
    ].join('\n');
    mock.on('/pay/downloadfundflow', () => ({ body: csv }));
    const { rows, summary } = await (
      await pay.downloadFundFlow({ bill_date: '20261121', account_type: 'Basic' })
    ).collect();
    assert.equal(rows[0]!.amount, 150);
    assert.equal(rows[0]!.balance, 9850);
    assert.equal(summary?.expense_amount, 150);
    const request = mock.requests[0]!;
    assert.equal(request.fields.sign_type, 'HMAC-SHA256');
    assert.equal(request.fields.sign!.length, 64);
    assert.equal(request.clientCn, MERCHANT.mchId);
  });
});

describe('money', () => {
  test('yuan text becomes fen without floating point', () => {
    assert.equal(yuanToFen('0.01'), 1);
    assert.equal(yuanToFen('1.1'), 110);
    assert.equal(yuanToFen('19.99'), 1999);
    assert.equal(yuanToFen('-3.50'), -350);
    assert.equal(yuanToFen('1,000.00'), 100000);
    assert.throws(() => yuanToFen('1.001'), /at most two decimals/);
    assert.throws(() => yuanToFen('abc'), RangeError);
    assert.equal(fenToYuan(1), '0.01');
    assert.equal(fenToYuan(-350), '-3.50');
  });
});
