// Payout and marketing endpoints against the HTTPS mock that demands the client certificate:
// field-name quirks on the wire, generated merchant numbers, validation, retries and certificates.
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { describe, test } from 'node:test';
import { splitHbList } from '../src/hblist.ts';
import {
  BusinessError,
  CertificateError,
  ENDPOINTS,
  mchBillno,
  ProtocolError,
  partnerTradeNo,
  RequestValidationError,
  rawReply,
  SignatureError,
  TransportError,
  verifySign,
  type WechatPay,
  XmlError,
} from '../src/index.ts';
import { clientFor, useMockWechat } from './support/client.ts';
import {
  MERCHANT,
  type MockWechat,
  type RecordedRequest,
  signedReply,
  unsignedReply,
} from './support/mock-wechat.ts';

let mock: MockWechat;
let pay: WechatPay;
useMockWechat((m, p) => {
  mock = m;
  pay = p;
});

const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');

/** What every payout request must satisfy: a valid MD5 signature, no sign_type, the client cert. */
function assertPayoutRequest(request: RecordedRequest | undefined, path: string): Record<string, string> {
  assert.ok(request, `a request to ${path} was sent`);
  assert.equal(request.path, path);
  assert.ok(verifySign(request.fields, MERCHANT.key), 'the request signature verifies with the merchant key');
  assert.equal(request.fields.sign?.length, 32, 'MD5 signature');
  assert.equal(request.fields.sign_type, undefined, 'payout endpoints take no sign_type');
  assert.match(request.fields.nonce_str ?? '', /^[A-Za-z0-9]{32}$/);
  return request.fields;
}

const redpack = {
  send_name: '商户',
  re_openid: 'oUser1',
  total_amount: 100,
  wishing: '恭喜发财',
  act_name: '活动',
  remark: '备注',
  client_ip: '10.0.0.1',
};

describe('merchant numbers', () => {
  test('partnerTradeNo is 32 letters and digits and never repeats', () => {
    const numbers = new Set(Array.from({ length: 200 }, () => partnerTradeNo()));
    assert.equal(numbers.size, 200);
    for (const n of numbers) assert.match(n, /^[A-Za-z0-9]{32}$/);
  });

  test('mchBillno is mch_id + yyyymmdd (Beijing) + 10 digits, 28 characters', () => {
    // 2026-03-01 20:30 UTC is already 2 March in Beijing.
    const billno = mchBillno('1900000109', new Date('2026-03-01T20:30:00Z'));
    assert.match(billno, /^190000010920260302\d{10}$/);
    assert.equal(billno.length, 28);
  });
});

