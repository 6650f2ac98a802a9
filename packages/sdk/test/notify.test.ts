import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  buildXml,
  notifyReply,
  ProtocolError,
  parsePaymentNotify,
  parseRefundNotify,
  parseXml,
  SignatureError,
  sign,
  WechatPay,
} from '../src/index.ts';
import { MERCHANT } from './support/mock-wechat.ts';

const pay = new WechatPay(MERCHANT);

function paymentNotify(overrides: Record<string, string> = {}, signType: 'MD5' | 'HMAC-SHA256' = 'MD5') {
  const fields: Record<string, string> = {
    appid: MERCHANT.appid,
    bank_type: 'CFT',
    cash_fee: '1',
    fee_type: 'CNY',
    is_subscribe: 'Y',
    mch_id: MERCHANT.mchId,
    nonce_str: '5d2b6c2a8db53831f7eda20af46e531c',
    openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
    out_trade_no: '1409811653',
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    time_end: '20140903131540',
    total_fee: '1',
    trade_type: 'JSAPI',
    transaction_id: '1004400740201409030005092168',
    ...overrides,
  };
  return buildXml({ ...fields, sign: sign(fields, MERCHANT.key, signType) });
}

describe('payment notify', () => {
  test('a genuine notify verifies on its raw bytes and returns its fields', () => {
    const notify = pay.parsePaymentNotify(Buffer.from(paymentNotify()));
    assert.equal(notify.out_trade_no, '1409811653');
    assert.equal(notify.total_fee, '1');
    assert.equal(notify.transaction_id, '1004400740201409030005092168');
  });

  test('an HMAC-SHA256 notify without sign_type verifies (type inferred from length)', () => {
    assert.equal(pay.parsePaymentNotify(paymentNotify({}, 'HMAC-SHA256')).result_code, 'SUCCESS');
  });

  test('a notify with an unknown extra field still verifies', () => {
    assert.equal(pay.parsePaymentNotify(paymentNotify({ promotion_detail: 'x' })).promotion_detail, 'x');
  });

  test('a forged notify (amount changed after signing) is a SignatureError', () => {
    const forged = paymentNotify().replace(
      '<total_fee><![CDATA[1]]></total_fee>',
      '<total_fee><![CDATA[100]]></total_fee>',
    );
    assert.throws(() => pay.parsePaymentNotify(forged), SignatureError);
  });

  test('an unsigned notify and one for another merchant are refused', () => {
    const fields = parseXml(paymentNotify());
    delete fields.sign;
    assert.throws(() => pay.parsePaymentNotify(buildXml(fields)), /carries no sign/);
    assert.throws(
      () => pay.parsePaymentNotify(paymentNotify({ mch_id: '1900000999' })),
      /not the configured/,
    );
  });

  test('return_code FAIL is a ProtocolError; hostile XML is refused', () => {
    assert.throws(
      () => pay.parsePaymentNotify(buildXml({ return_code: 'FAIL', return_msg: 'x' })),
      ProtocolError,
    );
    assert.throws(() => pay.parsePaymentNotify('<!DOCTYPE x><xml/>'), /DOCTYPE/);
  });

  test('the standalone function needs the merchant identity and behaves the same', () => {
    assert.equal(parsePaymentNotify(paymentNotify(), MERCHANT).out_trade_no, '1409811653');
    assert.throws(
      () => parsePaymentNotify(paymentNotify(), { ...MERCHANT, key: 'y'.repeat(32) }),
      SignatureError,
    );
  });
});

describe('refund notify', () => {
  // The ciphertext is built here with Node's crypto, independently of the SDK: AES-256-ECB,
  // PKCS#7, keyed with the lowercase hex MD5 of the APIv2 key.
  function encrypt(plainXml: string, apiKey: string): string {
    const key = Buffer.from(createHash('md5').update(apiKey).digest('hex'));
    const cipher = createCipheriv('aes-256-ecb', key, null);
    return Buffer.concat([cipher.update(plainXml, 'utf8'), cipher.final()]).toString('base64');
  }
  const INFO =
    '<root><out_refund_no><![CDATA[131811191610442717309]]></out_refund_no><out_trade_no><![CDATA[71106718111915575302817]]></out_trade_no>' +
    '<refund_account><![CDATA[REFUND_SOURCE_RECHARGE_FUNDS]]></refund_account><refund_fee><![CDATA[3960]]></refund_fee>' +
    '<refund_id><![CDATA[50000408942018111907145868882]]></refund_id><refund_recv_accout><![CDATA[支付用户零钱]]></refund_recv_accout>' +
    '<refund_request_source><![CDATA[API]]></refund_request_source><refund_status><![CDATA[SUCCESS]]></refund_status>' +
    '<settlement_refund_fee><![CDATA[3960]]></settlement_refund_fee><settlement_total_fee><![CDATA[3960]]></settlement_total_fee>' +
    '<success_time><![CDATA[2018-11-19 16:24:13]]></success_time><total_fee><![CDATA[3960]]></total_fee>' +
    '<transaction_id><![CDATA[4200000215201811190261405420]]></transaction_id></root>';
  const outer = (reqInfo: string, mchId: string = MERCHANT.mchId) =>
    buildXml({
      return_code: 'SUCCESS',
      appid: MERCHANT.appid,
      mch_id: mchId,
      nonce_str: 'abc',
      req_info: reqInfo,
    });

  test('req_info is decrypted into the refund’s fields', () => {
    const notify = pay.parseRefundNotify(outer(encrypt(INFO, MERCHANT.key)));
    assert.equal(notify.refund_status, 'SUCCESS');
    assert.equal(notify.out_refund_no, '131811191610442717309');
    assert.equal(notify.refund_fee, '3960');
    assert.equal(notify.refund_recv_accout, '支付用户零钱');
    assert.equal(notify.mch_id, MERCHANT.mchId);
    assert.deepEqual(parseRefundNotify(outer(encrypt(INFO, MERCHANT.key)), MERCHANT), notify);
  });

  test('req_info encrypted with another key fails with advice about the APIv2 key', () => {
    assert.throws(
      () => pay.parseRefundNotify(outer(encrypt(INFO, 'z'.repeat(32)))),
      (error: unknown) => error instanceof SignatureError && /APIv2 key/.test(error.message),
    );
  });

  test('a refund notify for another merchant or without req_info is refused', () => {
    assert.throws(
      () => pay.parseRefundNotify(outer(encrypt(INFO, MERCHANT.key), '1900000999')),
      /not the configured/,
    );
    assert.throws(() => pay.parseRefundNotify(outer('')), /no req_info/);
  });
});

describe('notifyReply', () => {
  test('SUCCESS/OK stops WeChat’s retries; FAIL carries a message', () => {
    assert.equal(
      notifyReply(true),
      '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>',
    );
    assert.deepEqual(parseXml(pay.notifyReply(false, '签名失败')), {
      return_code: 'FAIL',
      return_msg: '签名失败',
    });
  });
});
