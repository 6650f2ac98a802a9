// A value XML 1.0 cannot carry is refused before sending, as a RequestValidationError naming the field:
// WeChat cannot have acted, so a caller never takes it for an unknown outcome.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildXml, parseXml, RequestValidationError, type WechatPay, XmlError } from '../src/index.ts';
import { useMockWechat } from './support/client.ts';
import { type MockWechat, signedReply, unsignedReply } from './support/mock-wechat.ts';

let mock: MockWechat;
let pay: WechatPay;
useMockWechat((m, p) => {
  mock = m;
  pay = p;
});

/** Asserts a RequestValidationError for `field` that names the code point and its position. */
const refusedAs = (field: string, codePoint: string, position: number) => (error: unknown) => {
  assert.ok(error instanceof RequestValidationError, `a RequestValidationError, got ${String(error)}`);
  assert.ok(!(error instanceof XmlError));
  assert.equal(error.field, field);
  assert.equal(error.code, 'INVALID_REQUEST');
  assert.equal(error.retryable, false);
  assert.ok(
    error.message.startsWith(`${field}: character ${position} is ${codePoint} (`),
    `the message names the field, position and code point: ${error.message}`,
  );
  assert.match(error.message, /XML cannot carry; the request was not sent$/);
  return true;
};

describe('buildXml refuses what XML 1.0 cannot carry, naming the field', () => {
  const cases: [string, string, string, number][] = [
    ['a C0 control', '恭喜\u0001发财', 'U+0001', 3],
    ['NUL', '\u0000', 'U+0000', 1],
    ['escape', 'ab\u001B', 'U+001B', 3],
    ['vertical tab', 'a\u000Bb', 'U+000B', 2],
    ['form feed', 'a\u000C', 'U+000C', 2],
    ['U+FFFE', 'x\uFFFE', 'U+FFFE', 2],
    ['U+FFFF', '\uFFFFx', 'U+FFFF', 1],
    ['an unpaired high surrogate', 'lone \uD800 surrogate', 'U+D800', 6],
    ['an unpaired low surrogate', '\uDC00', 'U+DC00', 1],
    // The position counts characters, so an emoji before the bad one counts once.
    ['a control after an emoji', '🧧\u0002', 'U+0002', 2],
  ];
  for (const [what, value, codePoint, position] of cases) {
    test(`${what} in wishing`, () => {
      assert.throws(
        () => buildXml({ act_name: '新年', wishing: value }),
        refusedAs('wishing', codePoint, position),
      );
    });
  }

  test('tab, line feed, carriage return, emoji, U+FFFD, DEL and C1 controls are carried and round-trip', () => {
    const fields = { desc: 'a\tb\nc\r\nd 🧧 \uFFFD \u007F \u0085 \u009F' };
    assert.deepEqual(parseXml(buildXml(fields)), fields);
  });
});

describe('a client call with such a value sends nothing', () => {
  test('sendRedpack with a control character in wishing', async () => {
    mock.on('/mmpaymkttransfers/sendredpack', () => ({ body: unsignedReply({}) }));
    await assert.rejects(
      pay.sendRedpack({
        send_name: '商户',
        re_openid: 'oUser1',
        total_amount: 100,
        wishing: '恭喜\u0001发财',
        act_name: '活动',
        remark: '备注',
        client_ip: '10.0.0.1',
      }),
      refusedAs('wishing', 'U+0001', 3),
    );
    assert.equal(mock.requests.length, 0);
  });

  test('transfer with a control character in desc', async () => {
    mock.on('/mmpaymkttransfers/promotion/transfers', () => ({ body: unsignedReply({}) }));
    await assert.rejects(
      pay.transfer({ openid: 'oUser1', amount: 100, desc: '奖\u0001励', spbill_create_ip: '10.0.0.1' }),
      refusedAs('desc', 'U+0001', 2),
    );
    assert.equal(mock.requests.length, 0);
  });

  test('unifiedOrder with a control character in body', async () => {
    mock.on('/pay/unifiedorder', () => ({ body: signedReply({ prepay_id: 'wx1' }) }));
    await assert.rejects(
      pay.unifiedOrder({
        body: 'mug\u0001',
        out_trade_no: 'o-ctrl-1',
        total_fee: 100,
        spbill_create_ip: '10.0.0.1',
        trade_type: 'NATIVE',
        product_id: 'p1',
      }),
      refusedAs('body', 'U+0001', 4),
    );
    assert.equal(mock.requests.length, 0);
  });
});