describe('transfer (企业付款)', () => {
  test('sends mch_appid + mchid, a generated partner_trade_no, NO_CHECK by default, with the cert', async () => {
    mock.on('/mmpaymkttransfers/promotion/transfers', (req) => ({
      body: unsignedReply({
        mch_appid: MERCHANT.appid,
        mchid: MERCHANT.mchId,
        partner_trade_no: req.fields.partner_trade_no ?? '',
        payment_no: '1000018301201505190181489473',
        payment_time: '2026-11-21 10:00:00',
      }),
    }));
    const reply = await pay.transfer({
      openid: 'oUser1',
      amount: 100,
      desc: '理赔',
      spbill_create_ip: '10.0.0.1',
    });
    const sent = assertPayoutRequest(mock.requests[0], '/mmpaymkttransfers/promotion/transfers');
    assert.equal(mock.requests[0]?.clientCn, MERCHANT.mchId);
    assert.equal(sent.mch_appid, MERCHANT.appid);
    assert.equal(sent.mchid, MERCHANT.mchId);
    assert.equal(sent.appid, undefined);
    assert.equal(sent.mch_id, undefined);
    assert.equal(sent.check_name, 'NO_CHECK');
    assert.equal(sent.amount, '100');
    assert.match(sent.partner_trade_no ?? '', /^[A-Za-z0-9]{32}$/);
    assert.equal(reply.partner_trade_no, sent.partner_trade_no);
    assert.equal(reply.payment_no, '1000018301201505190181489473');
  });

  test('a caller-supplied partner_trade_no is sent as is', async () => {
    mock.on('/mmpaymkttransfers/promotion/transfers', () => ({
      body: unsignedReply({ mchid: MERCHANT.mchId }),
    }));
    await pay.transfer({ openid: 'o', amount: '30', desc: 'd', partner_trade_no: 'MyOwn0001' });
    assert.equal(mock.requests[0]?.fields.partner_trade_no, 'MyOwn0001');
  });

  test('FORCE_CHECK without re_user_name is refused before sending', async () => {
    await assert.rejects(
      pay.transfer({ openid: 'o', amount: 100, desc: 'd', check_name: 'FORCE_CHECK' }),
      (error) => {
        assert.ok(error instanceof RequestValidationError);
        assert.equal(error.field, 're_user_name');
        return true;
      },
    );
    assert.equal(mock.requests.length, 0);
  });

  test('fractional, negative or missing amounts are refused before sending', async () => {
    for (const amount of [1.5, -1, '1.00', 0]) {
      await assert.rejects(pay.transfer({ openid: 'o', amount, desc: 'd' }), (error) => {
        assert.ok(error instanceof RequestValidationError);
        assert.equal(error.field, 'amount');
        return true;
      });
    }
    await assert.rejects(pay.transfer({ openid: 'o', desc: 'd' } as never), { field: 'amount' });
    await assert.rejects(pay.transfer({ openid: 'o', amount: 1, desc: 'd', partner_trade_no: 'has-dash' }), {
      field: 'partner_trade_no',
    });
    assert.equal(mock.requests.length, 0);
  });

  test('getTransferInfo queries with appid + mch_id', async () => {
    mock.on('/mmpaymkttransfers/gettransferinfo', (req) => ({
      body: unsignedReply({
        appid: MERCHANT.appid,
        mch_id: MERCHANT.mchId,
        partner_trade_no: req.fields.partner_trade_no ?? '',
        detail_id: '1000000000201503283103439304',
        status: 'SUCCESS',
        openid: 'oUser1',
        transfer_time: '2026-11-21 10:00:00',
      }),
    }));
    const reply = await pay.getTransferInfo({ partner_trade_no: 'T1' });
    const sent = assertPayoutRequest(mock.requests[0], '/mmpaymkttransfers/gettransferinfo');
    assert.equal(sent.appid, MERCHANT.appid);
    assert.equal(sent.mch_id, MERCHANT.mchId);
    assert.equal(sent.partner_trade_no, 'T1');
    assert.equal(reply.status, 'SUCCESS');
    assert.equal(reply.detail_id, '1000000000201503283103439304');
  });
});

