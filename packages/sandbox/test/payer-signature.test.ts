// The payer pays with the parameters a merchant hands WeChat's client (JSAPI getBrandWCPayRequest, APP PayReq),
// and the sandbox checks them as the client does: a wrong paySign is refused, says why, and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Script } from 'node:vm';
import { type AppParams, type JsapiParams, sign, type WechatPay } from '@wxpay/sdk';
import type { Merchant, Sandbox } from '../src/index.ts';
import { clientFor, control, type NotifySink, rawPost, startPaying, tradeNo } from './support.ts';

const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';
const WRONG_KEY = 'ThisIsNotTheMerchantApiV2Key0000';

describe('paying with the client’s parameters (payer-side signature)', () => {
  let sandbox: Sandbox;
  let merchant: Merchant;
  let pay: WechatPay;
  let hmac: WechatPay;
  let sink: NotifySink;

  let close: () => Promise<void>;

  before(async () => {
    ({ sandbox, merchant, pay, hmac, sink, close } = await startPaying({ seed: 'payer-signature' }));
  });
  after(() => close());

  /** Places an order and returns its out_trade_no and prepay_id. */
  async function place(
    tradeType: 'JSAPI' | 'APP' | 'NATIVE',
    client: WechatPay = pay,
  ): Promise<{ outTradeNo: string; prepayId: string }> {
    const outTradeNo = tradeNo('PS');
    const placed = await client.unifiedOrder({
      body: 'payer signature',
      out_trade_no: outTradeNo,
      total_fee: 888,
      spbill_create_ip: '127.0.0.1',
      trade_type: tradeType,
      notify_url: sink.url,
      ...(tradeType === 'JSAPI' ? { openid: OPENID } : {}),
      ...(tradeType === 'NATIVE' ? { product_id: 'sku-ps' } : {}),
    });
    assert.ok(placed.prepay_id);
    return { outTradeNo, prepayId: placed.prepay_id };
  }
  const payWith = (body: ({ jsapi: unknown } | { app: unknown }) & { outcome?: string; openid?: string }) =>
    control(sandbox, 'POST', '/sandbox/v1/pay', body);
  const tradeState = async (outTradeNo: string) =>
    (await pay.orderQuery({ out_trade_no: outTradeNo })).trade_state;
  const notified = async (outTradeNo: string) => {
    await sandbox.clock.advance(0);
    return sink.received.filter((n) => n.body.includes(outTradeNo));
  };
  /** Nothing moved: the order is still unpaid and the merchant's balance is what it was. */
  const assertNothingPaid = async (outTradeNo: string, balance: number) => {
    assert.equal(await tradeState(outTradeNo), 'NOTPAY');
    assert.equal(sandbox.ledger(merchant.mchId).balance, balance);
  };
  /** The JSAPI parameters with paySign made over the same fields with another key. */
  const signedWithWrongKey = (params: JsapiParams): JsapiParams => {
    const { paySign: _, ...unsigned } = params;
    return { ...unsigned, paySign: sign(unsigned, WRONG_KEY, params.signType) };
  };

  test('JSAPI parameters from the SDK pay the order: ok, SUCCESS at orderquery, and a notify', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI');
    const balance = sandbox.ledger(merchant.mchId).balance;
    const answer = await payWith({ jsapi: pay.jsapiParams(prepayId) });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.err_msg, 'get_brand_wcpay_request:ok');
    assert.equal(answer.json.err_desc, undefined);
    const order = answer.json.order as Record<string, unknown>;
    assert.equal(order.out_trade_no, outTradeNo);
    assert.equal(order.trade_state, 'SUCCESS');
    assert.equal(order.openid, OPENID);
    assert.equal(await tradeState(outTradeNo), 'SUCCESS');
    assert.equal(sandbox.ledger(merchant.mchId).balance, balance + 888);
    const [notify] = await notified(outTradeNo);
    assert.ok(notify, 'a payment notify was POSTed');
    assert.equal(pay.parsePaymentNotify(notify.body).trade_type, 'JSAPI');
  });

  test('a paySign made with a wrong key is refused with the exact string expected, and nothing changes', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI');
    const balance = sandbox.ledger(merchant.mchId).balance;
    const params = signedWithWrongKey(pay.jsapiParams(prepayId));
    const answer = await payWith({ jsapi: params });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.err_msg, 'get_brand_wcpay_request:fail');
    const desc = String(answer.json.err_desc);
    assert.deepEqual(answer.json.error, { code: 'SIGN_INVALID', message: desc });
    const expected =
      `appId=${merchant.appid}&nonceStr=${params.nonceStr}&package=prepay_id=${prepayId}` +
      `&signType=MD5&timeStamp=${params.timeStamp}&key=<merchant key>`;
    assert.ok(desc.includes(`"${expected}"`), desc);
    assert.ok(desc.includes(`got "${params.paySign}"`), desc);
    assert.match(
      desc,
      /with the merchant's APIv2 key \(32 characters.*\) and the same sign type unifiedorder used, MD5\.$/,
    );
    assert.ok(!desc.includes(merchant.key), 'the real key is never shown');
    await assertNothingPaid(outTradeNo, balance);
    assert.deepEqual(await notified(outTradeNo), []);
    // The same order then pays with a correct paySign.
    assert.equal(
      (await payWith({ jsapi: pay.jsapiParams(prepayId) })).json.err_msg,
      'get_brand_wcpay_request:ok',
    );
  });

  test('an appId other than the order’s is refused, naming both', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI');
    const answer = await payWith({ jsapi: pay.jsapiParams(prepayId, { appId: 'wx0123456789abcdef' }) });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.err_msg, 'get_brand_wcpay_request:fail');
    assert.deepEqual(answer.json.error, {
      code: 'APPID_MISMATCH',
      message: `appId wx0123456789abcdef is not the appid the order was placed with (${merchant.appid}): pass the same appid unifiedorder was given.`,
    });
    assert.equal(await tradeState(outTradeNo), 'NOTPAY');
  });

  test('a package whose prepay_id the sandbox never issued is 404 PREPAY_ID_UNKNOWN', async () => {
    const answer = await payWith({ jsapi: pay.jsapiParams('wx20260101000000abcdef0123456789') });
    assert.equal(answer.status, 404);
    assert.equal(answer.json.err_msg, 'get_brand_wcpay_request:fail');
    assert.equal((answer.json.error as { code: string }).code, 'PREPAY_ID_UNKNOWN');
    assert.match(String(answer.json.err_desc), /^prepay_id wx20260101000000abcdef0123456789 was not issued/);
  });

  test('a NATIVE order’s prepay_id cannot be paid through getBrandWCPayRequest', async () => {
    const { outTradeNo, prepayId } = await place('NATIVE');
    const paid = sandbox.pay({ jsapi: pay.jsapiParams(prepayId) });
    assert.equal(paid.ok, false);
    assert.deepEqual(!paid.ok && paid.error, {
      code: 'TRADE_TYPE_MISMATCH',
      des:
        `prepay_id ${prepayId} belongs to a trade_type=NATIVE order; getBrandWCPayRequest pays only ` +
        'trade_type=JSAPI orders: place the order with trade_type=JSAPI.',
    });
    assert.equal(await tradeState(outTradeNo), 'NOTPAY');
  });

  test('an HMAC-SHA256 order refuses MD5 parameters (signType must be the order’s) and takes HMAC ones', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI', hmac);
    const md5 = await payWith({ jsapi: pay.jsapiParams(prepayId) });
    assert.equal(md5.status, 400);
    assert.equal(md5.json.err_msg, 'get_brand_wcpay_request:fail');
    assert.equal((md5.json.error as { code: string }).code, 'SIGN_TYPE_MISMATCH');
    assert.match(
      String(md5.json.err_desc),
      /^signType MD5 is not the sign_type the order was placed with \(HMAC-SHA256\)/,
    );

    // signType says HMAC-SHA256, but paySign is still MD5.
    const params = hmac.jsapiParams(prepayId);
    const { paySign: _, ...unsigned } = params;
    const mixed = await payWith({ jsapi: { ...params, paySign: sign(unsigned, merchant.key, 'MD5') } });
    assert.equal((mixed.json.error as { code: string }).code, 'SIGN_INVALID');
    assert.match(String(mixed.json.err_desc), /32 hex characters, an MD5 signature/);
    assert.match(String(mixed.json.err_desc), /Expected the upper-case hex HMAC-SHA256 of "appId=/);
    assert.equal(await tradeState(outTradeNo), 'NOTPAY');

    const ok = await payWith({ jsapi: params });
    assert.equal(ok.json.err_msg, 'get_brand_wcpay_request:ok');
    assert.equal(await tradeState(outTradeNo), 'SUCCESS');
  });

  test('malformed JSAPI parameters: each check has its own code and message', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI');
    const good = pay.jsapiParams(prepayId);
    const { appId, ...noAppId } = good;
    const cases: Array<[unknown, string, RegExp]> = [
      [
        { ...noAppId, appid: appId },
        'CLIENT_PARAM_MISSING',
        /^getBrandWCPayRequest needs appId .*carry appid instead: getBrandWCPayRequest spells it appId, exactly\.$/,
      ],
      [{ ...good, paySign: '' }, 'CLIENT_PARAM_MISSING', /^getBrandWCPayRequest needs paySign/],
      [
        { ...good, timeStamp: Number(good.timeStamp) },
        'CLIENT_PARAM_NOT_STRING',
        /^timeStamp must be a string/,
      ],
      [{ ...good, timeStamp: `${good.timeStamp}123` }, 'TIMESTAMP_INVALID', /milliseconds/],
      [{ ...good, package: prepayId }, 'PACKAGE_INVALID', /^package must be "prepay_id=<the prepay_id/],
      [
        { ...good, signType: 'SHA1' },
        'SIGN_TYPE_INVALID',
        /^signType must be "MD5" or "HMAC-SHA256"; got "SHA1"\.$/,
      ],
      ['prepay_id=x', 'CLIENT_PARAMS_INVALID', /^jsapi must be an object/],
    ];
    for (const [jsapi, code, message] of cases) {
      const answer = await payWith({ jsapi });
      assert.equal(answer.status, 400, code);
      assert.equal(answer.json.err_msg, 'get_brand_wcpay_request:fail', code);
      assert.equal((answer.json.error as { code: string }).code, code);
      assert.match(String(answer.json.err_desc), message);
    }
    assert.equal(await tradeState(outTradeNo), 'NOTPAY');
  });

  test('parameters of an already paid order are refused with 409 ORDERPAID, shaped like the client', async () => {
    const { prepayId } = await place('JSAPI');
    const params = pay.jsapiParams(prepayId);
    assert.ok(sandbox.pay({ jsapi: params }).ok);
    const again = await payWith({ jsapi: params });
    assert.equal(again.status, 409);
    assert.equal(again.json.err_msg, 'get_brand_wcpay_request:fail');
    assert.equal((again.json.error as { code: string }).code, 'ORDERPAID');
  });

  test('APP parameters from the SDK pay an APP order (PayResp errCode 0) and raise its notify', async () => {
    const { outTradeNo, prepayId } = await place('APP');
    const params: AppParams = pay.appParams(prepayId);
    const answer = await payWith({ app: params });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.errCode, 0);
    assert.equal(answer.json.err_msg, undefined);
    assert.equal(await tradeState(outTradeNo), 'SUCCESS');
    assert.equal((await notified(outTradeNo)).length, 1);
  });

  test('APP: a wrong sign, a foreign partnerid, a JSAPI prepay_id or a wrong package are refused', async () => {
    const { outTradeNo, prepayId } = await place('APP');
    const params = pay.appParams(prepayId);
    const { sign: _, ...unsigned } = params;
    const bad = await payWith({ app: { ...unsigned, sign: sign(unsigned, WRONG_KEY) } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errCode, -1);
    assert.deepEqual(bad.json.error, { code: 'SIGN_INVALID', message: bad.json.errStr });
    const expected =
      `appid=${merchant.appid}&noncestr=${params.noncestr}&package=Sign=WXPay&partnerid=${merchant.mchId}` +
      `&prepayid=${prepayId}&timestamp=${params.timestamp}&key=<merchant key>`;
    assert.ok(String(bad.json.errStr).includes(`"${expected}"`), String(bad.json.errStr));

    const foreign = { ...unsigned, partnerid: '1900000109' };
    const refusals: Array<[unknown, string]> = [
      [{ ...foreign, sign: sign(foreign, merchant.key) }, 'PARTNERID_MISMATCH'],
      [{ ...params, package: `prepay_id=${prepayId}` }, 'PACKAGE_INVALID'],
      [pay.appParams((await place('JSAPI')).prepayId), 'TRADE_TYPE_MISMATCH'],
    ];
    for (const [app, code] of refusals) {
      const answer = await payWith({ app });
      assert.equal((answer.json.error as { code: string }).code, code);
      assert.equal(answer.json.errCode, -1);
    }
    assert.equal(await tradeState(outTradeNo), 'NOTPAY');
  });

  test('APP: an HMAC-SHA256 order wants its sign in HMAC-SHA256', async () => {
    const { outTradeNo, prepayId } = await place('APP', hmac);
    const md5 = sandbox.pay({ app: pay.appParams(prepayId) });
    assert.equal(!md5.ok && md5.error.code, 'SIGN_INVALID');
    assert.match(!md5.ok ? md5.error.des : '', /Expected the upper-case hex HMAC-SHA256 of "appid=/);
    assert.equal(await tradeState(outTradeNo), 'NOTPAY');
    assert.ok(sandbox.pay({ app: hmac.appParams(prepayId) }).ok);
    assert.equal(await tradeState(outTradeNo), 'SUCCESS');
  });

  test('an order placed under /sandboxnew wants paySign made with the sandbox sign key', async () => {
    const sandboxKey = (await pay.getSignKey()).sandbox_signkey ?? '';
    const sandboxPay = clientFor(sandbox, merchant, { sandboxKey });
    try {
      const { outTradeNo, prepayId } = await place('JSAPI', sandboxPay);
      const withProductionKey = sandbox.pay({ jsapi: pay.jsapiParams(prepayId) });
      assert.equal(!withProductionKey.ok && withProductionKey.error.code, 'SIGN_INVALID');
      const desc = !withProductionKey.ok ? withProductionKey.error.des : '';
      assert.match(desc, /&key=<sandbox_signkey>"/);
      assert.match(desc, /the sandbox_signkey getsignkey answered/);
      assert.ok(!desc.includes(sandboxKey));
      assert.ok(sandbox.pay({ jsapi: sandboxPay.jsapiParams(prepayId) }).ok);
      assert.equal(await tradeState(outTradeNo), 'SUCCESS');
    } finally {
      await sandboxPay.close();
    }
  });

  test('the bridge’s cross-origin text/plain POST is parsed and readable from any origin', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI');
    const reply = await rawPost(
      `${sandbox.url}/sandbox/v1/pay`,
      JSON.stringify({ jsapi: signedWithWrongKey(pay.jsapiParams(prepayId)) }),
      {
        ca: sandbox.caCert,
        headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'http://shop.example' },
      },
    );
    assert.equal(reply.status, 400);
    assert.equal(reply.headers['access-control-allow-origin'], '*');
    assert.equal(JSON.parse(reply.text).error.code, 'SIGN_INVALID');
    const paid = await rawPost(
      `${sandbox.url}/sandbox/v1/pay`,
      JSON.stringify({ jsapi: pay.jsapiParams(prepayId) }),
      { ca: sandbox.caCert, headers: { 'content-type': 'text/plain;charset=UTF-8' } },
    );
    assert.equal(JSON.parse(paid.text).err_msg, 'get_brand_wcpay_request:ok');
    assert.equal(await tradeState(outTradeNo), 'SUCCESS');
  });

  test('outcome CANCEL: the payer closes the payment sheet; the order stays unpaid and can still be paid', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI');
    const balance = sandbox.ledger(merchant.mchId).balance;
    const canceled = await payWith({ jsapi: pay.jsapiParams(prepayId), outcome: 'CANCEL' });
    assert.equal(canceled.status, 200, JSON.stringify(canceled.json));
    assert.equal(canceled.json.err_msg, 'get_brand_wcpay_request:cancel');
    assert.equal((canceled.json.order as Record<string, unknown>).trade_state, 'NOTPAY');
    await assertNothingPaid(outTradeNo, balance);
    assert.deepEqual(await notified(outTradeNo), []);
    const app = await place('APP');
    const appCanceled = await payWith({ app: pay.appParams(app.prepayId), outcome: 'CANCEL' });
    assert.deepEqual([appCanceled.status, appCanceled.json.errCode], [200, -2]);
    // The payer may come back and pay.
    const paid = await payWith({ jsapi: pay.jsapiParams(prepayId) });
    assert.equal(paid.json.err_msg, 'get_brand_wcpay_request:ok');
    assert.equal(await tradeState(outTradeNo), 'SUCCESS');
    // A sheet is only shown for an order that can be paid, with parameters that check: else it fails.
    const again = await payWith({ jsapi: pay.jsapiParams(prepayId), outcome: 'CANCEL' });
    assert.deepEqual([again.status, again.json.err_msg], [409, 'get_brand_wcpay_request:fail']);
    const forged = await place('JSAPI');
    const bad = await payWith({
      jsapi: signedWithWrongKey(pay.jsapiParams(forged.prepayId)),
      outcome: 'CANCEL',
    });
    assert.equal(bad.json.err_msg, 'get_brand_wcpay_request:fail');
    assert.equal((bad.json.error as Record<string, unknown>).code, 'SIGN_INVALID');
  });

  test('another WeChat user than the order names cannot pay it: 下单账号与支付账号不一致, nothing changes', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI');
    const balance = sandbox.ledger(merchant.mchId).balance;
    const other = await payWith({ jsapi: pay.jsapiParams(prepayId), openid: 'oSomeoneElse000000000000000' });
    assert.equal(other.status, 403, JSON.stringify(other.json));
    assert.equal(other.json.err_msg, 'get_brand_wcpay_request:fail');
    assert.match(String(other.json.err_desc), /下单账号与支付账号不一致/);
    await assertNothingPaid(outTradeNo, balance);
    const same = await payWith({ jsapi: pay.jsapiParams(prepayId), openid: OPENID });
    assert.equal(same.json.err_msg, 'get_brand_wcpay_request:ok');
    assert.equal(await tradeState(outTradeNo), 'SUCCESS');
  });

  test('an unknown outcome is refused, naming the choices', async () => {
    const { outTradeNo, prepayId } = await place('JSAPI');
    const answer = await payWith({ jsapi: pay.jsapiParams(prepayId), outcome: 'MAYBE' });
    assert.equal(answer.status, 400);
    assert.match(
      String((answer.json.error as Record<string, unknown>).message),
      /SUCCESS, PAYERROR, USERPAYING, CANCEL/,
    );
    assert.equal(await tradeState(outTradeNo), 'NOTPAY');
  });

  test('GET /sandbox/v1/bridge.js?outcome=&openid= choose what the bridge’s payer does and who it is; bad values are a 400', async () => {
    for (const [asked, baked] of [
      ['cancel', 'CANCEL'],
      ['PAYERROR', 'PAYERROR'],
      ['ask', 'ASK'],
    ]) {
      const served = await control(sandbox, 'GET', `/sandbox/v1/bridge.js?outcome=${asked}`);
      assert.equal(served.status, 200);
      const script = String(served.json.text);
      assert.doesNotThrow(() => new Script(script));
      assert.ok(script.includes(`var OUTCOME = "${baked}";`), asked);
    }
    const refused = await control(sandbox, 'GET', '/sandbox/v1/bridge.js?outcome=USERPAYING');
    assert.equal(refused.status, 400);
    assert.match(String(refused.json.text), /outcome must be one of SUCCESS, PAYERROR, CANCEL, ASK/);
    const someone = await control(sandbox, 'GET', '/sandbox/v1/bridge.js?openid=oSomeoneElse');
    assert.ok(String(someone.json.text).includes('var PAYER = "oSomeoneElse";'));
    assert.ok(
      String((await control(sandbox, 'GET', '/sandbox/v1/bridge.js')).json.text).includes(
        'var PAYER = null;',
      ),
    );
    const badOpenid = await control(sandbox, 'GET', '/sandbox/v1/bridge.js?openid=%22%3Balert(1)%2F%2F');
    assert.equal(badOpenid.status, 400);
    assert.match(String(badOpenid.json.text), /openid must be/);
  });

  test('GET /sandbox/v1/bridge.js is a script that defines WeixinJSBridge and posts back to this sandbox', async () => {
    const served = await control(sandbox, 'GET', '/sandbox/v1/bridge.js');
    assert.equal(served.status, 200);
    const script = String(served.json.text);
    assert.doesNotThrow(() => new Script(script), 'the bridge parses as JavaScript');
    assert.ok(script.includes(JSON.stringify(`${sandbox.url}/sandbox/v1/pay`)));
    assert.match(script, /window\.WeixinJSBridge = /);
    assert.match(script, /'WeixinJSBridgeReady'/);
  });
});
