// With a data dir the ledger survives a restart: orders, refunds still in flight, payouts, balances, the clock.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LEDGER_FILE, LedgerFileError } from '../src/index.ts';
import {
  FAIL_ANSWER,
  type NotifySink,
  notifySink,
  rawPost,
  SUCCESS_ANSWER,
  signedXml,
  start,
  tradeNo,
} from './support.ts';

const HOUR_MS = 60 * 60 * 1000;

describe('a data dir keeps the ledger', () => {
  const dirs: string[] = [];
  const running: Array<Awaited<ReturnType<typeof start>>> = [];
  let sink: NotifySink;
  before(async () => {
    sink = await notifySink();
  });
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-sandbox-ledger-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const started of [...running]) await stop(started);
    await sink.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A sandbox (on `dir`, if given) that is closed after the tests even if one fails half-way. */
  async function open(dir?: string): Promise<Awaited<ReturnType<typeof start>>> {
    const started = await start(dir ? { dataDir: dir } : {});
    running.push(started);
    return started;
  }

  async function paidOrder(started: Awaited<ReturnType<typeof start>>): Promise<string> {
    const out_trade_no = tradeNo('K');
    const placed = await started.pay.unifiedOrder({
      body: 'kept',
      out_trade_no,
      total_fee: 1000,
      spbill_create_ip: '127.0.0.1',
      trade_type: 'NATIVE',
      product_id: 'sku1',
      notify_url: sink.url,
    });
    assert.ok(started.sandbox.pay({ code_url: placed.code_url }).ok);
    return out_trade_no;
  }

  async function stop(started: Awaited<ReturnType<typeof start>>): Promise<void> {
    running.splice(running.indexOf(started), 1);
    await started.pay.close();
    await started.sandbox.close();
  }

  test('orders, a PROCESSING refund, a transfer, the balance and the clock survive two restarts', async () => {
    const dir = dataDir();
    const first = await open(dir);
    const mchId = first.merchant.mchId;
    const out_trade_no = await paidOrder(first);
    const paidAs = (await first.pay.orderQuery({ out_trade_no })).transaction_id;
    // Run the clock ahead of real time: the stored times are only consistent if the restart keeps this.
    await first.sandbox.clock.advance(3600);
    const out_refund_no = tradeNo('R');
    const refund = await first.pay.refund({ out_trade_no, out_refund_no, total_fee: 1000, refund_fee: 400 });
    const partner_trade_no = tradeNo('P');
    const transfer = await first.pay.call('transfer', {
      partner_trade_no,
      openid: `o${tradeNo()}`,
      check_name: 'NO_CHECK',
      amount: 100,
      desc: '奖励',
      spbill_create_ip: '127.0.0.1',
    });
    const balance = first.sandbox.ledger(mchId).balance;
    assert.equal(balance, 100_000_000 + 1000 - 400 - 100);
    const movements = first.sandbox.ledger(mchId).movements.length;
    const closedAt = first.sandbox.clock.now();
    await stop(first);

    const second = await open(dir);
    assert.equal(second.merchant.mchId, mchId);
    const now = second.sandbox.clock.now();
    assert.ok(now >= closedAt && now < closedAt + HOUR_MS / 2, 'the clock resumes where it stood');
    const order = await second.pay.orderQuery({ out_trade_no });
    assert.equal(order.trade_state, 'REFUND');
    assert.equal(order.transaction_id, paidAs);
    const pending = await second.pay.refundQuery({ out_refund_no });
    assert.equal(pending.refund_status_0, 'PROCESSING');
    assert.equal(pending.refund_id_0, refund.refund_id);
    assert.equal(second.sandbox.ledger(mchId).balance, balance);
    assert.equal(second.sandbox.ledger(mchId).movements.length, movements);

    await second.sandbox.clock.advance(5);
    const settled = await second.pay.refundQuery({ out_refund_no });
    assert.equal(settled.refund_status_0, 'SUCCESS');
    assert.equal(settled.refund_fee_0, '400');
    const info = await second.pay.call('getTransferInfo', { partner_trade_no });
    assert.equal(info.status, 'SUCCESS');
    assert.equal(info.detail_id, transfer.payment_no);
    await stop(second);

    const third = await open(dir);
    assert.equal((await third.pay.refundQuery({ out_refund_no })).refund_status_0, 'SUCCESS');
    assert.equal(third.sandbox.ledger(mchId).balance, balance);
    await stop(third);
  });

  test("a merchant's H5 payment domains survive a restart, in merchants.json", async () => {
    const dir = dataDir();
    const first = await open(dir);
    assert.deepEqual(
      first.sandbox.setH5Domains(first.merchant.mchId, ['Shop.example', 'pay.other.example']),
      {
        ok: true,
        value: ['shop.example', 'pay.other.example'],
      },
    );
    await stop(first);
    const again = await open(dir);
    assert.deepEqual(again.merchant.h5Domains, ['shop.example', 'pay.other.example']);
    assert.ok(again.sandbox.setH5Domains(again.merchant.mchId, []).ok);
    await stop(again);
    const stored = JSON.parse(readFileSync(join(dir, 'merchants.json'), 'utf8'));
    assert.equal(stored.merchants[0].h5Domains, undefined, 'none registered: none stored');
  });

  test('a restart goes on with the ids where they stopped: the same seed never reissues a transaction_id', async () => {
    const dir = dataDir();
    await stop(await open(dir));
    const paidAs: string[] = [];
    // Both runs make the same calls: if the id source started afresh at each start, they would draw the same ids.
    for (let i = 0; i < 2; i++) {
      const started = await open(dir);
      const out_trade_no = await paidOrder(started);
      paidAs.push((await started.pay.orderQuery({ out_trade_no })).transaction_id ?? '');
      await stop(started);
    }
    assert.equal(paidAs.length, 2);
    assert.notEqual(paidAs[0], paidAs[1]);
  });

  test('a notify the merchant refused is retried after a restart on its schedule, with its log kept', async () => {
    const dir = dataDir();
    const first = await open(dir);
    sink.answer = () => FAIL_ANSWER;
    const before = sink.received.length;
    const out_trade_no = await paidOrder(first);
    await sink.waitFor(before + 1);
    const [refused] = first.sandbox.notifies({ ref: out_trade_no });
    assert.equal(refused?.state, 'pending');
    assert.deepEqual(
      refused.attempts.map((a) => a.ok),
      [false],
    );
    await stop(first);

    sink.answer = () => SUCCESS_ANSWER;
    const second = await open(dir);
    const [kept] = second.sandbox.notifies({ ref: out_trade_no });
    assert.deepEqual(kept, refused, 'the log survives as it was');
    // The retry is due 15 s after the first attempt, on the resumed clock.
    await second.sandbox.clock.advance(15);
    await sink.waitFor(before + 2);
    const [delivered] = second.sandbox.notifies({ ref: out_trade_no });
    assert.equal(delivered?.state, 'delivered');
    assert.deepEqual(
      delivered.attempts.map((a) => [a.n, a.offset, a.ok]),
      [
        [1, 0, false],
        [2, 15, true],
      ],
    );
    assert.equal(sink.received.at(-1)?.body, refused.body, 'the same notify, byte for byte');
    // A notify raised after the restart gets an id of its own.
    const next = await paidOrder(second);
    await sink.waitFor(before + 3);
    const [fresh] = second.sandbox.notifies({ ref: next });
    assert.ok(fresh && fresh.id > delivered.id);
    await stop(second);

    // Delivered is final: a third start sends nothing more.
    const third = await open(dir);
    await third.sandbox.clock.advance(3600);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.received.length, before + 3);
    assert.equal(third.sandbox.notifies({ ref: out_trade_no })[0]?.state, 'delivered');
    await stop(third);
  });

  test('a clock advanced with nothing changed after it, and a payer still entering a password, survive a restart', async () => {
    const dir = dataDir();
    const first = await open(dir);
    const out_trade_no = tradeNo('U');
    const waiting = await rawPost(
      `${first.sandbox.url}/pay/micropay`,
      signedXml(
        {
          appid: first.merchant.appid,
          mch_id: first.merchant.mchId,
          body: 'till',
          out_trade_no,
          total_fee: '300',
          spbill_create_ip: '127.0.0.1',
          auth_code: first.sandbox.paymentCode().auth_code,
        },
        first.merchant.key,
      ),
      { ca: first.sandbox.caCert, headers: { 'Wechatpay-Negative-Test': 'MICROPAY_USERPAYING' } },
    );
    assert.equal(waiting.fields?.err_code, 'USERPAYING');
    // Let the change above be written, then move the clock with no change after it.
    await new Promise((r) => setTimeout(r, 400));
    await first.sandbox.clock.advance(5);
    const advancedTo = first.sandbox.clock.now();
    await stop(first);

    const second = await open(dir);
    assert.ok(second.sandbox.clock.now() >= advancedTo, 'the clock did not go back');
    assert.equal((await second.pay.orderQuery({ out_trade_no })).trade_state, 'USERPAYING');
    // The payer finishes 10 s after the order, on the resumed clock.
    await second.sandbox.clock.advance(5);
    assert.equal((await second.pay.orderQuery({ out_trade_no })).trade_state, 'SUCCESS');
    await stop(second);
  });

  test('changes reach ledger.json within a fraction of a second, without close()', async () => {
    const dir = dataDir();
    const started = await open(dir);
    const out_trade_no = await paidOrder(started);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stored = JSON.parse(readFileSync(join(dir, LEDGER_FILE), 'utf8'));
    assert.equal(stored.version, 1);
    assert.deepEqual(
      stored.orders.map((o: { outTradeNo: string; state: string }) => [o.outTradeNo, o.state]),
      [[out_trade_no, 'SUCCESS']],
    );
    await stop(started);
  });

  test('an unreadable ledger.json stops the start with an error naming the file, and is left as it was', async () => {
    for (const [content, reason] of [
      ['{"orders": [', /not JSON/],
      ['{"version": 99}', /version is 99/],
    ] as const) {
      const dir = dataDir();
      const file = join(dir, LEDGER_FILE);
      writeFileSync(file, content);
      await assert.rejects(start({ dataDir: dir }), (error: unknown) => {
        assert.ok(error instanceof LedgerFileError);
        assert.equal(error.code, 'LEDGER_FILE_UNREADABLE');
        assert.equal(error.file, file);
        assert.match(error.message, reason);
        assert.match(error.message, /Move it away/);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), content);
    }
  });

  test('a ledger.json from before the notify log was kept loads; a malformed notify log is refused', async () => {
    const dir = dataDir();
    const first = await open(dir);
    const out_trade_no = await paidOrder(first);
    await stop(first);
    const file = join(dir, LEDGER_FILE);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(stored.notifies.records.length, 1);
    delete stored.notifies;
    writeFileSync(file, JSON.stringify(stored));
    const older = await open(dir);
    assert.equal((await older.pay.orderQuery({ out_trade_no })).trade_state, 'SUCCESS');
    assert.deepEqual(older.sandbox.notifies(), []);
    await stop(older);

    const malformed = JSON.stringify({ ...stored, notifies: { records: {} } });
    writeFileSync(file, malformed);
    await assert.rejects(start({ dataDir: dir }), /malformed notifies/);
    assert.equal(readFileSync(file, 'utf8'), malformed);
  });

  test('without a data dir nothing is written', async () => {
    // Where a default data dir would land: the working directory (ledger.json, .wxpay/, anything new).
    const before = readdirSync(process.cwd()).sort();
    const started = await open();
    await paidOrder(started);
    await started.sandbox.clock.advance(60);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stop(started);
    assert.deepEqual(readdirSync(process.cwd()).sort(), before);
    assert.equal(existsSync(join(process.cwd(), LEDGER_FILE)), false);
  });
});