describe('red packets (现金红包)', () => {
  test('sendRedpack sends wxappid + mch_id, total_num 1 and a generated 28-character mch_billno', async () => {
    mock.on('/mmpaymkttransfers/sendredpack', (req) => ({
      body: unsignedReply({
        mch_billno: req.fields.mch_billno ?? '',
        mch_id: MERCHANT.mchId,
        wxappid: MERCHANT.appid,
        re_openid: 'oUser1',
        total_amount: '100',
        send_listid: '100000000020150520314766074200',
      }),
    }));
    const reply = await pay.sendRedpack(redpack);
    const sent = assertPayoutRequest(mock.requests[0], '/mmpaymkttransfers/sendredpack');
    assert.equal(sent.wxappid, MERCHANT.appid);
    assert.equal(sent.mch_id, MERCHANT.mchId);
    assert.equal(sent.appid, undefined);
    assert.equal(sent.total_num, '1');
    assert.equal(sent.client_ip, '10.0.0.1');
    assert.equal(sent.mch_billno?.length, 28);
    assert.equal(sent.mch_billno?.slice(0, 18), `${MERCHANT.mchId}${today}`);
    assert.match(sent.mch_billno ?? '', /^\d{28}$/);
    assert.equal(reply.send_listid, '100000000020150520314766074200');
  });

  test('total_num other than 1, or over 200 yuan without scene_id, is refused before sending', async () => {
    await assert.rejects(pay.sendRedpack({ ...redpack, total_num: 2 }), { field: 'total_num' });
    await assert.rejects(pay.sendRedpack({ ...redpack, total_amount: 20_001 }), { field: 'scene_id' });
    await assert.rejects(pay.sendRedpack({ ...redpack, client_ip: '' }), { field: 'client_ip' });
    await assert.rejects(pay.sendRedpack({ ...redpack, mch_billno: 'x'.repeat(29) }), {
      field: 'mch_billno',
    });
    assert.equal(mock.requests.length, 0);
  });

  test('200 yuan exactly needs no scene_id; more does once scene_id is given', async () => {
    mock.on('/mmpaymkttransfers/sendredpack', () => ({ body: unsignedReply({ mch_id: MERCHANT.mchId }) }));
    await pay.sendRedpack({ ...redpack, total_amount: 20_000 });
    await pay.sendRedpack({ ...redpack, total_amount: 49_900, scene_id: 'PRODUCT_4' });
    assert.equal(mock.requests[1]?.fields.scene_id, 'PRODUCT_4');
  });

  test('sendGroupRedpack sends amt_type ALL_RAND and wxappid, without client_ip', async () => {
    mock.on('/mmpaymkttransfers/sendgroupredpack', (req) => ({
      body: unsignedReply({
        mch_billno: req.fields.mch_billno ?? '',
        mch_id: MERCHANT.mchId,
        send_listid: 'L1',
      }),
    }));
    const reply = await pay.sendGroupRedpack({ ...redpack, total_amount: 300, total_num: 3 });
    const sent = assertPayoutRequest(mock.requests[0], '/mmpaymkttransfers/sendgroupredpack');
    assert.equal(sent.amt_type, 'ALL_RAND');
    assert.equal(sent.wxappid, MERCHANT.appid);
    assert.equal(sent.total_num, '3');
    assert.equal(sent.client_ip, undefined);
    assert.match(sent.mch_billno ?? '', /^\d{28}$/);
    assert.equal(reply.send_listid, 'L1');
  });

  test('getRedpackInfo sends bill_type MCHT and returns the nested hblist as an array', async () => {
    mock.on('/mmpaymkttransfers/gethbinfo', (req) => ({
      body:
        '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg>' +
        `<result_code><![CDATA[SUCCESS]]></result_code><mch_id>${MERCHANT.mchId}</mch_id>` +
        `<mch_billno><![CDATA[${req.fields.mch_billno}]]></mch_billno><detail_id>10000417012016080830956240040</detail_id>` +
        '<status><![CDATA[RECEIVED]]></status><send_type>API</send_type><hb_type>GROUP</hb_type>' +
        '<total_num>2</total_num><total_amount>300</total_amount><send_time>2026-11-21 10:00:00</send_time>' +
        '<wishing><![CDATA[<hblist> is just text here]]></wishing>\n<hblist>\n' +
        '<hbinfo><openid><![CDATA[oA]]></openid><amount>100</amount><rcv_time><![CDATA[2026-11-21 10:01:00]]></rcv_time></hbinfo>\n' +
        '<hbinfo><openid>oB</openid><amount>200</amount><rcv_time>2026-11-21 10:02:00</rcv_time></hbinfo>\n' +
        '</hblist><remark>r</remark></xml>',
    }));
    const info = await pay.getRedpackInfo({ mch_billno: '1900000109202611210000000001' });
    assert.match(
      rawReply(info) ?? '',
      /^<xml><return_code>.*\n<hbinfo><openid><!\[CDATA\[oA\]\]>.*<\/xml>$/s,
    );
    const sent = assertPayoutRequest(mock.requests[0], '/mmpaymkttransfers/gethbinfo');
    assert.equal(sent.bill_type, 'MCHT');
    assert.equal(sent.appid, MERCHANT.appid);
    assert.equal(sent.mch_id, MERCHANT.mchId);
    assert.equal(info.status, 'RECEIVED');
    assert.equal(info.remark, 'r');
    assert.equal(info.wishing, '<hblist> is just text here');
    assert.deepEqual(info.hblist, [
      { openid: 'oA', amount: '100', rcv_time: '2026-11-21 10:01:00' },
      { openid: 'oB', amount: '200', rcv_time: '2026-11-21 10:02:00' },
    ]);
    // The generic call path knows the one nested reply too.
    const viaCall = (await pay.call('getRedpackInfo', {
      mch_billno: 'B2',
      bill_type: 'MCHT',
    })) as unknown as {
      hblist: unknown[];
    };
    assert.equal(viaCall.hblist.length, 2);
  });

  test('getRedpackInfo gives an empty hblist when WeChat sends none', async () => {
    mock.on('/mmpaymkttransfers/gethbinfo', () => ({ body: unsignedReply({ status: 'SENDING' }) }));
    const info = await pay.getRedpackInfo({ mch_billno: 'B1' });
    assert.deepEqual(info.hblist, []);
    assert.equal(info.status, 'SENDING');
  });

  test('a hostile hblist (DOCTYPE, entities, deeper nesting, stray text) is refused', async () => {
    const wrap = (inner: string) =>
      `<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><hblist>${inner}</hblist></xml>`;
    const hostile = [
      wrap('<!DOCTYPE x [<!ENTITY a "b">]><hbinfo><openid>&a;</openid></hbinfo>'),
      wrap('<hbinfo><openid>&xxe;</openid></hbinfo>'),
      wrap('<hbinfo><openid><x>1</x></openid></hbinfo>'),
      wrap('text<hbinfo><openid>o</openid></hbinfo>'),
      wrap('<hbinfo><openid>o</openid>'),
      '<xml><return_code>SUCCESS</return_code><hblist></hblist><hblist></hblist></xml>',
      '<xml><wishing><hblist><hbinfo></hbinfo></hblist></wishing></xml>',
    ];
    for (const body of hostile) assert.throws(() => splitHbList(body), XmlError, body);
    mock.on('/mmpaymkttransfers/gethbinfo', () => ({ body: hostile[0] ?? '' }));
    await assert.rejects(pay.getRedpackInfo({ mch_billno: 'B1' }), (error) => {
      assert.ok(error instanceof XmlError);
      assert.equal(error.endpoint, '/mmpaymkttransfers/gethbinfo');
      assert.match(error.rawBody ?? '', /DOCTYPE/);
      return true;
    });
  });
});

