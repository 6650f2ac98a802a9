// Payment endpoints driven through @wxpay/sdk over HTTPS with mutual TLS.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BusinessError, type WechatPay } from '@wxpay/sdk';
import type { Merchant, Sandbox } from '../src/index.ts';
import { compactTime } from '../src/time.ts';
import {
  control,
  FROM_SHOP,
  getPage,
  type NotifySink,
  rawPost,
  signedXml,
  startPaying,
  tradeNo,
} from './support.ts';

describe('payments', () => {
  let sandbox: Sandbox;
  let merchant: Merchant;
  let pay: WechatPay;
  let hmac: WechatPay;
  let sink: NotifySink;

  let close: () => Promise<void>;

  before(async () => {
    ({ sandbox, merchant, pay, hmac, sink, close } = await startPaying());
  });
  after(() => close());

  const order = (extra: Record<string, string | number> = {}) => ({
    body: 'sandbox test',
    out_trade_no: tradeNo(),
    total_fee: 101,
    spbill_create_ip: '127.0.0.1',
    trade_type: 'NATIVE' as const,
    product_id: 'sku-1',
    notify_url: sink.url,
    ...extra,
  });

  test('a NATIVE order paid through the control API is SUCCESS and its notify verifies with the SDK', async () => {
    const params = order();
    const placed = await pay.unifiedOrder(params);
    assert.match(placed.code_url ?? '', /^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/);
    assert.match(placed.prepay_id ?? '', /^wx\d{14}/);
    assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'NOTPAY');

    const paid = await control(sandbox, 'POST', '/sandbox/v1/pay', { code_url: placed.code_url });
    assert.equal(paid.status, 200);
    const queried = await pay.orderQuery({ out_trade_no: params.out_trade_no });
    assert.equal(queried.trade_state, 'SUCCESS');
    assert.equal(queried.total_fee, '101');
    assert.match(queried.transaction_id ?? '', /^\d{28}$/);

    await sandbox.clock.advance(0);
    const notify = sink.received.find((n) => n.body.includes(params.out_trade_no));
    assert.ok(notify, 'a payment notify was POSTed');
    const verified = pay.parsePaymentNotify(notify.body);
    assert.equal(verified.out_trade_no, params.out_trade_no);
    assert.equal(verified.transaction_id, queried.transaction_id);
  });

  test('an HMAC-SHA256 order gets an HMAC-signed reply and an HMAC-signed notify without sign_type', async () => {
    const params = order();
    const placed = await hmac.unifiedOrder(params);
    assert.equal(placed.sign?.length, 64);
    assert.ok(sandbox.pay({ prepay_id: placed.prepay_id }).ok);
    await sandbox.clock.advance(0);
    const notify = sink.received.find((n) => n.body.includes(params.out_trade_no));
    assert.ok(notify);
    assert.ok(!notify.body.includes('sign_type'));
    assert.equal(hmac.parsePaymentNotify(notify.body).sign.length, 64);
  });

  test('resending the same order returns the same prepay_id; changing it is refused', async () => {
    const params = order();
    const first = await pay.unifiedOrder(params);
    const again = await pay.unifiedOrder(params);
    assert.equal(again.prepay_id, first.prepay_id);
    await assert.rejects(pay.unifiedOrder({ ...params, total_fee: 102 }), (e: unknown) => {
      return e instanceof BusinessError && e.errCode === 'INVALID_REQUEST';
    });
  });

  test('a prepay lasts 2 hours whatever time_expire says; the same unifiedorder then issues a new one for the same order', async () => {
    const params = order({ time_expire: compactTime(sandbox.clock.now() + 24 * 3600_000) });
    const first = await pay.unifiedOrder(params);
    await sandbox.clock.advance(2 * 3600 - 60);
    assert.equal(
      (await pay.unifiedOrder(params)).prepay_id,
      first.prepay_id,
      'still the same within 2 hours',
    );
    await sandbox.clock.advance(61);
    for (const target of [{ code_url: first.code_url }, { prepay_id: first.prepay_id }]) {
      const refused = sandbox.pay(target);
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.error.code, 'PREPAY_EXPIRED');
      assert.match(!refused.ok ? refused.error.des : '', /该订单已过期，请重新下单.*unifiedorder again/);
    }
    assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'NOTPAY');

    const renewed = await pay.unifiedOrder(params);
    assert.notEqual(renewed.prepay_id, first.prepay_id);
    assert.notEqual(renewed.code_url, first.code_url);
    const old = sandbox.pay({ code_url: first.code_url });
    assert.equal(!old.ok && old.error.code, 'PREPAY_EXPIRED', 'a replaced prepay stays expired');
    assert.ok(sandbox.pay({ code_url: renewed.code_url }).ok);
    const paid = await pay.orderQuery({ out_trade_no: params.out_trade_no });
    assert.equal(paid.trade_state, 'SUCCESS');
    await assert.rejects(
      pay.unifiedOrder(params),
      (e: unknown) => e instanceof BusinessError && e.errCode === 'ORDERPAID',
    );
  });

  test('a paid order cannot be placed again nor closed (ORDERPAID)', async () => {
    const params = order();
    const placed = await pay.unifiedOrder(params);
    sandbox.pay({ prepay_id: placed.prepay_id });
    await assert.rejects(
      pay.unifiedOrder(params),
      (e: unknown) => e instanceof BusinessError && e.errCode === 'ORDERPAID',
    );
    await sandbox.clock.advance(301);
    await assert.rejects(
      pay.closeOrder({ out_trade_no: params.out_trade_no }),
      (e: unknown) => e instanceof BusinessError && e.errCode === 'ORDERPAID',
    );
  });

  test('closeorder is refused in the first five minutes and works after', async () => {
    const params = order();
    await pay.unifiedOrder(params);
    await assert.rejects(pay.closeOrder({ out_trade_no: params.out_trade_no }), /5分钟/);
    await sandbox.clock.advance(300);
    await pay.closeOrder({ out_trade_no: params.out_trade_no });
    assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'CLOSED');
    const late = await control(sandbox, 'POST', '/sandbox/v1/pay', {
      mch_id: merchant.mchId,
      out_trade_no: params.out_trade_no,
    });
    assert.equal(late.status, 409);
    await assert.rejects(
      pay.unifiedOrder(params),
      (e: unknown) => e instanceof BusinessError && e.errCode === 'ORDERCLOSED',
    );
  });

  test('orderquery of an unknown order is ORDERNOTEXIST', async () => {
    await assert.rejects(
      pay.orderQuery({ out_trade_no: tradeNo('none') }),
      (e: unknown) => e instanceof BusinessError && e.errCode === 'ORDERNOTEXIST',
    );
  });

  test('JSAPI without openid is PARAM_ERROR even when the client does not check', async () => {
    const xml = signedXml(
      {
        appid: merchant.appid,
        mch_id: merchant.mchId,
        body: 'x',
        out_trade_no: tradeNo(),
        total_fee: '1',
        spbill_create_ip: '127.0.0.1',
        notify_url: sink.url,
        trade_type: 'JSAPI',
      },
      merchant.key,
    );
    const reply = await rawPost(`${sandbox.url}/pay/unifiedorder`, xml, { ca: sandbox.caCert });
    assert.equal(reply.fields?.return_code, 'SUCCESS');
    assert.equal(reply.fields?.result_code, 'FAIL');
    assert.equal(reply.fields?.err_code, 'PARAM_ERROR');
    assert.ok(pay.verify(reply.fields ?? {}), 'result_code FAIL replies are signed too');
  });

  test('JSAPI keeps the payer openid; PAYERROR and USERPAYING outcomes show in orderquery', async () => {
    const params = order({ trade_type: 'JSAPI', openid: 'oPayer123' });
    const placed = await pay.unifiedOrder(params);
    const waiting = await control(sandbox, 'POST', '/sandbox/v1/pay', {
      prepay_id: placed.prepay_id,
      outcome: 'USERPAYING',
    });
    assert.equal(waiting.status, 200);
    assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'USERPAYING');
    await control(sandbox, 'POST', '/sandbox/v1/pay', { prepay_id: placed.prepay_id, outcome: 'PAYERROR' });
    assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'PAYERROR');

    const other = order({ trade_type: 'JSAPI', openid: 'oPayer456' });
    const placed2 = await pay.unifiedOrder(other);
    sandbox.pay({ prepay_id: placed2.prepay_id }, { openid: 'oSomeoneElse' });
    assert.equal((await pay.orderQuery({ out_trade_no: other.out_trade_no })).openid, 'oPayer456');
  });

  test('MWEB orders get an mweb_url on the sandbox whose page pays the order', async () => {
    const params = order({ trade_type: 'MWEB', scene_info: '{"h5_info":{"type":"Wap"}}' });
    const placed = await pay.unifiedOrder(params);
    assert.ok(placed.mweb_url?.startsWith(`${sandbox.url}/sandbox/pay?prepay_id=`));
    const page = await getPage(placed.mweb_url!, sandbox.caCert, FROM_SHOP);
    assert.match(page.text, /Confirm payment/);
    assert.match(page.text, /¥1\.01/);
    const paid = await control(sandbox, 'POST', '/sandbox/v1/pay', { mweb_url: placed.mweb_url });
    assert.equal((paid.json.order as { trade_state: string }).trade_state, 'SUCCESS');
  });

  describe('an mweb_url lasts 5 minutes', () => {
    const FIVE_MINUTES_S = 5 * 60;
    const h5 = (extra: Record<string, string> = {}) =>
      order({ trade_type: 'MWEB', scene_info: '{"h5_info":{"type":"Wap"}}', ...extra });
    const refusedAsExpired = (mwebUrl: string | undefined) => {
      const refused = sandbox.pay({ mweb_url: mwebUrl });
      assert.equal(!refused.ok && refused.error.code, 'MWEB_URL_EXPIRED');
      assert.match(
        !refused.ok ? refused.error.des : '',
        /^支付请求已失效，请重新发起支付: .*5 minutes.*unifiedorder again with the same out_trade_no/,
      );
    };

    test('an mweb_url opened after 5 minutes is refused, and a resent unifiedorder gives one that pays', async () => {
      const params = h5();
      const first = await pay.unifiedOrder(params);
      await sandbox.clock.advance(FIVE_MINUTES_S - 10);
      assert.match(
        (await getPage(first.mweb_url!, sandbox.caCert, FROM_SHOP)).text,
        /Confirm payment/,
        'still open',
      );
      await sandbox.clock.advance(10);
      const late = await getPage(
        `${first.mweb_url}&redirect_url=https%3A%2F%2Fshop.example%2Fdone`,
        sandbox.caCert,
        FROM_SHOP,
      );
      assert.equal(late.status, 409);
      assert.match(late.text, /支付请求已失效，请重新发起支付/);
      assert.doesNotMatch(late.text, /Confirm payment/);
      refusedAsExpired(first.mweb_url);
      assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'NOTPAY');

      const renewed = await pay.unifiedOrder(params);
      assert.equal(renewed.prepay_id, first.prepay_id, 'the same prepay: it has its 2 hours');
      assert.notEqual(renewed.mweb_url, first.mweb_url);
      const page = await getPage(
        `${renewed.mweb_url}&redirect_url=https%3A%2F%2Fshop.example%2Fdone`,
        sandbox.caCert,
        FROM_SHOP,
      );
      assert.equal(page.status, 200);
      assert.match(page.text, /Confirm payment/);
      assert.ok(sandbox.pay({ mweb_url: renewed.mweb_url }).ok);
      assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'SUCCESS');
    });

    test('within its 5 minutes a resent unifiedorder answers the same mweb_url; a replaced one stays refused while the prepay_id pays for 2 hours', async () => {
      const params = h5();
      const first = await pay.unifiedOrder(params);
      await sandbox.clock.advance(FIVE_MINUTES_S - 60);
      assert.equal((await pay.unifiedOrder(params)).mweb_url, first.mweb_url);
      await sandbox.clock.advance(60);
      const renewed = await pay.unifiedOrder(params);
      assert.notEqual(renewed.mweb_url, first.mweb_url);
      // Replaced, not unknown: the payer sees the expired page, not 订单不存在.
      const old = await getPage(first.mweb_url!, sandbox.caCert, FROM_SHOP);
      assert.equal(old.status, 409);
      assert.match(old.text, /支付请求已失效/);
      refusedAsExpired(first.mweb_url);
      assert.equal(
        (await pay.unifiedOrder(params)).mweb_url,
        renewed.mweb_url,
        'the new one is kept 5 minutes',
      );

      await sandbox.clock.advance(2 * 3600 - FIVE_MINUTES_S - 60);
      refusedAsExpired(renewed.mweb_url);
      assert.ok(sandbox.pay({ prepay_id: first.prepay_id }).ok, 'the prepay_id still has its 2 hours');
      assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'SUCCESS');
    });

    test("after the prepay's 2 hours a resent unifiedorder gives a new prepay_id and mweb_url; the old ones stay refused", async () => {
      const params = h5({ time_expire: compactTime(sandbox.clock.now() + 24 * 3600_000) });
      const first = await pay.unifiedOrder(params);
      await sandbox.clock.advance(2 * 3600);
      const renewed = await pay.unifiedOrder(params);
      assert.notEqual(renewed.prepay_id, first.prepay_id);
      assert.ok(renewed.mweb_url?.includes(`prepay_id=${renewed.prepay_id}&`));
      refusedAsExpired(first.mweb_url);
      assert.equal((await getPage(first.mweb_url!, sandbox.caCert, FROM_SHOP)).status, 409);
      const oldPrepay = sandbox.pay({ prepay_id: first.prepay_id });
      assert.equal(!oldPrepay.ok && oldPrepay.error.code, 'PREPAY_EXPIRED');
      assert.ok(sandbox.pay({ mweb_url: renewed.mweb_url }).ok);
    });

    test('a code_url of a NATIVE order still pays after 5 minutes: the 5 minutes are MWEB only', async () => {
      const params = order();
      const first = await pay.unifiedOrder(params);
      await sandbox.clock.advance(30 * 60);
      const again = await pay.unifiedOrder(params);
      assert.equal(again.code_url, first.code_url);
      assert.equal(again.prepay_id, first.prepay_id);
      assert.match(
        (
          await getPage(
            `${sandbox.url}/sandbox/pay?code_url=${encodeURIComponent(first.code_url!)}`,
            sandbox.caCert,
          )
        ).text,
        /Confirm payment/,
      );
      assert.ok(sandbox.pay({ code_url: first.code_url }).ok);
    });
  });

  describe("an mweb_url's page checks who sent the payer, as WeChat's H5 page does", () => {
    const h5 = () => order({ trade_type: 'MWEB', scene_info: '{"h5_info":{"type":"Wap"}}' });
    const registerH5Domains = async (h5_domains: string[]) => {
      const set = await control(sandbox, 'PUT', `/sandbox/v1/merchants/${merchant.mchId}/h5_domains`, {
        h5_domains,
      });
      assert.equal(set.status, 200, JSON.stringify(set.json));
      assert.deepEqual(set.json.h5_domains, h5_domains);
    };
    const tradeState = async (out_trade_no: string) => (await pay.orderQuery({ out_trade_no })).trade_state;

    test('an mweb_url opened with no Referer shows 商家参数格式有误 and says what to fix', async () => {
      const params = h5();
      const placed = await pay.unifiedOrder(params);
      const page = await getPage(
        `${placed.mweb_url}&redirect_url=https%3A%2F%2Fshop.example%2Fdone`,
        sandbox.caCert,
      );
      assert.equal(page.status, 403);
      assert.match(page.text, /<h1 data-testid="refused">商家参数格式有误，请联系商家解决<\/h1>/);
      assert.match(
        page.text,
        /the page that sent the payer here sent no Referer: navigate from your registered H5 domain \(check Referrer-Policy \/ &lt;meta name=referrer&gt;; no-referrer breaks H5 payment\)/,
      );
      assert.doesNotMatch(page.text, /Confirm payment/);
      // An empty header is no Referer either, and the sandbox's own page by mweb_url is the same H5 page.
      assert.equal((await getPage(placed.mweb_url!, sandbox.caCert, { referer: '' })).status, 403);
      const byParam = `${sandbox.url}/sandbox/pay?mweb_url=${encodeURIComponent(placed.mweb_url!)}`;
      assert.match((await getPage(byParam, sandbox.caCert)).text, /商家参数格式有误/);
      // The control API refuses the same when told what the browser sent, and pays nothing.
      const told = await control(sandbox, 'POST', '/sandbox/v1/pay', {
        mweb_url: placed.mweb_url,
        referer: '',
      });
      assert.equal(told.status, 403);
      assert.equal((told.json.error as { code: string }).code, 'MWEB_REFERER_MISSING');
      assert.equal(await tradeState(params.out_trade_no), 'NOTPAY');
      // Without `referer` it plays a payer who got past the page, as before.
      const paid = await control(sandbox, 'POST', '/sandbox/v1/pay', { mweb_url: placed.mweb_url });
      assert.equal(paid.status, 200, JSON.stringify(paid.json));
      assert.equal(await tradeState(params.out_trade_no), 'SUCCESS');
    });

    test('an mweb_url opened from a host that is not a registered H5 domain is refused, naming it', async () => {
      await registerH5Domains(['shop.example']);
      try {
        const params = h5();
        const placed = await pay.unifiedOrder(params);
        for (const referer of [
          'https://evil.example/cart',
          'https://notshop.example/',
          'https://shop.example.net/',
        ]) {
          const page = await getPage(placed.mweb_url!, sandbox.caCert, { referer });
          const host = new URL(referer).hostname;
          assert.equal(page.status, 403, referer);
          assert.match(page.text, /<h1 data-testid="refused">商家存在未配置的参数，请联系商家解决<\/h1>/);
          assert.match(page.text, new RegExp(`the payer came from ${host.replaceAll('.', '\\.')} `), referer);
          assert.match(page.text, /H5 payment domains are shop\.example/);
          assert.match(page.text, /H5支付域名/, 'says where to register it');
          assert.doesNotMatch(page.text, /Confirm payment/);
        }
        // From the registered domain, but sending the payer back to another one: WeChat checks redirect_url too.
        const away = await getPage(
          `${placed.mweb_url}&redirect_url=https%3A%2F%2Fcdn.other.example%2Fdone`,
          sandbox.caCert,
          FROM_SHOP,
        );
        assert.equal(away.status, 403);
        assert.match(
          away.text,
          /the redirect_url&#39;s host cdn\.other\.example is not a registered H5 payment domain/,
        );
        const told = await control(sandbox, 'POST', '/sandbox/v1/pay', {
          mweb_url: placed.mweb_url,
          referer: 'https://evil.example/',
        });
        assert.equal((told.json.error as { code: string }).code, 'MWEB_DOMAIN_NOT_REGISTERED');
        assert.equal(await tradeState(params.out_trade_no), 'NOTPAY');
      } finally {
        await registerH5Domains([]);
      }
    });

    test('an mweb_url opened from the registered domain pays', async () => {
      await registerH5Domains(['shop.example']);
      try {
        const listed = await control(sandbox, 'GET', '/sandbox/v1/merchants');
        const merchants = listed.json.merchants as Array<{ mch_id: string; h5_domains: string[] }>;
        assert.deepEqual(merchants.find((m) => m.mch_id === merchant.mchId)?.h5_domains, ['shop.example']);
        const params = h5();
        const placed = await pay.unifiedOrder(params);
        const mwebUrl = `${placed.mweb_url}&redirect_url=https%3A%2F%2Fshop.example%2Fdone`;
        // The registered domain, any path on it, and its subdomains (a registered domain covers them).
        for (const referer of [
          'https://shop.example/',
          'https://shop.example/cart?o=1',
          'https://pay.SHOP.example/',
        ]) {
          const page = await getPage(mwebUrl, sandbox.caCert, { referer });
          assert.equal(page.status, 200, referer);
          assert.match(page.text, /Confirm payment/);
        }
        // What the page's Confirm button sends: the same mweb_url and the Referer the page was opened with.
        const paid = await control(sandbox, 'POST', '/sandbox/v1/pay', { mweb_url: mwebUrl, ...FROM_SHOP });
        assert.equal(paid.status, 200, JSON.stringify(paid.json));
        assert.equal(await tradeState(params.out_trade_no), 'SUCCESS');
      } finally {
        await registerH5Domains([]);
      }
    });

    test('H5 domains are hosts: a URL or a port is refused and nothing changes', async () => {
      for (const bad of ['https://shop.example/pay', 'shop.example:8443', '', 42]) {
        const set = await control(sandbox, 'PUT', `/sandbox/v1/merchants/${merchant.mchId}/h5_domains`, {
          h5_domains: [bad],
        });
        assert.equal(set.status, 400, JSON.stringify(bad));
        assert.match((set.json.error as { message: string }).message, /is not a host/);
      }
      const notList = await control(sandbox, 'PUT', `/sandbox/v1/merchants/${merchant.mchId}/h5_domains`, {
        h5_domains: 'shop.example',
      });
      assert.equal(notList.status, 400);
      const unknown = await control(sandbox, 'PUT', '/sandbox/v1/merchants/1900000000/h5_domains', {
        h5_domains: [],
      });
      assert.equal(unknown.status, 404);
      assert.equal(merchant.h5Domains, undefined, 'still none registered');
    });
  });

  test('micropay charges a payment code once; a used code is AUTHCODEEXPIRE', async () => {
    const code = await control(sandbox, 'POST', '/sandbox/v1/payment_codes', { openid: 'oMicro' });
    const authCode = code.json.auth_code as string;
    assert.match(authCode, /^1[0-5]\d{16}$/);
    const params = {
      body: 'till',
      out_trade_no: tradeNo(),
      total_fee: 500,
      spbill_create_ip: '127.0.0.1',
      auth_code: authCode,
    };
    const paid = await pay.micropay(params);
    assert.equal(paid.trade_type, 'MICROPAY');
    assert.equal(paid.openid, 'oMicro');
    const resent = await pay.micropay(params);
    assert.equal(resent.transaction_id, paid.transaction_id, 'a resend reports the same payment');
    await assert.rejects(
      pay.micropay({ ...params, out_trade_no: tradeNo() }),
      (e: unknown) => e instanceof BusinessError && e.errCode === 'AUTHCODEEXPIRE',
    );
  });

  /** A raw micropay request for 3 yuan with a fresh payment code. */
  const tillOrder = () => ({
    appid: merchant.appid,
    mch_id: merchant.mchId,
    body: 'till',
    out_trade_no: tradeNo(),
    total_fee: '300',
    spbill_create_ip: '127.0.0.1',
    auth_code: sandbox.paymentCode().auth_code,
  });

  test('Wechatpay-Negative-Test MICROPAY_USERPAYING answers USERPAYING, then the order completes', async () => {
    const fields = tillOrder();
    const reply = await rawPost(`${sandbox.url}/pay/micropay`, signedXml(fields, merchant.key), {
      ca: sandbox.caCert,
      headers: { 'Wechatpay-Negative-Test': 'MICROPAY_USERPAYING' },
    });
    assert.equal(reply.fields?.err_code, 'USERPAYING');
    assert.equal((await pay.orderQuery({ out_trade_no: fields.out_trade_no })).trade_state, 'USERPAYING');
    await sandbox.clock.advance(10);
    assert.equal((await pay.orderQuery({ out_trade_no: fields.out_trade_no })).trade_state, 'SUCCESS');
  });

  test('Wechatpay-Negative-Test MICROPAY_TIMEOUT never answers, but the payment went through', async () => {
    const fields = tillOrder();
    await assert.rejects(
      rawPost(`${sandbox.url}/pay/micropay`, signedXml(fields, merchant.key), {
        ca: sandbox.caCert,
        headers: { 'Wechatpay-Negative-Test': 'MICROPAY_TIMEOUT' },
        timeoutMs: 300,
      }),
      /client timeout/,
    );
    assert.equal((await pay.orderQuery({ out_trade_no: fields.out_trade_no })).trade_state, 'SUCCESS');
  });

  test('reverse revokes a paid micropay order and gives the money back', async () => {
    const before = sandbox.ledger(merchant.mchId).balance;
    const { auth_code } = sandbox.paymentCode();
    const params = {
      body: 'till',
      out_trade_no: tradeNo(),
      total_fee: 700,
      spbill_create_ip: '127.0.0.1',
      auth_code,
    };
    await pay.micropay(params);
    assert.equal(sandbox.ledger(merchant.mchId).balance, before + 700);
    const reversed = await pay.reverse({ out_trade_no: params.out_trade_no });
    assert.equal(reversed.recall, 'N');
    assert.equal((await pay.orderQuery({ out_trade_no: params.out_trade_no })).trade_state, 'REVOKED');
    assert.equal(sandbox.ledger(merchant.mchId).balance, before);
  });

  test('getsignkey answers an unsigned sandbox_signkey', async () => {
    const reply = await pay.getSignKey();
    assert.match(reply.sandbox_signkey ?? '', /^[0-9a-f]{32}$/);
    assert.equal(reply.sign, undefined);
  });
});
