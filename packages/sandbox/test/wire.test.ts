// Hand-built XML: the sandbox validates from first principles, whatever client sent the request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildXml, ENDPOINTS, sign, verifySign } from '@wxpay/sdk';
import { ENDPOINT_TABLE, type Merchant, type Sandbox, startSandbox } from '../src/index.ts';
import { rawPost, signedXml, testPki, tradeNo } from './support.ts';

describe('wire validation', () => {
  let sandbox: Sandbox;
  let merchant: Merchant;
  let other: Merchant;

  before(async () => {
    sandbox = await startSandbox({ seed: 'wire', merchants: 2, pki: testPki() });
    [merchant, other] = sandbox.merchants as [Merchant, Merchant];
  });
  after(() => sandbox.close());

  const post = (path: string, body: string, cert?: Merchant) =>
    rawPost(`${sandbox.url}${path}`, body, {
      ca: sandbox.caCert,
      ...(cert ? { cert: { pfx: cert.pfx, passphrase: cert.passphrase } } : {}),
    });
  const orderFields = (extra: Record<string, string> = {}) => ({
    appid: merchant.appid,
    mch_id: merchant.mchId,
    body: 'raw',
    out_trade_no: tradeNo(),
    total_fee: '100',
    spbill_create_ip: '10.0.0.1',
    notify_url: 'http://127.0.0.1:9/notify',
    trade_type: 'APP',
    ...extra,
  });

  test('XML labelled application/json still gets WeChat’s XML answer', async () => {
    const reply = await rawPost(`${sandbox.url}/pay/unifiedorder`, signedXml(orderFields(), merchant.key), {
      ca: sandbox.caCert,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.fields?.result_code, 'SUCCESS', reply.text);
  });

  test('unknown extra fields are accepted and take part in the signature', async () => {
    const fields = { ...orderFields(), zz_custom: 'hello', aa_extra: 'x' };
    const ok = await post('/pay/unifiedorder', signedXml(fields, merchant.key));
    assert.equal(ok.fields?.result_code, 'SUCCESS');
    assert.ok(verifySign(ok.fields ?? {}, merchant.key), 'the reply is signed');
    // Signing without the extra field, then adding it, must fail.
    const base = { ...orderFields(), nonce_str: 'n1' };
    const tampered = buildXml({ ...base, sign: sign(base, merchant.key), zz_custom: 'added' });
    assert.equal((await post('/pay/unifiedorder', tampered)).fields?.return_msg, '签名错误');
  });

  test('HMAC-SHA256 requests are verified with HMAC and answered with an HMAC signature', async () => {
    const fields = { ...orderFields(), sign_type: 'HMAC-SHA256' };
    const reply = await post('/pay/unifiedorder', signedXml(fields, merchant.key, 'HMAC-SHA256'));
    assert.equal(reply.fields?.result_code, 'SUCCESS');
    assert.equal(reply.fields?.sign?.length, 64);
    assert.ok(verifySign(reply.fields ?? {}, merchant.key));
  });

  test('an HMAC signature under a missing sign_type (MD5) is a signature error', async () => {
    const fields = orderFields();
    const reply = await post('/pay/unifiedorder', signedXml(fields, merchant.key, 'HMAC-SHA256'));
    assert.deepEqual(reply.fields, { return_code: 'FAIL', return_msg: '签名错误' });
  });

  test('a wrong signature is return_code FAIL 签名错误, unsigned', async () => {
    const reply = await post('/pay/unifiedorder', signedXml(orderFields(), other.key));
    assert.equal(reply.fields?.return_code, 'FAIL');
    assert.equal(reply.fields?.return_msg, '签名错误');
    assert.equal(reply.fields?.sign, undefined);
    assert.match(reply.text, /^<xml>/);
  });

  test('a request without sign is refused', async () => {
    const reply = await post(
      '/pay/orderquery',
      buildXml({ appid: merchant.appid, mch_id: merchant.mchId, nonce_str: 'x', out_trade_no: 'a' }),
    );
    assert.equal(reply.fields?.return_code, 'FAIL');
  });

  test('malformed XML, DOCTYPE and an empty body are XML errors', async () => {
    for (const body of [
      '<xml><a>1</xml>',
      '<!DOCTYPE x [<!ENTITY e "x">]><xml><a>&e;</a></xml>',
      '',
      'not xml',
    ]) {
      const reply = await post('/pay/orderquery', body);
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.fields, { return_code: 'FAIL', return_msg: 'XML格式错误' });
    }
  });

  test('missing fields are named in return_msg', async () => {
    const { body: _body, ...fields } = orderFields();
    const reply = await post('/pay/unifiedorder', signedXml(fields, merchant.key));
    assert.deepEqual(reply.fields, { return_code: 'FAIL', return_msg: '缺少参数body' });
    const noMch = await post(
      '/pay/orderquery',
      signedXml({ appid: merchant.appid, out_trade_no: 'x' }, merchant.key),
    );
    assert.equal(noMch.fields?.return_msg, '缺少参数mch_id');
  });

  test('out_trade_no longer than 32 or with other characters, and a bad total_fee, are refused', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ out_trade_no: 'A'.repeat(33) }, 'out_trade_no参数长度有误'],
      [{ out_trade_no: 'has space' }, 'out_trade_no参数格式错误'],
      [{ out_trade_no: 'dot.not.allowed' }, 'out_trade_no参数格式错误'],
      [{ total_fee: '1.5' }, 'total_fee参数格式错误'],
      [{ total_fee: '0' }, 'total_fee参数格式错误'],
      [{ total_fee: '-1' }, 'total_fee参数格式错误'],
      [{ trade_type: 'CARD' }, 'trade_type参数格式错误'],
      [{ spbill_create_ip: 'localhost' }, 'spbill_create_ip参数格式错误'],
    ];
    for (const [extra, msg] of cases) {
      const reply = await post('/pay/unifiedorder', signedXml(orderFields(extra), merchant.key));
      assert.deepEqual(reply.fields, { return_code: 'FAIL', return_msg: msg }, JSON.stringify(extra));
    }
    const okChars = await post(
      '/pay/unifiedorder',
      signedXml(orderFields({ out_trade_no: `a_b-c|d*e@${Date.now()}` }), merchant.key),
    );
    assert.equal(okChars.fields?.result_code, 'SUCCESS');
  });

  test('an appid that is not the merchant’s is refused', async () => {
    const reply = await post(
      '/pay/unifiedorder',
      signedXml(orderFields({ appid: other.appid }), merchant.key),
    );
    assert.equal(reply.fields?.return_code, 'FAIL');
    assert.match(reply.fields?.return_msg ?? '', /不匹配/);
  });

  test('cert endpoints refuse a call without a certificate and one with another merchant’s', async () => {
    const refund = signedXml(
      {
        appid: merchant.appid,
        mch_id: merchant.mchId,
        out_trade_no: 'x1',
        out_refund_no: 'r1',
        total_fee: '1',
        refund_fee: '1',
      },
      merchant.key,
    );
    const none = await post('/secapi/pay/refund', refund);
    assert.deepEqual(none.fields, { return_code: 'FAIL', return_msg: '请求未携带证书' });
    const foreign = await post('/secapi/pay/refund', refund, other);
    assert.deepEqual(foreign.fields, { return_code: 'FAIL', return_msg: '证书与商户号不匹配' });
    const own = await post('/secapi/pay/refund', refund, merchant);
    assert.equal(
      own.fields?.err_code,
      'ORDERNOTEXIST',
      'with its own certificate the call reaches the ledger',
    );

    const transfer = signedXml(
      {
        mch_appid: merchant.appid,
        mchid: merchant.mchId,
        partner_trade_no: tradeNo(),
        openid: 'o1',
        check_name: 'NO_CHECK',
        amount: '100',
        desc: 'x',
      },
      merchant.key,
    );
    const payout = await post('/mmpaymkttransfers/promotion/transfers', transfer, other);
    assert.equal(payout.fields?.result_code, 'FAIL');
    assert.equal(payout.fields?.err_code, 'CA_ERROR');
  });

  test('payout endpoints take MD5 only and answer bad fields with PARAM_ERROR, unsigned', async () => {
    const fields = {
      mch_appid: merchant.appid,
      mchid: merchant.mchId,
      partner_trade_no: tradeNo(),
      openid: 'o1',
      check_name: 'MAYBE',
      amount: '100',
      desc: 'x',
    };
    const cert = merchant;
    const bad = await post('/mmpaymkttransfers/promotion/transfers', signedXml(fields, merchant.key), cert);
    assert.equal(bad.fields?.err_code, 'PARAM_ERROR');
    assert.equal(bad.fields?.sign, undefined);
    const hmac = await post(
      '/mmpaymkttransfers/promotion/transfers',
      signedXml({ ...fields, check_name: 'NO_CHECK' }, merchant.key, 'HMAC-SHA256'),
      cert,
    );
    assert.equal(hmac.fields?.return_msg, '签名错误');
  });

  test('downloadfundflow refuses MD5', async () => {
    const fields = {
      appid: merchant.appid,
      mch_id: merchant.mchId,
      bill_date: '20200101',
      account_type: 'Basic',
    };
    const reply = await post('/pay/downloadfundflow', signedXml(fields, merchant.key), merchant);
    assert.equal(reply.fields?.return_code, 'FAIL');
  });

  test('the endpoint table agrees with the SDK on paths, certificates and reply signing', () => {
    const sdk = Object.values(ENDPOINTS);
    for (const def of ENDPOINT_TABLE) {
      const row = sdk.find((e) => e.path === def.path);
      assert.ok(row, `${def.path} is in the SDK table`);
      assert.equal(row.cert, def.cert, `${def.path} cert`);
      assert.equal(row.reply, def.reply, `${def.path} reply`);
      assert.equal(row.mchIdField, def.mchIdField, `${def.path} mch id field`);
      assert.equal(row.appidField, def.appidField, `${def.path} appid field`);
    }
  });
});