describe('coupons (代金券)', () => {
  test('sendCoupon sends openid_count 1, a generated partner_trade_no and op_user_id, and checks the signed reply', async () => {
    mock.on('/mmpaymkttransfers/send_coupon', (req) => ({
      body: signedReply({
        coupon_stock_id: req.fields.coupon_stock_id ?? '',
        resp_count: '1',
        success_count: '1',
        failed_count: '0',
        openid: 'oUser1',
        ret_code: 'SUCCESS',
        coupon_id: '1870',
        ret_msg: '',
      }),
    }));
    const reply = await pay.sendCoupon({ coupon_stock_id: '1757', openid: 'oUser1' });
    const sent = assertPayoutRequest(mock.requests[0], '/mmpaymkttransfers/send_coupon');
    assert.equal(mock.requests[0]?.clientCn, MERCHANT.mchId);
    assert.equal(sent.openid_count, '1');
    assert.equal(sent.appid, MERCHANT.appid);
    assert.equal(sent.op_user_id, MERCHANT.mchId);
    assert.match(sent.partner_trade_no ?? '', /^[A-Za-z0-9]{32}$/);
    assert.equal(reply.coupon_id, '1870');
  });

  test('a send_coupon reply signed with another key is refused', async () => {
    mock.on('/mmpaymkttransfers/send_coupon', () => ({
      body: signedReply({ coupon_id: '1' }, 'MD5', 'x'.repeat(32)),
    }));
    await assert.rejects(pay.sendCoupon({ coupon_stock_id: '1757', openid: 'o' }), SignatureError);
  });

  test('queryCouponStock and queryCouponsInfo work without a client certificate', async () => {
    const noCert = clientFor(mock, { clientCert: undefined });
    try {
      mock.on('/mmpaymkttransfers/query_coupon_stock', (req) => ({
        body: signedReply({
          coupon_stock_id: req.fields.coupon_stock_id ?? '',
          coupon_value: '500',
          coupon_stock_status: '4',
        }),
      }));
      mock.on('/mmpaymkttransfers/querycouponsinfo', (req) => ({
        body: signedReply({
          coupon_id: req.fields.coupon_id ?? '',
          coupon_state: 'SENDED',
          coupon_value: '500',
        }),
      }));
      const stock = await noCert.queryCouponStock({ coupon_stock_id: '1757' });
      const coupon = await noCert.queryCouponsInfo({ coupon_id: '1870', openid: 'o', stock_id: '1757' });
      const stockSent = assertPayoutRequest(mock.requests[0], '/mmpaymkttransfers/query_coupon_stock');
      const infoSent = assertPayoutRequest(mock.requests[1], '/mmpaymkttransfers/querycouponsinfo');
      assert.equal(stockSent.appid, MERCHANT.appid);
      assert.equal(stockSent.op_user_id, MERCHANT.mchId);
      assert.equal(infoSent.stock_id, '1757');
      assert.equal(infoSent.openid, 'o');
      assert.equal(stock.coupon_value, '500');
      assert.equal(coupon.coupon_state, 'SENDED');
      await assert.rejects(noCert.queryCouponsInfo({ coupon_id: '1870', openid: 'o' } as never), {
        field: 'stock_id',
      });
    } finally {
      await noCert.close();
    }
  });
});

