// WechatPayApi, the drop-in for the `wechat-pay-api` package: its documented options and methods,
// callbacks and Promises, missing options, result_code FAIL, and the CommonJS default export.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import DefaultExport from '@wxpay/sdk/wechat-pay-api';
import {
  BusinessError,
  CertificateError,
  ConfigError,
  ProtocolError,
  RequestValidationError,
  verifySign,
  WechatPayApi,
  WechatPayApiError,
  type WechatPayApiOptions,
} from '../src/index.ts';
import {
  MERCHANT,
  type MockWechat,
  signedReply,
  startMockWechat,
  unsignedReply,
} from './support/mock-wechat.ts';

let mock: MockWechat;
let api: WechatPayApi;

function optionsFor(extra: Partial<WechatPayApiOptions> = {}): WechatPayApiOptions {
  return {
    wxappid: MERCHANT.appid,
    mch_id: MERCHANT.mchId,
    key: MERCHANT.key,
    pfx: mock.clientCert.pfx,
    client_ip: '203.0.113.7',
    baseUrl: mock.url,
    ca: mock.ca.certPem,
    ...extra,
  };
}

/** Calls a method with a Node callback and resolves with what the callback received. */
function viaCallback<T = Record<string, unknown>>(
  start: (callback: (err: Error | null, result?: NoInfer<T>) => void) => unknown,
) {
  return new Promise<{ err: Error | null; result: T | undefined; returned: unknown }>((resolve) => {
    let returned: unknown;
    returned = start((err, result) => resolve({ err, result, returned }));
  });
}

const redpack = {
  send_name: '商户',
  re_openid: 'oUser1',
  total_amount: 100,
  total_num: 1,
  wishing: '恭喜发财',
  act_name: '活动',
  remark: '备注',
};

before(async () => {
  mock = await startMockWechat();
  api = new WechatPayApi(optionsFor());
  mock.on('/mmpaymkttransfers/promotion/transfers', (req) => ({
    body: unsignedReply({
      mch_appid: MERCHANT.appid,
      mchid: MERCHANT.mchId,
      partner_trade_no: req.fields.partner_trade_no ?? '',
      payment_no: 'PAY1',
      payment_time: '2026-11-21 10:00:00',
    }),
  }));
  mock.on('/mmpaymkttransfers/gettransferinfo', (req) => ({
    body: unsignedReply({
      partner_trade_no: req.fields.partner_trade_no ?? '',
      detail_id: 'D1',
      status: 'PROCESSING',
      reason: '',
      openid: 'oUser1',
      transfer_time: '2026-11-21 10:00:00',
    }),
  }));
  for (const path of ['/mmpaymkttransfers/sendredpack', '/mmpaymkttransfers/sendgroupredpack']) {
    mock.on(path, (req) => ({
      body: unsignedReply({
        mch_billno: req.fields.mch_billno ?? '',
        re_openid: req.fields.re_openid ?? '',
        total_amount: req.fields.total_amount ?? '',
        send_listid: 'LIST1',
      }),
    }));
  }
  mock.on('/mmpaymkttransfers/gethbinfo', () => ({
    body:
      '<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><detail_id>D2</detail_id>' +
      '<status>RECEIVED</status><send_type>API</send_type><hb_type>NORMAL</hb_type><total_num>1</total_num>' +
      '<total_amount>100</total_amount><send_time>t</send_time><wishing>w</wishing>' +
      '<hblist><hbinfo><openid>oUser1</openid><amount>100</amount><rcv_time>t2</rcv_time></hbinfo></hblist></xml>',
  }));
  mock.on('/mmpaymkttransfers/send_coupon', (req) => ({
    body: signedReply({
      coupon_stock_id: req.fields.coupon_stock_id ?? '',
      ret_code: 'SUCCESS',
      coupon_id: 'C1',
    }),
  }));
  mock.on('/mmpaymkttransfers/query_coupon_stock', (req) => ({
    body: signedReply({
      coupon_stock_id: req.fields.coupon_stock_id ?? '',
      coupon_name: '券',
      coupon_total: '10',
    }),
  }));
  mock.on('/mmpaymkttransfers/querycouponsinfo', (req) => ({
    body: signedReply({ coupon_id: req.fields.coupon_id ?? '', coupon_state: 'USED' }),
  }));
});
after(async () => {
  await api.close();
  await mock.close();
});
beforeEach(() => {
  mock.requests.length = 0;
});

