import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sign, verifySign, WechatPay } from '../src/index.ts';
import { MERCHANT } from './support/mock-wechat.ts';

describe('parameters for the payer’s client', () => {
  test('jsapiParams are signed over appId, timeStamp, nonceStr, package and signType', () => {
    const pay = new WechatPay(MERCHANT);
    const params = pay.jsapiParams('wx201410272009395522657a690389285100');
    assert.equal(params.appId, MERCHANT.appid);
    assert.equal(params.package, 'prepay_id=wx201410272009395522657a690389285100');
    assert.equal(params.signType, 'MD5');
    assert.match(params.timeStamp, /^\d{10}$/);
    assert.ok(Math.abs(Number(params.timeStamp) - Date.now() / 1000) < 5);
    const { paySign, ...signed } = params;
    assert.equal(paySign, sign(signed, MERCHANT.key, 'MD5'));
    assert.deepEqual(Object.keys(signed).sort(), ['appId', 'nonceStr', 'package', 'signType', 'timeStamp']);
  });

  test('an HMAC-SHA256 client signs jsapi parameters with HMAC, and a Mini Program appId can be given', () => {
    const pay = new WechatPay({ ...MERCHANT, signType: 'HMAC-SHA256' });
    const params = pay.jsapiParams('wx1', { appId: 'wxminiprogram0001' });
    assert.equal(params.signType, 'HMAC-SHA256');
    assert.equal(params.appId, 'wxminiprogram0001');
    assert.equal(params.paySign.length, 64);
    assert.ok(verifySign({ ...params, sign: params.paySign, paySign: undefined }, MERCHANT.key));
  });

  test('appParams use the lower-case names, Sign=WXPay and a 10-digit timestamp', () => {
    const pay = new WechatPay(MERCHANT);
    const params = pay.appParams('wx2');
    assert.equal(params.partnerid, MERCHANT.mchId);
    assert.equal(params.prepayid, 'wx2');
    assert.equal(params.package, 'Sign=WXPay');
    assert.match(params.timestamp, /^\d{10}$/);
    const { sign: appSign, ...signed } = params;
    assert.equal(appSign, sign(signed, MERCHANT.key));
  });

  test('mwebUrl appends the url-encoded redirect_url', () => {
    const pay = new WechatPay(MERCHANT);
    assert.equal(
      pay.mwebUrl(
        'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1',
        'https://shop.example/back?o=1&x=中',
      ),
      'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1&redirect_url=https%3A%2F%2Fshop.example%2Fback%3Fo%3D1%26x%3D%E4%B8%AD',
    );
    assert.equal(pay.mwebUrl('https://x/checkmweb?prepay_id=1'), 'https://x/checkmweb?prepay_id=1');
  });
});
