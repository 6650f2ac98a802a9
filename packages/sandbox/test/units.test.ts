// The pure parts: the clock, the state machines, the fission split, field rules, the seeded source.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Clock } from '../src/clock.ts';
import { checkRefund, close, type Order, settle } from '../src/ledger/orders.ts';
import { splitAmount } from '../src/ledger/payouts.ts';
import { Random } from '../src/random.ts';
import { checkFields, MERCHANT_NO } from '../src/validate.ts';

const T0 = Date.UTC(2026, 0, 1);

function order(extra: Partial<Order> = {}): Order {
  return {
    mchId: '1900000001',
    appid: 'wx1',
    outTradeNo: 'o1',
    transactionId: 't1',
    tradeType: 'NATIVE',
    state: 'NOTPAY',
    body: 'b',
    totalFee: 100,
    feeType: 'CNY',
    openid: undefined,
    attach: undefined,
    deviceInfo: undefined,
    notifyUrl: undefined,
    signType: 'MD5',
    keyRealm: 'production',
    createdAt: T0,
    expiresAt: T0 + 7_200_000,
    paidAt: undefined,
    prepayId: undefined,
    codeUrl: undefined,
    mwebUrl: undefined,
    fingerprint: '',
    refundedFee: 0,
    refundCount: 0,
    ...extra,
  };
}

describe('clock', () => {
  test('advance runs due timers in order, each at its own due time, and not the later ones', async () => {
    const clock = new Clock({ startTime: T0 });
    const t0 = clock.now();
    const seen: Array<[string, number]> = [];
    clock.at(t0 + 30_000, () => seen.push(['b', clock.now() - t0]));
    clock.at(t0 + 10_000, () => {
      seen.push(['a', clock.now() - t0]);
      clock.after(5, () => seen.push(['a+5', clock.now() - t0]));
    });
    clock.at(t0 + 100_000, () => seen.push(['late', clock.now() - t0]));
    await clock.advance(30);
    assert.deepEqual(
      seen.map(([name]) => name),
      ['a', 'a+5', 'b'],
    );
    assert.equal(seen[0]?.[1], 10_000);
    assert.equal(seen[1]?.[1], 15_000);
    assert.equal(clock.pending, 1);
    await clock.close();
    assert.equal(clock.pending, 0);
  });

  test('time flows at timeScale', async () => {
    const clock = new Clock({ startTime: T0, timeScale: 1000 });
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(clock.now() - T0 >= 15_000);
    await clock.close();
  });
});

describe('order state machine', () => {
  test('NOTPAY pays once; a paid order is ORDERPAID, a closed one ORDERCLOSED', () => {
    const paid = settle(order(), 'SUCCESS', T0 + 1);
    assert.ok(paid.ok);
    assert.equal(paid.value.state, 'SUCCESS');
    const again = settle(paid.value, 'SUCCESS', T0 + 2);
    assert.equal(again.ok ? '' : again.error.code, 'ORDERPAID');
    const closed = settle(order({ state: 'CLOSED' }), 'SUCCESS', T0);
    assert.equal(closed.ok ? '' : closed.error.code, 'ORDERCLOSED');
    const expired = settle(order(), 'SUCCESS', T0 + 7_200_000);
    assert.equal(expired.ok, false);
  });

  test('closeorder waits five minutes', () => {
    assert.equal(close(order(), T0 + 299_999).ok, false);
    assert.equal(close(order(), T0 + 300_000).ok, true);
  });

  test('refunds never add up to more than was paid', () => {
    const paid = order({ state: 'SUCCESS', paidAt: T0 });
    const first = checkRefund(paid, 100, 60, T0);
    assert.ok(first.ok);
    const second = checkRefund(first.value, 100, 41, T0);
    assert.equal(second.ok ? '' : second.error.code, 'ERROR');
    assert.ok(checkRefund(first.value, 100, 40, T0).ok);
  });
});

describe('fission split', () => {
  test('shares sum to the total and are each at least 1 yuan', () => {
    const random = new Random('split');
    for (let n = 3; n <= 20; n++) {
      const shares = splitAmount(n * 100 + 777, n, random);
      assert.equal(shares.length, n);
      assert.equal(
        shares.reduce((a, b) => a + b, 0),
        n * 100 + 777,
      );
      assert.ok(shares.every((s) => s >= 100));
    }
  });

  test('the same seed gives the same split', () => {
    assert.deepEqual(splitAmount(1000, 5, new Random(7)), splitAmount(1000, 5, new Random(7)));
  });
});

describe('field rules', () => {
  test('out_trade_no: 32 characters of [0-9A-Za-z_-|*@]', () => {
    const rules = [{ name: 'out_trade_no', required: true, max: 32, pattern: MERCHANT_NO }];
    assert.equal(checkFields({ out_trade_no: 'aZ09_-|*@' }, rules), undefined);
    assert.deepEqual(checkFields({}, rules), { kind: 'missing', field: 'out_trade_no' });
    assert.deepEqual(checkFields({ out_trade_no: 'x'.repeat(33) }, rules), {
      kind: 'length',
      field: 'out_trade_no',
    });
    assert.deepEqual(checkFields({ out_trade_no: 'a#b' }, rules), { kind: 'format', field: 'out_trade_no' });
  });
});