describe('bank payouts (企业付款到银行卡)', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const decrypt = (value: string | undefined) =>
    privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(value ?? '', 'base64'),
    ).toString('utf8');

  test('payBank encrypts the card number and name with the fetched PKCS#1 key, which is cached', async () => {
    const bank = clientFor(mock);
    try {
      mock.on('/risk/getpublickey', () => ({
        body: unsignedReply({ mch_id: MERCHANT.mchId, pub_key: publicKey }),
      }));
      mock.on('/mmpaysptrans/pay_bank', (req) => ({
        body: unsignedReply({
          mch_id: MERCHANT.mchId,
          partner_trade_no: req.fields.partner_trade_no ?? '',
          amount: req.fields.amount ?? '',
          payment_no: 'P1',
          cmms_amt: '100',
        }),
      }));
      const first = await bank.payBank({
        bank_no: '6222020000000000000',
        true_name: '张三',
        bank_code: '1002',
        amount: 10_000,
      });
      await bank.payBank({
        bank_no: '6222020000000000001',
        true_name: '李四',
        bank_code: '1002',
        amount: 1,
        partner_trade_no: 'B2',
      });
      assert.deepEqual(
        mock.requests.map((r) => r.path),
        ['/risk/getpublickey', '/mmpaysptrans/pay_bank', '/mmpaysptrans/pay_bank'],
      );
      const keyRequest = mock.requests[0];
      assert.ok(keyRequest && verifySign(keyRequest.fields, MERCHANT.key));
      assert.equal(keyRequest.fields.sign_type, 'MD5', 'getpublickey carries sign_type MD5');
      assert.equal(keyRequest.fields.mch_id, MERCHANT.mchId);
      const sent = assertPayoutRequest(mock.requests[1], '/mmpaysptrans/pay_bank');
      assert.equal(sent.appid, undefined);
      assert.equal(sent.bank_no, undefined, 'the clear card number never goes on the wire');
      assert.equal(sent.true_name, undefined);
      assert.equal(decrypt(sent.enc_bank_no), '6222020000000000000');
      assert.equal(decrypt(sent.enc_true_name), '张三');
      assert.match(sent.partner_trade_no ?? '', /^[A-Za-z0-9]{32}$/);
      assert.equal(first.payment_no, 'P1');
      assert.equal(mock.requests[2]?.fields.partner_trade_no, 'B2');
    } finally {
      await bank.close();
    }
  });

  test('a failed key fetch is not cached', async () => {
    const bank = clientFor(mock, { retries: 0 });
    try {
      let calls = 0;
      mock.on('/risk/getpublickey', () => ({
        body: ++calls === 1 ? unsignedReply({ pub_key: 'not a key' }) : unsignedReply({ pub_key: publicKey }),
      }));
      mock.on('/mmpaysptrans/pay_bank', () => ({ body: unsignedReply({ payment_no: 'P2' }) }));
      const card = { bank_no: '1', true_name: 'n', bank_code: '1002', amount: 1 };
      await assert.rejects(bank.payBank(card), CertificateError);
      assert.equal((await bank.payBank(card)).payment_no, 'P2');
      assert.equal(calls, 2);
    } finally {
      await bank.close();
    }
  });

  test('queryBank sends mch_id only and returns the status', async () => {
    mock.on('/mmpaysptrans/query_bank', (req) => ({
      body: unsignedReply({
        mch_id: MERCHANT.mchId,
        partner_trade_no: req.fields.partner_trade_no ?? '',
        status: 'PROCESSING',
      }),
    }));
    const reply = await pay.queryBank({ partner_trade_no: 'B2' });
    const sent = assertPayoutRequest(mock.requests[0], '/mmpaysptrans/query_bank');
    assert.equal(sent.mch_id, MERCHANT.mchId);
    assert.equal(sent.appid, undefined);
    assert.equal(reply.status, 'PROCESSING');
  });
});

