// WeChat's retired sandbox mode: every endpoint again under /sandboxnew, signed (MD5 only) with the key
// getsignkey hands out; replies and notifies come signed with that key.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decryptReqInfo, verifySign, type WechatPay } from '@wxpay/sdk';
import { ENDPOINT_TABLE } from '../src/endpoints/index.ts';
import type { Merchant, Sandbox } from '../src/index.ts';
import {
  clientFor,
  control,
  type NotifySink,
  notifySink,
  rawPost,
  signedXml,
  start,
  tradeNo,
} from './support.ts';

describe('sandboxnew (sandbox mode)', () => {
  let sandbox: Sandbox;
  let merchant: Merchant;
  let pay: WechatPay;
  let sandboxPay: WechatPay;
  let sandboxKey: string;
  let sink: NotifySink;

  before(async () => {
    ({ sandbox, merchant, pay } = await start({ seed: 'sandboxnew' }));
    sandboxKey = (await pay.getSignKey()).sandbox_signkey ?? '';
    sandboxPay = clientFor(sandbox, merchant, { sandboxKey });
    sink = await notifySink();
  });
  after(async () => {
    await pay.close();
    await sandboxPay.close();
    await sink.close();
    await sandbox.close();
  });

  const orderFields = (extra: Record<string, string> = {}) => ({
    appid: merchant.appid,
    mch_id: merchant.mchId,
    body: 'sandbox mode',
    out_trade_no: tradeNo('SBN'),
    total_fee: '301',
    spbill_create_ip: '127.0.0.1',
    notify_url: sink.url,
    trade_type: 'NATIVE',
    product_id: 'sku-sbn',
    ...extra,
  });
  const post = (path: string, xml: string) =>
    rawPost(`${sandbox.url}/sandboxnew${path}`, xml, { ca: sandbox.caCert });

  /** Places a NATIVE order through /sandboxnew and pays it as the payer; returns its out_trade_no. */
  async function paidSandboxOrder(totalFee: number): Promise<string> {
    const out_trade_no = tradeNo('SBN');
    const placed = await sandboxPay.unifiedOrder({
      body: 'sandbox mode',
      out_trade_no,
      total_fee: totalFee,
      spbill_create_ip: '127.0.0.1',
      trade_type: 'NATIVE',
      product_id: 'sku-sbn',
      notify_url: sink.url,
    });
    const paid = await control(sandbox, 'POST', '/sandbox/v1/pay', { code_url: placed.code_url });
    assert.equal(paid.status, 200);
    return out_trade_no;
  }

  test('unifiedorder signed with the getsignkey key succeeds; the reply verifies with it and not with the production key', async () => {
    assert.match(sandboxKey, /^[0-9a-f]{32}$/);
    assert.notEqual(sandboxKey, merchant.key);
    const fields = orderFields();
    const reply = await post('/pay/unifiedorder', signedXml(fields, sandboxKey));
    assert.equal(reply.status, 200);
    assert.equal(reply.fields?.return_code, 'SUCCESS');
    assert.equal(reply.fields?.result_code, 'SUCCESS');
    assert.match(reply.fields?.code_url ?? '', /^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/);
    assert.equal(reply.fields?.sign?.length, 32, 'an MD5 sign');
    assert.equal(verifySign(reply.fields ?? {}, sandboxKey), true);
    assert.equal(verifySign(reply.fields ?? {}, merchant.key), false);
    const order = sandbox.ledger(merchant.mchId).orders.find((o) => o.out_trade_no === fields.out_trade_no);
    assert.equal(order?.trade_state, 'NOTPAY', 'the order is in the same ledger as the production path');
  });

  test('a sandboxnew call signed with the production key, or with HMAC-SHA256, is refused and places nothing', async () => {
    const production = orderFields();
    const byProductionKey = await post('/pay/unifiedorder', signedXml(production, merchant.key));
    assert.equal(byProductionKey.fields?.return_code, 'FAIL');
    assert.equal(
      byProductionKey.fields?.return_msg,
      '签名错误，sandboxnew的请求须用getsignkey返回的sandbox_signkey签名',
    );
    assert.equal(byProductionKey.fields?.sign, undefined);

    const hmac = orderFields({ sign_type: 'HMAC-SHA256' });
    const byHmac = await post('/pay/unifiedorder', signedXml(hmac, sandboxKey, 'HMAC-SHA256'));
    assert.equal(byHmac.fields?.return_code, 'FAIL');
    assert.equal(byHmac.fields?.return_msg, '签名类型错误，sandboxnew仅支持MD5');

    const orders = sandbox.ledger(merchant.mchId).orders.map((o) => o.out_trade_no);
    assert.ok(!orders.includes(production.out_trade_no));
    assert.ok(!orders.includes(hmac.out_trade_no));

    // And the other way round: the production path does not take the sandbox key.
    const plain = await rawPost(`${sandbox.url}/pay/unifiedorder`, signedXml(orderFields(), sandboxKey), {
      ca: sandbox.caCert,
    });
    assert.equal(plain.fields?.return_code, 'FAIL');
    assert.equal(plain.fields?.return_msg, '签名错误');
  });

  test('getsignkey stays signed with the production key and has no /sandboxnew twin', async () => {
    const bySandboxKey = await post('/pay/getsignkey', signedXml({ mch_id: merchant.mchId }, sandboxKey));
    assert.equal(bySandboxKey.fields?.return_msg, '签名错误');
    const twin = await post(
      '/sandboxnew/pay/getsignkey',
      signedXml({ mch_id: merchant.mchId }, merchant.key),
    );
    assert.equal(twin.status, 404);
  });

  test('every other endpoint answers under /sandboxnew with WeChat XML, not 404', async () => {
    const served = ENDPOINT_TABLE.filter((def) => def.name !== 'getsignkey');
    assert.equal(served.length, ENDPOINT_TABLE.length - 1);
    for (const def of served) {
      const reply = await post(def.path, '');
      assert.equal(reply.status, 200, def.path);
      assert.equal(reply.fields?.return_msg, 'XML格式错误', def.path);
    }
    // An MD5-only marketing endpoint signs its reply with the sandbox key too (the SDK verifies it).
    const stock = await sandboxPay.call('queryCouponStock', { coupon_stock_id: merchant.couponStockId });
    assert.equal(stock.coupon_stock_id, merchant.couponStockId);
    assert.equal(verifySign(stock, sandboxKey), true);
  });

  test('an order placed under /sandboxnew and paid by the payer gets a notify signed with the sandbox key', async () => {
    const out_trade_no = await paidSandboxOrder(302);
    await sandbox.clock.advance(0);
    const notify = sink.received.find((n) => n.body.includes(out_trade_no));
    assert.ok(notify, 'a payment notify was POSTed');
    const verified = sandboxPay.parsePaymentNotify(notify.body);
    assert.equal(verified.out_trade_no, out_trade_no);
    assert.equal(verified.total_fee, '302');
    assert.equal(verifySign(verified, sandboxKey), true);
    assert.equal(verifySign(verified, merchant.key), false);
  });

  test('orderquery under /sandboxnew sees the paid order; a refund with the client certificate works and notifies with the sandbox key', async () => {
    const out_trade_no = await paidSandboxOrder(500);
    const queried = await sandboxPay.orderQuery({ out_trade_no });
    assert.equal(queried.trade_state, 'SUCCESS');
    assert.equal(queried.total_fee, '500');
    assert.equal((await pay.orderQuery({ out_trade_no })).transaction_id, queried.transaction_id);

    const refundFields = {
      appid: merchant.appid,
      mch_id: merchant.mchId,
      out_trade_no,
      out_refund_no: tradeNo('SBR'),
      total_fee: '500',
      refund_fee: '120',
    };
    const noCert = await post('/secapi/pay/refund', signedXml(refundFields, sandboxKey));
    assert.equal(noCert.fields?.return_msg, '请求未携带证书');

    const balance = sandbox.ledger(merchant.mchId).balance;
    const refunded = await sandboxPay.refund({
      out_trade_no,
      out_refund_no: refundFields.out_refund_no,
      total_fee: 500,
      refund_fee: 120,
      notify_url: sink.url,
    });
    assert.equal(refunded.refund_fee, '120');
    assert.match(refunded.refund_id ?? '', /^\d+$/);
    assert.equal(sandbox.ledger(merchant.mchId).balance, balance - 120);

    await sandbox.clock.advance(5);
    const refundNotifies = sink.received.filter((n) => n.body.includes('req_info'));
    assert.equal(refundNotifies.length, 1, 'one refund notify was POSTed');
    const notify = refundNotifies[0]!;
    const info = sandboxPay.parseRefundNotify(notify.body);
    assert.equal(info.out_trade_no, out_trade_no);
    assert.equal(info.refund_status, 'SUCCESS');
    assert.equal(info.out_refund_no, refundFields.out_refund_no);
    const reqInfo = /<req_info><!\[CDATA\[(.+?)\]\]><\/req_info>/.exec(notify.body)?.[1] ?? '';
    assert.throws(() => decryptReqInfo(reqInfo, merchant.key), 'the production key cannot read it');

    const listed = await sandboxPay.refundQuery({ out_trade_no });
    assert.equal(listed.refund_status_0, 'SUCCESS');
    assert.equal(listed.refund_fee_0, '120');
  });

  test('fault rules apply under /sandboxnew; one naming the /sandboxnew path spares the production path', async () => {
    sandbox.faults.add({ endpoint: '/sandboxnew/pay/orderquery', kind: 'systemerror', count: 1 });
    const query = { appid: merchant.appid, mch_id: merchant.mchId, out_trade_no: tradeNo('none') };
    const plain = await rawPost(`${sandbox.url}/pay/orderquery`, signedXml(query, merchant.key), {
      ca: sandbox.caCert,
    });
    assert.equal(plain.fields?.err_code, 'ORDERNOTEXIST');
    const faulted = await post('/pay/orderquery', signedXml(query, sandboxKey));
    assert.equal(faulted.fields?.err_code, 'SYSTEMERROR');
    assert.equal(verifySign(faulted.fields ?? {}, sandboxKey), true);

    sandbox.faults.add({ endpoint: 'unifiedorder', kind: 'systemerror', count: 1 });
    const placed = await post('/pay/unifiedorder', signedXml(orderFields(), sandboxKey));
    assert.equal(placed.fields?.err_code, 'SYSTEMERROR');
    assert.deepEqual(sandbox.faults.list(), []);
  });
});