describe('WechatPayApi: the documented methods', () => {
  test('payToUser with a callback: amount, desc, NO_CHECK, spbill_create_ip = client_ip, mch_appid + mchid', async () => {
    const { err, result, returned } = await viaCallback((cb) =>
      api.payToUser({ openid: 'oUser1', amount: 100, desc: '测试付款' }, cb),
    );
    assert.equal(err, null);
    assert.equal(returned, undefined, 'no promise when a callback is given');
    const sent = mock.requests[0]?.fields ?? {};
    assert.ok(verifySign(sent, MERCHANT.key));
    assert.equal(mock.requests[0]?.clientCn, MERCHANT.mchId);
    assert.equal(sent.mch_appid, MERCHANT.appid);
    assert.equal(sent.mchid, MERCHANT.mchId);
    assert.equal(sent.amount, '100');
    assert.equal(sent.desc, '测试付款');
    assert.equal(sent.check_name, 'NO_CHECK');
    assert.equal(sent.spbill_create_ip, '203.0.113.7');
    assert.equal(sent.sign_type, undefined);
    assert.match(sent.partner_trade_no ?? '', /^[A-Za-z0-9]{32}$/);
    assert.equal(result?.return_code, 'SUCCESS');
    assert.equal(result?.result_code, 'SUCCESS');
    assert.equal(result?.partner_trade_no, sent.partner_trade_no);
    assert.equal(result?.payment_no, 'PAY1');
    assert.equal(result?.payment_time, '2026-11-21 10:00:00');
  });

  test('payToUser returns a Promise without a callback, and FORCE_CHECK sends re_user_name', async () => {
    const result = await api.payToUser({
      openid: 'o',
      amount: 100,
      desc: 'd',
      check_name: 'FORCE_CHECK',
      re_user_name: '张三',
      device_info: 'dev1',
    });
    assert.equal(result.payment_no, 'PAY1');
    assert.equal(mock.requests[0]?.fields.re_user_name, '张三');
    assert.equal(mock.requests[0]?.fields.check_name, 'FORCE_CHECK');
    assert.equal(mock.requests[0]?.fields.device_info, 'dev1');
  });

  test('getTransferInfo', async () => {
    const result = await api.getTransferInfo({ partner_trade_no: 'T1' });
    const sent = mock.requests[0]?.fields ?? {};
    assert.equal(sent.partner_trade_no, 'T1');
    assert.equal(sent.appid, MERCHANT.appid);
    assert.equal(sent.mch_id, MERCHANT.mchId);
    assert.equal(result.detail_id, 'D1');
    assert.equal(result.status, 'PROCESSING');
    assert.equal(result.openid, 'oUser1');
    assert.equal(result.transfer_time, '2026-11-21 10:00:00');
  });

  test('sendRedpack sends wxappid, client_ip and a 28-character mch_billno', async () => {
    const { err, result } = await viaCallback((cb) =>
      api.sendRedpack({ ...redpack, risk_info: 'posttime%3D1' }, cb),
    );
    assert.equal(err, null);
    const sent = mock.requests[0]?.fields ?? {};
    assert.equal(mock.requests[0]?.path, '/mmpaymkttransfers/sendredpack');
    assert.ok(verifySign(sent, MERCHANT.key));
    assert.equal(sent.wxappid, MERCHANT.appid);
    assert.equal(sent.mch_id, MERCHANT.mchId);
    assert.equal(sent.client_ip, '203.0.113.7');
    assert.equal(sent.risk_info, 'posttime%3D1');
    assert.match(sent.mch_billno ?? '', new RegExp(`^${MERCHANT.mchId}\\d{18}$`));
    assert.equal(result?.re_openid, 'oUser1');
    assert.equal(result?.total_amount, '100');
    assert.equal(result?.send_listid, 'LIST1');
  });

  test('sendGroupRedpack defaults amt_type to ALL_RAND', async () => {
    const result = await api.sendGroupRedpack({ ...redpack, total_amount: 300, total_num: 3 });
    const sent = mock.requests[0]?.fields ?? {};
    assert.equal(mock.requests[0]?.path, '/mmpaymkttransfers/sendgroupredpack');
    assert.equal(sent.amt_type, 'ALL_RAND');
    assert.equal(sent.wxappid, MERCHANT.appid);
    assert.equal(result.send_listid, 'LIST1');
  });

  test('getRedpackInfo returns hblist as an array', async () => {
    const result = await api.getRedpackInfo({ mch_billno: 'B1' });
    assert.equal(mock.requests[0]?.fields.bill_type, 'MCHT');
    assert.equal(result.status, 'RECEIVED');
    assert.equal(result.hb_type, 'NORMAL');
    assert.deepEqual(result.hblist, [{ openid: 'oUser1', amount: '100', rcv_time: 't2' }]);
  });

  test('sendCoupon defaults op_user_id to mch_id', async () => {
    const { err, result } = await viaCallback((cb) =>
      api.sendCoupon({ coupon_stock_id: 'S1', openid: 'o' }, cb),
    );
    assert.equal(err, null);
    const sent = mock.requests[0]?.fields ?? {};
    assert.equal(sent.op_user_id, MERCHANT.mchId);
    assert.equal(sent.openid_count, '1');
    assert.equal(result?.coupon_id, 'C1');
  });

  test('queryCouponStock and queryCouponsInfo', async () => {
    const stock = await api.queryCouponStock({
      coupon_stock_id: 'S1',
      op_user_id: 'op1',
      device_info: 'dev',
    });
    assert.equal(mock.requests[0]?.fields.op_user_id, 'op1');
    assert.equal(stock.coupon_name, '券');
    const { result } = await viaCallback((cb) =>
      api.queryCouponsInfo({ coupon_id: 'C1', openid: 'o', stock_id: 'S1' }, cb),
    );
    assert.equal(mock.requests[1]?.fields.stock_id, 'S1');
    assert.equal(result?.coupon_state, 'USED');
  });
});