describe('certificates', () => {
  test('without a client certificate, a cert endpoint fails with CertificateError and sends nothing', async () => {
    const noCert = clientFor(mock, { clientCert: undefined });
    try {
      for (const call of [
        () => noCert.transfer({ openid: 'o', amount: 100, desc: 'd' }),
        () => noCert.sendRedpack(redpack),
        () => noCert.getRedpackInfo({ mch_billno: 'B1' }),
        () => noCert.sendCoupon({ coupon_stock_id: '1', openid: 'o' }),
      ]) {
        await assert.rejects(call(), (error) => {
          assert.ok(error instanceof CertificateError);
          assert.match(error.message, /client certificate/);
          assert.match(error.message, /clientCert/);
          return true;
        });
      }
      assert.equal(mock.requests.length, 0);
    } finally {
      await noCert.close();
    }
  });

  test("another merchant's certificate gets return_code FAIL, a ProtocolError", async () => {
    const wrong = clientFor(mock, {
      clientCert: { pfx: mock.otherClientCert.pfx, passphrase: mock.otherClientCert.passphrase },
    });
    try {
      await assert.rejects(wrong.sendRedpack(redpack), (error) => {
        assert.ok(error instanceof ProtocolError);
        assert.equal(error.returnMsg, '证书与商户号不匹配');
        assert.equal(error.retryable, false);
        return true;
      });
      assert.equal(mock.requests[0]?.clientCn, '1900000999');
    } finally {
      await wrong.close();
    }
  });
});

