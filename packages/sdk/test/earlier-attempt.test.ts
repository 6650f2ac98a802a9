// An error after the SDK's own resend says the earlier try's outcome is unknown, and keeps that try's error;
// rate limiting is told apart from a refusal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BusinessError,
  CertificateError,
  ConfigError,
  ProtocolError,
  RequestValidationError,
  raisedBeforeSending,
  SignatureError,
  TransportError,
  type WechatPay,
  XmlError,
} from '../src/index.ts';
import { clientFor, useMockWechat } from './support/client.ts';
import { failReply, type MockWechat, signedReply, unsignedReply } from './support/mock-wechat.ts';

let mock: MockWechat;
let pay: WechatPay;
useMockWechat((m, p) => {
  mock = m;
  pay = p;
});

const REFUND = { out_trade_no: 'o1', out_refund_no: 'r1', total_fee: 1000, refund_fee: 300 };
const REDPACK = {
  send_name: '商户',
  re_openid: 'oUser1',
  total_amount: 100,
  wishing: '恭喜发财',
  act_name: '活动',
  remark: '备注',
  client_ip: '10.0.0.1',
};
const FREQUENCY_LIMITED = signedReply({
  result_code: 'FAIL',
  err_code: 'FREQUENCY_LIMITED',
  err_code_des: '请求过于频繁，请降低频率后重试',
});

/** A handler that answers the n-th call with the n-th reply (the last one from then on). */
function inTurn(...replies: { body: string; status?: number; delayMs?: number }[]) {
  let calls = 0;
  return () => replies[Math.min(calls++, replies.length - 1)]!;
}

describe('an error after the SDK resent the request', () => {
  test('a timed-out try, then FREQUENCY_LIMITED: the error says the first try may have refunded', async () => {
    const quick = clientFor(mock, { timeoutMs: 150 });
    try {
      mock.on(
        '/secapi/pay/refund',
        inTurn({ body: signedReply({}), delayMs: 400 }, { body: FREQUENCY_LIMITED }),
      );
      await assert.rejects(quick.refund(REFUND), (error: unknown) => {
        assert.ok(error instanceof BusinessError);
        assert.equal(error.errCode, 'FREQUENCY_LIMITED');
        assert.equal(error.rateLimited, true);
        assert.equal(error.earlierAttemptUnknown, true);
        assert.equal(error.retryable, true, 'the call as a whole has an unknown outcome');
        assert.ok(error.earlierAttempt instanceof TransportError);
        assert.equal(error.earlierAttempt.code, 'TIMEOUT');
        assert.equal(error.reply?.err_code, 'FREQUENCY_LIMITED', "the last reply's details are kept");
        assert.equal(error.rawBody, FREQUENCY_LIMITED);
        assert.match(error.message, /^FREQUENCY_LIMITED: /);
        assert.match(error.message, /earlier try of this same request ended with TIMEOUT/);
        assert.match(error.message, /same merchant number/);
        return true;
      });
      assert.equal(mock.requests.length, 2);
      assert.equal(mock.requests[0]!.body, mock.requests[1]!.body, 'the resend is the same request');
    } finally {
      await quick.close();
    }
  });

  test('SYSTEMERROR, then return_code FAIL: a ProtocolError that keeps WeChat words and the SYSTEMERROR', async () => {
    mock.on(
      '/secapi/pay/refund',
      inTurn(
        { body: signedReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统超时' }) },
        { body: failReply('系统繁忙') },
      ),
    );
    await assert.rejects(pay.refund(REFUND), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.returnMsg, '系统繁忙');
      assert.equal(error.earlierAttemptUnknown, true);
      assert.equal(error.retryable, true);
      assert.ok(error.earlierAttempt instanceof BusinessError);
      assert.equal(error.earlierAttempt.errCode, 'SYSTEMERROR');
      assert.match(error.message, /ended with SYSTEMERROR/);
      return true;
    });
  });

  test('HTTP 500, then NOTENOUGH on a red packet: not a refusal of the red packet', async () => {
    const notEnough = unsignedReply({ result_code: 'FAIL', err_code: 'NOTENOUGH', err_code_des: '余额不足' });
    mock.on('/mmpaymkttransfers/sendredpack', inTurn({ status: 500, body: 'oops' }, { body: notEnough }));
    await assert.rejects(pay.sendRedpack(REDPACK), (error: unknown) => {
      assert.ok(error instanceof BusinessError);
      assert.equal(error.errCode, 'NOTENOUGH');
      assert.equal(error.errCodeDes, '余额不足');
      assert.equal(error.rateLimited, false);
      assert.equal(error.earlierAttemptUnknown, true);
      assert.equal(error.retryable, true);
      assert.ok(error.earlierAttempt instanceof TransportError);
      assert.equal(error.earlierAttempt.status, 500);
      assert.equal(error.earlierAttempt.rawBody, 'oops');
      return true;
    });
    assert.equal(mock.requests[0]!.fields.mch_billno, mock.requests[1]!.fields.mch_billno);
  });

  test('each resend keeps the one before: timeout, SYSTEMERROR, then a refusal', async () => {
    const patient = clientFor(mock, { timeoutMs: 150, retries: 2 });
    try {
      mock.on(
        '/secapi/pay/refund',
        inTurn(
          { body: signedReply({}), delayMs: 400 },
          { body: signedReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统超时' }) },
          { body: FREQUENCY_LIMITED },
        ),
      );
      await assert.rejects(patient.refund(REFUND), (error: unknown) => {
        assert.ok(error instanceof BusinessError);
        const second = error.earlierAttempt;
        assert.ok(second instanceof BusinessError);
        assert.equal(second.errCode, 'SYSTEMERROR');
        assert.equal(second.earlierAttemptUnknown, true);
        assert.equal(second.earlierAttempt?.code, 'TIMEOUT');
        return true;
      });
      assert.equal(mock.requests.length, 3);
    } finally {
      await patient.close();
    }
  });
});