describe('WechatPayApi: failures', () => {
  const missing: Array<[string, (cb?: never) => unknown, string]> = [
    ['payToUser', (cb) => api.payToUser({ amount: 100, desc: 'd' } as never, cb as never), 'openid'],
    ['payToUser', (cb) => api.payToUser({ openid: 'o', desc: 'd' } as never, cb as never), 'amount'],
    [
      'payToUser',
      (cb) => api.payToUser({ openid: 'o', amount: 1, desc: 'd', check_name: 'FORCE_CHECK' }, cb as never),
      're_user_name',
    ],
    ['getTransferInfo', (cb) => api.getTransferInfo({} as never, cb as never), 'partner_trade_no'],
    [
      'sendRedpack',
      (cb) => api.sendRedpack({ ...redpack, act_name: undefined } as never, cb as never),
      'act_name',
    ],
    ['sendRedpack', (cb) => api.sendRedpack({ ...redpack, total_amount: 20_001 }, cb as never), 'scene_id'],
    ['sendGroupRedpack', (cb) => api.sendGroupRedpack({ ...redpack, wishing: '' }, cb as never), 'wishing'],
    ['getRedpackInfo', (cb) => api.getRedpackInfo({} as never, cb as never), 'mch_billno'],
    ['sendCoupon', (cb) => api.sendCoupon({ openid: 'o' } as never, cb as never), 'coupon_stock_id'],
    ['queryCouponStock', (cb) => api.queryCouponStock({} as never, cb as never), 'coupon_stock_id'],
    [
      'queryCouponsInfo',
      (cb) => api.queryCouponsInfo({ coupon_id: 'c', openid: 'o' } as never, cb as never),
      'stock_id',
    ],
  ];
  for (const [method, call, option] of missing) {
    test(`${method} without ${option} fails through the callback and the promise, sending nothing`, async () => {
      const { err } = await viaCallback((cb) => call(cb as never));
      assert.ok(err instanceof RequestValidationError);
      assert.equal(err.field, option);
      assert.match(err.message, new RegExp(option));
      await assert.rejects(call() as Promise<unknown>, { field: option });
      assert.equal(mock.requests.length, 0);
    });
  }

  test('result_code FAIL is an error keeping err_code, err_code_des and the whole result', async () => {
    mock.on('/mmpaymkttransfers/gethbinfo', () => ({
      body: unsignedReply({
        result_code: 'FAIL',
        err_code: 'NOT_FOUND',
        err_code_des: '指定单号数据不存在',
        mch_billno: 'B404',
      }),
    }));
    const { err } = await viaCallback((cb) => api.getRedpackInfo({ mch_billno: 'B404' }, cb));
    assert.ok(err instanceof WechatPayApiError);
    assert.ok(err instanceof BusinessError);
    assert.equal(err.err_code, 'NOT_FOUND');
    assert.equal(err.err_code_des, '指定单号数据不存在');
    assert.equal(err.result.mch_billno, 'B404');
    assert.equal(err.result.result_code, 'FAIL');
    assert.equal(err.retryable, false);
  });

  test('a SYSTEMERROR is retried with the same mch_billno, and then reaches the caller as retryable', async () => {
    mock.on('/mmpaymkttransfers/sendredpack', () => ({
      body: unsignedReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统繁忙' }),
    }));
    await assert.rejects(
      api.sendRedpack({ ...redpack, mch_billno: '1900000109202611210123456789' }),
      (error) => {
        assert.ok(error instanceof WechatPayApiError);
        assert.equal(error.err_code, 'SYSTEMERROR');
        assert.equal(error.retryable, true);
        assert.match(error.message, /mch_billno/);
        return true;
      },
    );
    assert.equal(mock.requests.length, 2);
    for (const request of mock.requests)
      assert.equal(request.fields.mch_billno, '1900000109202611210123456789');
  });

  test('a missing constructor option throws a ConfigError naming it', () => {
    for (const option of ['wxappid', 'mch_id', 'key', 'client_ip'] as const) {
      assert.throws(
        () => new WechatPayApi(optionsFor({ [option]: '' })),
        (error) => error instanceof ConfigError && error.option === option && error.message.includes(option),
      );
    }
    assert.throws(
      () => new WechatPayApi(optionsFor({ pfx: undefined })),
      (error) => error instanceof ConfigError && error.option === 'pfx' && /private_key/.test(error.message),
    );
    assert.throws(
      () => new WechatPayApi(optionsFor({ pfx: mock.clientCert.pfx, passphrase: 'wrong' })),
      CertificateError,
    );
  });

  test('cert + private_key (PEM) work instead of pfx, and passphrase defaults to mch_id', async () => {
    const pem = new WechatPayApi(
      optionsFor({ pfx: undefined, cert: mock.clientCert.certPem, private_key: mock.clientCert.keyPem }),
    );
    try {
      assert.equal((await pem.payToUser({ openid: 'o', amount: 100, desc: 'd' })).payment_no, 'PAY1');
      assert.equal(mock.requests[0]?.clientCn, MERCHANT.mchId);
    } finally {
      await pem.close();
    }
  });

  test("another merchant's certificate fails with a ProtocolError through the callback", async () => {
    const other = new WechatPayApi(
      optionsFor({ pfx: mock.otherClientCert.pfx, passphrase: mock.otherClientCert.passphrase }),
    );
    try {
      const { err } = await viaCallback((cb) => other.payToUser({ openid: 'o', amount: 100, desc: 'd' }, cb));
      assert.ok(err instanceof ProtocolError);
      assert.match(err.message, /证书与商户号不匹配/);
    } finally {
      await other.close();
    }
  });
});