describe('unknown outcomes', () => {
  test('a SYSTEMERROR is resent with the same mch_billno (and the same bytes)', async () => {
    let calls = 0;
    mock.on('/mmpaymkttransfers/sendredpack', (req) => ({
      body:
        ++calls === 1
          ? unsignedReply({
              result_code: 'FAIL',
              err_code: 'SYSTEMERROR',
              err_code_des: '系统繁忙,请稍后再试.',
            })
          : unsignedReply({
              mch_billno: req.fields.mch_billno ?? '',
              mch_id: MERCHANT.mchId,
              send_listid: 'L2',
            }),
    }));
    const reply = await pay.sendRedpack(redpack);
    assert.equal(mock.requests.length, 2);
    const [first, second] = mock.requests;
    assert.match(first?.fields.mch_billno ?? '', /^\d{28}$/);
    assert.equal(second?.fields.mch_billno, first?.fields.mch_billno);
    assert.equal(second?.body, first?.body);
    assert.equal(reply.send_listid, 'L2');
  });

  test('a SYSTEMERROR that persists is a retryable BusinessError saying to reuse the number', async () => {
    const once = clientFor(mock, { retries: 0 });
    try {
      mock.on('/mmpaymkttransfers/promotion/transfers', () => ({
        body: unsignedReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统繁忙' }),
      }));
      await assert.rejects(
        once.transfer({ openid: 'o', amount: 100, desc: 'd', partner_trade_no: 'T9' }),
        (error) => {
          assert.ok(error instanceof BusinessError);
          assert.equal(error.errCode, 'SYSTEMERROR');
          assert.equal(error.retryable, true);
          assert.match(error.message, /outcome is unknown/);
          assert.match(error.message, /partner_trade_no/);
          assert.match(error.message, /Never retry with a new number/);
          assert.equal(error.endpoint, ENDPOINTS.transfer.path);
          assert.equal(error.reply?.err_code, 'SYSTEMERROR');
          return true;
        },
      );
    } finally {
      await once.close();
    }
  });

  test('a definite refusal (NOTENOUGH) is not retryable and is not resent', async () => {
    mock.on('/mmpaymkttransfers/promotion/transfers', () => ({
      body: unsignedReply({ result_code: 'FAIL', err_code: 'NOTENOUGH', err_code_des: '余额不足' }),
    }));
    await assert.rejects(pay.transfer({ openid: 'o', amount: 100, desc: 'd' }), (error) => {
      assert.ok(error instanceof BusinessError);
      assert.equal(error.retryable, false);
      assert.doesNotMatch(error.message, /unknown/);
      return true;
    });
    assert.equal(mock.requests.length, 1);
  });

  test('a timeout is resent with the same partner_trade_no, and is retryable when it persists', async () => {
    const quick = clientFor(mock, { timeoutMs: 300 });
    try {
      let calls = 0;
      mock.on('/mmpaymkttransfers/promotion/transfers', (req) => ({
        delayMs: ++calls === 1 ? 1000 : 0,
        body: unsignedReply({ partner_trade_no: req.fields.partner_trade_no ?? '', payment_no: 'P3' }),
      }));
      const reply = await quick.transfer({ openid: 'o', amount: 100, desc: 'd' });
      assert.equal(reply.payment_no, 'P3');
      const numbers = mock.requests.map((r) => r.fields.partner_trade_no);
      assert.equal(numbers.length, 2);
      assert.equal(numbers[0], numbers[1]);

      mock.on('/mmpaymkttransfers/promotion/transfers', () => ({ delayMs: 1000, body: unsignedReply({}) }));
      await assert.rejects(quick.transfer({ openid: 'o', amount: 100, desc: 'd' }), (error) => {
        assert.ok(error instanceof TransportError);
        assert.equal(error.code, 'TIMEOUT');
        assert.equal(error.retryable, true);
        assert.match(error.message, /same merchant number/);
        return true;
      });
    } finally {
      await quick.close();
    }
  });
});
