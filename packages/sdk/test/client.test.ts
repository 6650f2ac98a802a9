import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BusinessError,
  CertificateError,
  ProtocolError,
  RequestValidationError,
  rawReply,
  SignatureError,
  TransportError,
  verifySign,
  WechatPay,
  XmlError,
} from '../src/index.ts';
import { clientFor, useMockWechat } from './support/client.ts';
import { failReply, MERCHANT, type MockWechat, signedReply, unsignedReply } from './support/mock-wechat.ts';

let mock: MockWechat;
let pay: WechatPay;
useMockWechat((m, p) => {
  mock = m;
  pay = p;
});

const ORDER = {
  body: '腾讯充值中心-QQ会员充值',
  out_trade_no: '20150806125346',
  total_fee: 888,
  spbill_create_ip: '123.12.12.123',
};

describe('payment endpoints round trip over mutual TLS', () => {
  test('unifiedOrder fills in ids, nonce, sign_type and a valid sign, and returns the prepay fields', async () => {
    mock.on('/pay/unifiedorder', ({ fields }) => ({
      body: signedReply({
        trade_type: fields.trade_type ?? '',
        prepay_id: 'wx201410272009395522657a690389285100',
        code_url: 'weixin://wxpay/bizpayurl?pr=abc',
      }),
    }));
    const reply = await pay.unifiedOrder({ ...ORDER, trade_type: 'NATIVE', product_id: 'p1' });
    assert.equal(reply.code_url, 'weixin://wxpay/bizpayurl?pr=abc');
    assert.equal(reply.prepay_id, 'wx201410272009395522657a690389285100');
    const sent = mock.requests[0]!.fields;
    assert.equal(sent.appid, MERCHANT.appid);
    assert.equal(sent.mch_id, MERCHANT.mchId);
    assert.equal(sent.sign_type, 'MD5');
    assert.equal(sent.notify_url, 'https://merchant.example/notify');
    assert.equal(sent.total_fee, '888');
    assert.match(sent.nonce_str!, /^[A-Za-z0-9]{32}$/);
    assert.ok(verifySign(sent, MERCHANT.key), 'the request signature verifies');
  });

  test('rawReply gives the exact text WeChat sent, not a rebuild of the parsed fields', async () => {
    const built = signedReply({ trade_state: 'NOTPAY', out_trade_no: 'o1', trade_state_desc: '订单未支付' });
    // WeChat's own layout: a declaration, CDATA sections, line breaks between elements.
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n${built.replace(/(<\/\w+>)</g, '$1\n  <')}\n`;
    mock.on('/pay/orderquery', () => ({ body: text }));
    const reply = await pay.orderQuery({ out_trade_no: 'o1' });
    assert.equal(reply.trade_state_desc, '订单未支付');
    assert.equal(rawReply(reply), text);
    assert.equal(rawReply({ ...reply }), undefined, 'a copy is not what WeChat sent');
  });

  test('HMAC-SHA256 clients sign requests with HMAC and verify HMAC replies', async () => {
    const hmac = clientFor(mock, { signType: 'HMAC-SHA256' });
    mock.on('/pay/orderquery', () => ({
      body: signedReply({ trade_state: 'SUCCESS', out_trade_no: 'o1' }, 'HMAC-SHA256'),
    }));
    const reply = await hmac.orderQuery({ out_trade_no: 'o1' });
    assert.equal(reply.trade_state, 'SUCCESS');
    assert.equal(mock.requests[0]!.fields.sign_type, 'HMAC-SHA256');
    assert.equal(mock.requests[0]!.fields.sign!.length, 64);
    await hmac.close();
  });

  test('micropay, closeOrder, refundQuery and getSignKey', async () => {
    mock.on('/pay/micropay', () => ({
      body: signedReply({ transaction_id: '4200000001', total_fee: '888', trade_type: 'MICROPAY' }),
    }));
    mock.on('/pay/closeorder', () => ({ body: signedReply({}) }));
    mock.on('/pay/refundquery', () => ({
      body: signedReply({
        refund_count: '1',
        out_refund_no_0: 'r1',
        refund_status_0: 'SUCCESS',
        refund_fee_0: '100',
      }),
    }));
    mock.on('/sandboxnew/pay/getsignkey', () => ({
      body: unsignedReply({ mch_id: MERCHANT.mchId, sandbox_signkey: '013467007045764f8c1b5fe18e4e23d0' }),
    }));
    assert.equal(
      (await pay.micropay({ ...ORDER, auth_code: '134567890123456789' })).transaction_id,
      '4200000001',
    );
    assert.equal((await pay.closeOrder({ out_trade_no: 'o1' })).result_code, 'SUCCESS');
    assert.equal((await pay.refundQuery({ out_trade_no: 'o1' })).refund_status_0, 'SUCCESS');
    assert.equal((await pay.getSignKey()).sandbox_signkey, '013467007045764f8c1b5fe18e4e23d0');
    const signKeyRequest = mock.requests.at(-1)!.fields;
    assert.deepEqual(Object.keys(signKeyRequest).sort(), ['mch_id', 'nonce_str', 'sign']);
    assert.equal(mock.requests[0]!.fields.auth_code, '134567890123456789');
  });

  test('refund and reverse present the client certificate', async () => {
    mock.on('/secapi/pay/refund', ({ fields }) => ({
      body: signedReply({
        out_refund_no: fields.out_refund_no ?? '',
        refund_id: '50000001',
        refund_fee: fields.refund_fee ?? '',
      }),
    }));
    mock.on('/secapi/pay/reverse', () => ({ body: signedReply({ recall: 'N' }) }));
    const refund = await pay.refund({
      out_trade_no: 'o1',
      out_refund_no: 'r1',
      total_fee: 888,
      refund_fee: 100,
    });
    assert.equal(refund.refund_id, '50000001');
    assert.equal((await pay.reverse({ out_trade_no: 'o1' })).recall, 'N');
    assert.deepEqual(
      mock.requests.map((r) => r.clientCn),
      [MERCHANT.mchId, MERCHANT.mchId],
    );
  });

  test('a PEM certificate works as well as a p12', async () => {
    const pem = clientFor(mock, {
      clientCert: { cert: mock.clientCert.certPem, key: mock.clientCert.keyPem },
    });
    mock.on('/secapi/pay/reverse', () => ({ body: signedReply({ recall: 'N' }) }));
    assert.equal((await pem.reverse({ out_trade_no: 'o1' })).recall, 'N');
    await pem.close();
  });
});

describe('result layers and errors', () => {
  test('return_code FAIL is a ProtocolError; a signature complaint says what to check', async () => {
    mock.on('/pay/orderquery', () => ({ body: failReply('签名错误') }));
    await assert.rejects(pay.orderQuery({ out_trade_no: 'o1' }), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.returnMsg, '签名错误');
      assert.match(error.message, /APIv2 key/);
      assert.match(error.message, /out_trade_no=o1/);
      assert.doesNotMatch(error.message, new RegExp(MERCHANT.key), 'never prints the key');
      assert.ok(error.rawBody?.includes('签名错误'));
      assert.equal(error.retryable, false);
      return true;
    });
  });

  test('result_code FAIL is a BusinessError keeping err_code, err_code_des and the reply', async () => {
    mock.on('/pay/closeorder', () => ({
      body: signedReply({ result_code: 'FAIL', err_code: 'ORDERPAID', err_code_des: '订单已支付' }),
    }));
    await assert.rejects(pay.closeOrder({ out_trade_no: 'o1' }), (error: unknown) => {
      assert.ok(error instanceof BusinessError);
      assert.equal(error.errCode, 'ORDERPAID');
      assert.equal(error.errCodeDes, '订单已支付');
      assert.equal(error.reply?.err_code, 'ORDERPAID');
      assert.equal(error.retryable, false);
      return true;
    });
  });

  test('a reply with a bad signature is a SignatureError', async () => {
    mock.on('/pay/orderquery', () => ({
      body: signedReply({ trade_state: 'SUCCESS' }, 'MD5', 'x'.repeat(32)),
    }));
    await assert.rejects(pay.orderQuery({ out_trade_no: 'o1' }), SignatureError);
  });

  test('a signed reply that names another merchant is refused', async () => {
    mock.on('/pay/orderquery', () => ({
      body: signedReply({ mch_id: '1900000999', trade_state: 'SUCCESS' }),
    }));
    await assert.rejects(pay.orderQuery({ out_trade_no: 'o1' }), /names mch_id 1900000999/);
  });

  test('a reply that is not XML is an XmlError carrying the raw body', async () => {
    mock.on('/pay/orderquery', () => ({ body: '<html>gateway error</html>' }));
    await assert.rejects(pay.orderQuery({ out_trade_no: 'o1' }), (error: unknown) => {
      assert.ok(error instanceof XmlError);
      assert.equal(error.rawBody, '<html>gateway error</html>');
      return true;
    });
  });

  test('SYSTEMERROR is retried once with the identical request, then succeeds', async () => {
    let calls = 0;
    mock.on('/secapi/pay/refund', () => {
      calls++;
      return {
        body:
          calls === 1
            ? signedReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统超时' })
            : signedReply({ out_refund_no: 'r9', refund_id: '5009' }),
      };
    });
    const reply = await pay.refund({
      out_trade_no: 'o1',
      out_refund_no: 'r9',
      total_fee: 888,
      refund_fee: 1,
    });
    assert.equal(reply.refund_id, '5009');
    assert.equal(mock.requests.length, 2);
    assert.equal(mock.requests[0]!.body, mock.requests[1]!.body, 'the resend is byte for byte the same');
  });

  test('a persistent SYSTEMERROR is retryable and tells the caller to reuse the number', async () => {
    mock.on('/secapi/pay/refund', () => ({
      body: signedReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统超时' }),
    }));
    await assert.rejects(
      pay.refund({ out_trade_no: 'o1', out_refund_no: 'r9', total_fee: 888, refund_fee: 1 }),
      (error: unknown) => {
        assert.ok(error instanceof BusinessError);
        assert.equal(error.retryable, true);
        assert.match(error.message, /outcome is unknown/);
        assert.match(error.message, /same merchant number/);
        return true;
      },
    );
    assert.equal(mock.requests.length, 2);
  });

  test('micropay is never resent automatically: its unknown outcome is resolved by orderquery', async () => {
    mock.on('/pay/micropay', () => ({
      body: signedReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: 'x' }),
    }));
    await assert.rejects(
      pay.micropay({ ...ORDER, auth_code: '134567890123456789' }),
      (e: unknown) => e instanceof BusinessError && e.retryable,
    );
    assert.equal(mock.requests.length, 1);
  });

  test('a timeout is a retryable TransportError after the configured retries', async () => {
    const impatient = clientFor(mock, { timeoutMs: 150, retries: 1 });
    mock.on('/pay/orderquery', () => ({ body: signedReply({}), delayMs: 400 }));
    await assert.rejects(impatient.orderQuery({ out_trade_no: 'o1' }), (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.code, 'TIMEOUT');
      assert.equal(error.retryable, true);
      assert.match(error.message, /timed out after 150 ms/);
      return true;
    });
    assert.equal(mock.requests.length, 2);
    await impatient.close();
  });

  test('HTTP 500 is a retryable TransportError with the status', async () => {
    const once = clientFor(mock, { retries: 0 });
    mock.on('/pay/orderquery', () => ({ status: 500, body: 'oops' }));
    await assert.rejects(
      once.orderQuery({ out_trade_no: 'o1' }),
      (e: unknown) => e instanceof TransportError && e.status === 500 && e.retryable,
    );
    await once.close();
  });

  test('an untrusted server certificate says to pass ca', async () => {
    const noCa = clientFor(mock, { ca: undefined, retries: 0 });
    await assert.rejects(noCa.orderQuery({ out_trade_no: 'o1' }), /pass `ca`/);
    await noCa.close();
  });

  test('a request for another mch_id is refused before it is sent', async () => {
    await assert.rejects(
      pay.orderQuery({ out_trade_no: 'o1', mch_id: '1900000999' }),
      (error: unknown) => error instanceof RequestValidationError && error.field === 'mch_id',
    );
    assert.equal(mock.requests.length, 0);
  });

  test('JSAPI without openid, or an order without notify_url, is refused before sending', async () => {
    const noNotify = clientFor(mock, { notifyUrl: undefined });
    await assert.rejects(pay.unifiedOrder({ ...ORDER, trade_type: 'JSAPI' }), /openid/);
    await assert.rejects(noNotify.unifiedOrder({ ...ORDER, trade_type: 'NATIVE' }), /notify_url/);
    assert.equal(mock.requests.length, 0);
    await noNotify.close();
  });
});

describe('client certificate', () => {
  test('an endpoint that needs the certificate fails clearly, unsent, when none is configured', async () => {
    const bare = clientFor(mock, { clientCert: undefined });
    await assert.rejects(
      bare.refund({ out_trade_no: 'o1', out_refund_no: 'r1', total_fee: 1, refund_fee: 1 }),
      (error: unknown) =>
        error instanceof CertificateError && /needs the merchant client certificate/.test(error.message),
    );
    assert.equal(mock.requests.length, 0);
    await bare.close();
  });

  test('another merchant’s certificate is refused by the server', async () => {
    const wrong = clientFor(mock, {
      clientCert: { pfx: mock.otherClientCert.pfx, passphrase: mock.otherClientCert.passphrase },
    });
    mock.on('/secapi/pay/reverse', () => ({ body: signedReply({ recall: 'N' }) }));
    await assert.rejects(
      wrong.reverse({ out_trade_no: 'o1' }),
      (e: unknown) => e instanceof ProtocolError && /证书/.test(e.message),
    );
    await wrong.close();
  });

  test('a legacy RC2 p12 fails at construction with conversion advice', async () => {
    const { readFile } = await import('node:fs/promises');
    const pfx = await readFile(new URL('./fixtures/legacy-rc2.p12', import.meta.url));
    assert.throws(
      () => new WechatPay({ ...MERCHANT, clientCert: { pfx } }),
      (error: unknown) =>
        error instanceof CertificateError &&
        /openssl pkcs12 -legacy/.test(error.message) &&
        /RC2/.test(error.message),
    );
  });

  test('a wrong passphrase, a p12 read as a string, and mismatched PEM are each explained', () => {
    assert.throws(
      () => new WechatPay({ ...MERCHANT, clientCert: { pfx: mock.clientCert.pfx, passphrase: 'nope' } }),
      /wrong passphrase/,
    );
    assert.throws(
      () =>
        new WechatPay({
          ...MERCHANT,
          clientCert: { pfx: mock.clientCert.pfx.toString('utf8') as unknown as Buffer },
        }),
      /must be a Buffer/,
    );
    assert.throws(
      () =>
        new WechatPay({
          ...MERCHANT,
          clientCert: { cert: mock.clientCert.certPem, key: mock.otherClientCert.keyPem },
        }),
      /private key does not belong/,
    );
  });
});

describe('options', () => {
  test('a key that is not 32 characters is refused and the message names the APIv2 key', () => {
    assert.throws(() => new WechatPay({ ...MERCHANT, key: 'short' }), /32-character APIv2 key/);
  });

  test('missing appid, bad mchId, bad signType and bad baseUrl name the option', () => {
    assert.throws(
      () => new WechatPay({ ...MERCHANT, appid: '' }),
      (e: unknown) => (e as { option?: string }).option === 'appid',
    );
    assert.throws(
      () => new WechatPay({ ...MERCHANT, mchId: 'abc' }),
      (e: unknown) => (e as { option?: string }).option === 'mchId',
    );
    assert.throws(() => new WechatPay({ ...MERCHANT, signType: 'SHA1' as 'MD5' }), /signType/);
    assert.throws(() => new WechatPay({ ...MERCHANT, baseUrl: 'ftp://x' }), /baseUrl/);
  });
});