describe('WechatPayApi: module shapes', () => {
  test('the subpath default export is the same class as the named export', () => {
    assert.equal(DefaultExport, WechatPayApi);
  });

  // `npm test` builds first; this checks the published CommonJS output.
  test("require('@wxpay/sdk/wechat-pay-api') returns the class itself", () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const script = `
      const Pay = require('@wxpay/sdk/wechat-pay-api');
      let option;
      try { new Pay({ wxappid: 'wx1' }); } catch (error) { option = error.option; }
      process.stdout.write(JSON.stringify({
        type: typeof Pay, name: Pay.name, option, same: Pay === require('@wxpay/sdk').WechatPayApi,
        methods: ['payToUser', 'getTransferInfo', 'sendRedpack', 'sendGroupRedpack', 'getRedpackInfo',
          'sendCoupon', 'queryCouponStock', 'queryCouponsInfo'].filter((m) => typeof Pay.prototype[m] === 'function'),
        resolved: require.resolve('@wxpay/sdk/wechat-pay-api'),
      }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }));
    assert.equal(out.type, 'function');
    assert.equal(out.name, 'WechatPayApi');
    assert.equal(out.same, true, 'the subpath shares the main bundle, so instanceof works across both');
    assert.equal(out.option, 'mch_id');
    assert.equal(out.methods.length, 8);
    assert.match(out.resolved, /dist[\\/]wechat-pay-api\.cjs$/);
  });
});