describe('an error on the only try', () => {
  test('a refusal on the first try says nothing of earlier tries and is not retryable', async () => {
    mock.on('/secapi/pay/refund', () => ({
      body: signedReply({ result_code: 'FAIL', err_code: 'NOTENOUGH', err_code_des: '基本账户余额不足' }),
    }));
    await assert.rejects(pay.refund(REFUND), (error: unknown) => {
      assert.ok(error instanceof BusinessError);
      assert.equal(error.earlierAttemptUnknown, false);
      assert.equal(error.earlierAttempt, undefined);
      assert.equal(error.retryable, false);
      assert.equal(error.rateLimited, false);
      assert.doesNotMatch(error.message, /earlier try/);
      return true;
    });
    assert.equal(mock.requests.length, 1);
  });

  test('an HTTP 4xx (a wrong path, a proxy) is not resent and carries no earlier try', async () => {
    mock.on('/secapi/pay/refund', () => ({ body: '<html>Not Found</html>', status: 404 }));
    await assert.rejects(pay.refund(REFUND), (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.status, 404);
      assert.equal(error.retryable, false);
      assert.equal(error.earlierAttemptUnknown, false);
      return true;
    });
    assert.equal(mock.requests.length, 1, 'sent once');
  });

  test('FREQ_LIMIT is rate limiting, not a refusal: not processed, to be sent again later, not resent at once', async () => {
    mock.on('/mmpaymkttransfers/promotion/transfers', () => ({
      body: unsignedReply({
        result_code: 'FAIL',
        err_code: 'FREQ_LIMIT',
        err_code_des: '超过频率限制,请稍后再试',
      }),
    }));
    await assert.rejects(
      pay.transfer({ openid: 'o', amount: 100, desc: 'd', partner_trade_no: 'T1' }),
      (error: unknown) => {
        assert.ok(error instanceof BusinessError);
        assert.equal(error.errCode, 'FREQ_LIMIT');
        assert.equal(error.rateLimited, true);
        assert.equal(error.retryable, false, 'nothing was processed: the outcome is known');
        assert.equal(error.earlierAttemptUnknown, false);
        assert.match(error.message, /rate limited/);
        assert.match(error.message, /again later/);
        return true;
      },
    );
    assert.equal(mock.requests.length, 1);
  });

  test('micropay is never resent, so its errors never carry an earlier try', async () => {
    mock.on('/pay/micropay', () => ({
      body: signedReply({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: 'x' }),
    }));
    await assert.rejects(
      pay.micropay({
        body: 'b',
        out_trade_no: 'o2',
        total_fee: 1,
        spbill_create_ip: '127.0.0.1',
        auth_code: '134567890123456789',
      }),
      (error: unknown) => error instanceof BusinessError && !error.earlierAttemptUnknown && error.retryable,
    );
    assert.equal(mock.requests.length, 1);
  });
});

test('raisedBeforeSending is true only for errors raised before the request left', () => {
  const before = [
    new ConfigError('key', 'bad key'),
    new CertificateError('no certificate'),
    new RequestValidationError('body', 'too long'),
  ];
  const after = [
    new TransportError('TIMEOUT', 'timed out'),
    new ProtocolError('return_code FAIL', '签名错误'),
    new XmlError('not xml'),
    new SignatureError('bad sign'),
    new BusinessError('NOTENOUGH', '余额不足'),
    new Error('other'),
  ];
  for (const error of before) assert.equal(raisedBeforeSending(error), true, error.name);
  for (const error of after) assert.equal(raisedBeforeSending(error), false, error.name);
});
