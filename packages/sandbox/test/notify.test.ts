// The notify retry schedule: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WechatPay } from '@wxpay/sdk';
import { RETRY_SCHEDULE_SECONDS, type Sandbox } from '../src/index.ts';
import {
  control,
  FAIL_ANSWER,
  type NotifySink,
  notifySink,
  SUCCESS_ANSWER,
  start,
  tradeNo,
} from './support.ts';

/** Offsets of all 16 attempts from the moment the notify is raised. */
const EXPECTED_OFFSETS: number[] = [0];
for (const wait of RETRY_SCHEDULE_SECONDS) EXPECTED_OFFSETS.push(EXPECTED_OFFSETS.at(-1)! + wait);

async function paidWithNotify(sandbox: Sandbox, pay: WechatPay, url: string): Promise<string> {
  const out_trade_no = tradeNo();
  const placed = await pay.unifiedOrder({
    body: 'notify',
    out_trade_no,
    total_fee: 1,
    spbill_create_ip: '127.0.0.1',
    trade_type: 'APP',
    notify_url: url,
  });
  assert.ok(sandbox.pay({ prepay_id: placed.prepay_id }).ok);
  return out_trade_no;
}

describe('notify retries', () => {
  test('the schedule totals 24 h 4 min over 16 attempts', () => {
    assert.equal(EXPECTED_OFFSETS.length, 16);
    assert.equal(EXPECTED_OFFSETS.at(-1), 24 * 3600 + 4 * 60);
  });

  describe('driven by clock.advance', () => {
    let sandbox: Sandbox;
    let pay: WechatPay;
    let sink: NotifySink;
    before(async () => {
      ({ sandbox, pay } = await start({ seed: 'notify' }));
      sink = await notifySink();
    });
    after(async () => {
      await pay.close();
      await sink.close();
      await sandbox.close();
    });

    test('a merchant that never answers SUCCESS gets every retry at its exact offset, then none', async () => {
      sink.answer = () => FAIL_ANSWER;
      const ref = await paidWithNotify(sandbox, pay, sink.url);
      await sandbox.clock.advance(25 * 3600);
      const [record] = sandbox.notifies({ ref });
      assert.ok(record);
      assert.deepEqual(
        record.attempts.map((a) => a.offset),
        EXPECTED_OFFSETS,
      );
      assert.equal(record.state, 'gave_up');
      assert.ok(record.attempts.every((a) => !a.ok && a.status === 200));
      assert.equal(sink.received.filter((n) => n.body.includes(ref)).length, 16);
    });

    test('retries stop at the first SUCCESS answer', async () => {
      let calls = 0;
      sink.answer = () => (++calls >= 4 ? SUCCESS_ANSWER : FAIL_ANSWER);
      const ref = await paidWithNotify(sandbox, pay, sink.url);
      await sandbox.clock.advance(3600);
      const [record] = sandbox.notifies({ ref });
      assert.deepEqual(
        record?.attempts.map((a) => a.offset),
        [0, 15, 30, 60],
      );
      assert.equal(record?.state, 'delivered');
    });

    test('an unreachable notify_url is retried too, and the attempts say why', async () => {
      const ref = await paidWithNotify(sandbox, pay, 'http://127.0.0.1:9/closed');
      await sandbox.clock.advance(60);
      const viaApi = await control(sandbox, 'GET', `/sandbox/v1/notifies?ref=${ref}`);
      const [record] = viaApi.json.notifies as Array<{ attempts: Array<{ offset: number; error?: string }> }>;
      assert.deepEqual(
        record?.attempts.map((a) => a.offset),
        [0, 15, 30, 60],
      );
      assert.ok(record?.attempts[0]?.error);
    });
  });

  test('under timeScale 100 000 the whole day of retries plays out in real time at the same offsets', async () => {
    const { sandbox, pay } = await start({ seed: 'scaled', timeScale: 100_000 });
    const sink = await notifySink();
    sink.answer = () => FAIL_ANSWER;
    try {
      const ref = await paidWithNotify(sandbox, pay, sink.url);
      // 86 640 simulated seconds at 100 000× is about 0.9 s of real time.
      const until = Date.now() + 15_000;
      while (sandbox.notifies({ ref })[0]?.state !== 'gave_up' && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const [record] = sandbox.notifies({ ref });
      assert.equal(record?.state, 'gave_up');
      assert.deepEqual(
        record?.attempts.map((a) => a.offset),
        EXPECTED_OFFSETS,
      );
      assert.equal(sink.received.length, 16);
      // Real time passed as the scale says: about 0.9 s from the first attempt to the last.
      const realSpan = sink.received.at(-1)!.at - sink.received[0]!.at;
      assert.ok(realSpan >= (EXPECTED_OFFSETS.at(-1)! / 100_000) * 1000 * 0.9, `real span ${realSpan} ms`);
    } finally {
      await pay.close();
      await sink.close();
      await sandbox.close();
    }
  });
});
