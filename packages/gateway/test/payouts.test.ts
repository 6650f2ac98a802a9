// Payouts against the real sandbox on SQLite and PostgreSQL: each reaches its final state, and every fault
// (SYSTEMERROR before or after commit, timeout, a crash before the call) still pays exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storePayout } from '../src/domain/payout-sending.ts';
import { type RedpackInput, redpackPayout } from '../src/domain/payouts.ts';
import { eventsOf } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import {
  redpackBody as normal,
  openid,
  type PayoutWorld,
  startPayoutWorld,
} from './support/payout-sandbox.ts';

for (const kind of DATABASE_KINDS) {
  describe(`payouts with the sandbox on ${kind}`, () => {
    let w: PayoutWorld;
    before(async () => {
      w = await startPayoutWorld(kind);
    });
    after(async () => {
      await w?.close();
    });

    const events = (id: string, type: string) => eventsOf(w.api, id, type);
    const fault = (endpoint: string, faultKind: string, count = 2) =>
      w.sandbox.faults.add({ endpoint, kind: faultKind as 'systemerror', count, holdMs: 1500 });
    const redpack = async (id: string) => (await w.api('GET', `/v1/redpacks/${id}`)).body;

    test('a normal red packet is sent, opened, and synced to received with its events', async () => {
      const sent = await w.api('POST', '/v1/redpacks', normal());
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'sent');
      assert.match(sent.body.mch_billno, new RegExp(`^${w.mchId}\\d{18}$`));
      assert.match(sent.body.raw_result, /<send_listid>/);
      assert.deepEqual(w.movements(sent.body.mch_billno), [
        { kind: 'redpack', amount: -150, ref: sent.body.mch_billno },
      ]);
      await w.sandbox.clock.advance(2);
      assert.ok(await openRedpack(w, sent.body.mch_billno));
      await w.recover();
      const done = await redpack(sent.body.id);
      assert.equal(done.status, 'received');
      assert.equal(done.hblist.length, 1);
      assert.equal((await events(sent.body.id, 'redpack.sent')).length, 1);
      assert.equal((await events(sent.body.id, 'redpack.received')).length, 1);
      await w.recover();
      assert.equal(
        (await events(sent.body.id, 'redpack.received')).length,
        1,
        'a final record raises nothing more',
      );
    });

    test('a fission red packet is opened by three receivers; hblist records each', async () => {
      const sent = await w.api(
        'POST',
        '/v1/redpacks',
        normal({ type: 'fission', total_num: 3, total_amount: 600 }),
      );
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.amt_type, 'ALL_RAND');
      await w.sandbox.clock.advance(2);
      for (let i = 0; i < 3; i++) assert.ok(await openRedpack(w, sent.body.mch_billno));
      await w.recover();
      const done = await redpack(sent.body.id);
      assert.equal(done.status, 'received');
      assert.equal(done.hblist.length, 3);
      assert.equal(new Set(done.hblist.map((h: { openid: string }) => h.openid)).size, 3);
      assert.equal(
        done.hblist.reduce((sum: number, h: { amount: string }) => sum + Number(h.amount), 0),
        600,
      );
    });

    test('an unopened red packet is refunded after 24 h of simulated time', async () => {
      const sent = await w.api('POST', '/v1/redpacks', normal({ total_amount: 120 }));
      await w.recover();
      assert.equal((await redpack(sent.body.id)).status, 'sent');
      await w.sandbox.clock.advance(24 * 3600 + 10);
      await w.recover();
      const done = await redpack(sent.body.id);
      assert.equal(done.status, 'refunded');
      assert.equal(done.refund_amount, 120);
      assert.deepEqual(
        w.movements(sent.body.mch_billno).map((m) => [m.kind, m.amount]),
        [
          ['redpack', -120],
          ['redpack_refund', 120],
        ],
      );
      assert.equal((await events(sent.body.id, 'redpack.refunded')).length, 1);
    });

    for (const faultKind of ['systemerror_after_commit', 'timeout', 'systemerror'] as const) {
      test(`${faultKind}: the record stays sending, recovery settles it, and the ledger shows one payment`, async () => {
        const movementsBefore = w.sandbox.ledger(w.mchId).movements.length;
        fault('sendredpack', faultKind);
        const sent = await w.api('POST', '/v1/redpacks', normal());
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
        assert.equal(sent.body.status, 'sending');
        const billno = sent.body.mch_billno;
        // Committed before the fault: already paid once; refused before commit: not paid yet.
        assert.equal(w.movements(billno).length, faultKind === 'systemerror' ? 0 : 1);
        await w.recover();
        const done = await redpack(sent.body.id);
        assert.equal(done.status, 'sent');
        assert.equal(done.mch_billno, billno, 'the same number, never a new one');
        assert.deepEqual(done.superseded_mch_billnos, []);
        await w.recover();
        assert.deepEqual(w.movements(billno), [{ kind: 'redpack', amount: -150, ref: billno }]);
        assert.equal(w.sandbox.ledger(w.mchId).movements.length, movementsBefore + 1, 'one payment in all');
        assert.equal((await events(sent.body.id, 'redpack.sent')).length, 1);
      });
    }

    test('a crash between storing the record and calling WeChat is recovered: paid once', async () => {
      const movementsBefore = w.sandbox.ledger(w.mchId).movements.length;
      const auth = { accountId: w.accountId, livemode: false };
      const row = await storePayout(
        w.gateway.ctx,
        auth,
        redpackPayout({ ...(normal() as unknown as RedpackInput), client_ip: '127.0.0.1' }),
      );
      assert.equal(row.status, 'sending');
      assert.equal(w.movements(row.wechat_no).length, 0);
      await w.recover();
      assert.equal((await redpack(row.id)).status, 'sent');
      await w.recover();
      assert.equal(w.movements(row.wechat_no).length, 1);
      assert.equal(w.sandbox.ledger(w.mchId).movements.length, movementsBefore + 1, 'one payment in all');
    });

    test('NOTENOUGH fails cleanly: failed, redpack.failed, no money moved, never retried', async () => {
      const balance = w.sandbox.ledger(w.mchId).balance;
      await setBalance(w, 0);
      try {
        const sent = await w.api('POST', '/v1/redpacks', normal());
        assert.equal(sent.status, 200);
        assert.equal(sent.body.status, 'failed');
        assert.equal(sent.body.failure_code, 'NOTENOUGH');
        assert.equal(w.movements(sent.body.mch_billno).length, 0);
        assert.equal((await events(sent.body.id, 'redpack.failed')).length, 1);
        await setBalance(w, balance);
        await w.recover();
        assert.equal((await redpack(sent.body.id)).status, 'failed');
        assert.equal(w.movements(sent.body.mch_billno).length, 0);
      } finally {
        await setBalance(w, balance);
      }
    });

    test('a transfer goes processing → succeeded through the status sync', async () => {
      const sent = await w.api('POST', '/v1/transfers', {
        openid: openid(),
        amount: 100,
        description: '奖励',
        check_name: 'NO_CHECK',
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'processing');
      assert.match(sent.body.payment_no, /^\d+$/);
      await w.sandbox.clock.advance(4);
      await w.recover();
      const done = (await w.api('GET', `/v1/transfers/${sent.body.id}`)).body;
      assert.equal(done.status, 'succeeded');
      assert.equal((await events(sent.body.id, 'transfer.succeeded')).length, 1);
      assert.deepEqual(
        w.movements(sent.body.partner_trade_no).map((m) => m.amount),
        [-100],
      );
      const list = (await w.api('GET', '/v1/transfers?status=succeeded')).body;
      assert.ok(list.data.some((t: { id: string }) => t.id === sent.body.id));
      assert.equal(list.url, '/v1/transfers');
      // Keyset pages: one at a time, newest first, each after the last, never repeating one.
      const all = (await w.api('GET', '/v1/transfers?limit=100')).body.data.map((t: { id: string }) => t.id);
      const paged: string[] = [];
      for (let after = ''; ; ) {
        const page = (await w.api('GET', `/v1/transfers?limit=1${after && `&starting_after=${after}`}`)).body;
        paged.push(...page.data.map((t: { id: string }) => t.id));
        if (!page.has_more) break;
        after = page.data[0].id;
      }
      assert.deepEqual(paged, all);
      const unknown = await w.api('GET', '/v1/transfers?starting_after=tr_nope');
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.param, 'starting_after');
    });

    test('a transfer after SYSTEMERROR-after-commit is found by gettransferinfo, not paid again', async () => {
      fault('transfers', 'systemerror_after_commit');
      const sent = await w.api('POST', '/v1/transfers', {
        openid: openid(),
        amount: 200,
        description: '奖励',
        check_name: 'NO_CHECK',
      });
      assert.equal(sent.body.status, 'sending');
      await w.sandbox.clock.advance(4);
      await w.recover();
      assert.equal((await w.api('GET', `/v1/transfers/${sent.body.id}`)).body.status, 'succeeded');
      assert.deepEqual(
        w.movements(sent.body.partner_trade_no).map((m) => m.amount),
        [-200],
      );
    });

    test('a transfer to a frozen account ends failed with transfer.failed', async () => {
      const sent = await w.api('POST', '/v1/transfers', {
        openid: 'banned-user-1',
        amount: 100,
        description: '奖励',
        check_name: 'NO_CHECK',
      });
      await w.sandbox.clock.advance(4);
      await w.recover();
      const done = (await w.api('GET', `/v1/transfers/${sent.body.id}`)).body;
      assert.equal(done.status, 'failed');
      assert.ok(done.failure_message);
      assert.equal((await events(sent.body.id, 'transfer.failed')).length, 1);
    });

    test('a coupon is sent once even after SYSTEMERROR-after-commit, and can be queried', async () => {
      const stockBefore = (await w.api('GET', `/v1/coupon_stocks/${w.couponStockId}`)).body;
      assert.equal(stockBefore.coupon_stock_id, w.couponStockId);
      fault('send_coupon', 'systemerror_after_commit');
      const user = openid();
      const sent = await w.api('POST', '/v1/coupons', { coupon_stock_id: w.couponStockId, openid: user });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'sending');
      await w.recover();
      const done = (await w.api('GET', `/v1/events?object_id=${sent.body.id}&type=coupon.sent`)).body.data;
      assert.equal(done.length, 1);
      const couponId = done[0].data.object.coupon_id;
      assert.ok(couponId);
      const stockAfter = (await w.api('GET', `/v1/coupon_stocks/${w.couponStockId}`)).body;
      assert.equal(Number(stockAfter.is_send_num), Number(stockBefore.is_send_num) + 1);
      const info = await w.api('GET', `/v1/coupons/${couponId}?openid=${user}&stock_id=${w.couponStockId}`);
      assert.equal(info.status, 200, JSON.stringify(info.body));
      assert.equal(info.body.coupon_id, couponId);
    });

    test('Idempotency-Key replays the first answer and pays once', async () => {
      const body = normal();
      const headers = { 'idempotency-key': `rp-${openid()}` };
      const first = await w.api('POST', '/v1/redpacks', body, headers);
      const second = await w.api('POST', '/v1/redpacks', body, headers);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(second.body.id, first.body.id);
      const other = await w.api('POST', '/v1/redpacks', { ...body, remark: 'x' }, headers);
      assert.equal(other.status, 409);
      const list = (await w.api('GET', '/v1/redpacks?limit=100')).body.data;
      assert.equal(list.filter((r: { re_openid: string }) => r.re_openid === body.re_openid).length, 1);
      assert.equal(w.movements(first.body.mch_billno).length, 1);
    });

    const refusals: [string, string, unknown, string, string][] = [
      [
        'a normal packet for two people',
        '/v1/redpacks',
        normal({ total_num: 2 }),
        'redpack_total_num',
        'total_num',
      ],
      [
        'a fission packet for two',
        '/v1/redpacks',
        normal({ type: 'fission', total_num: 2, total_amount: 300 }),
        'redpack_total_num',
        'total_num',
      ],
      [
        '300 yuan without scene_id',
        '/v1/redpacks',
        normal({ total_amount: 30_000 }),
        'redpack_scene_id_required',
        'scene_id',
      ],
      ['0.50 yuan', '/v1/redpacks', normal({ total_amount: 50 }), 'redpack_amount_limit', 'total_amount'],
      [
        'no re_openid',
        '/v1/redpacks',
        { ...normal(), re_openid: undefined },
        'parameter_missing',
        're_openid',
      ],
      [
        'a fractional amount',
        '/v1/redpacks',
        normal({ total_amount: 150.5 }),
        'parameter_invalid',
        'total_amount',
      ],
      [
        'FORCE_CHECK without a name',
        '/v1/transfers',
        { openid: openid(), amount: 100, description: 'x', check_name: 'FORCE_CHECK' },
        'transfer_re_user_name_required',
        're_user_name',
      ],
      [
        'a 0.10 yuan transfer',
        '/v1/transfers',
        { openid: openid(), amount: 10, description: 'x', check_name: 'NO_CHECK' },
        'transfer_amount_limit',
        'amount',
      ],
    ];
    for (const [what, path, body, code, param] of refusals) {
      test(`400 before WeChat is called: ${what}`, async () => {
        const before = w.sandbox.ledger(w.mchId).movements.length;
        const answer = await w.api('POST', path, body);
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.equal(answer.body.error.code, code);
        assert.equal(answer.body.error.param, param);
        assert.equal(w.sandbox.ledger(w.mchId).movements.length, before);
      });
    }

    test('an account without a client certificate gets a 400 and nothing is stored', async () => {
      const response = await fetch(`${w.gateway.ctx.publicUrl()}/v1/redpacks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.noCertKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(normal({ re_openid: 'o-no-cert' })),
      });
      assert.equal(response.status, 400);
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        'account_certificate_missing',
      );
      const stored = await w.gateway.ctx.db
        .selectFrom('payouts')
        .select('id')
        .where('openid', '=', 'o-no-cert')
        .execute();
      assert.equal(stored.length, 0);
    });
  });
}

async function openRedpack(w: PayoutWorld, billno: string): Promise<boolean> {
  const response = await controlPost(w, `/sandbox/v1/redpacks/${billno}/open`, 'POST', {});
  return response.ok;
}

async function setBalance(w: PayoutWorld, balance: number): Promise<void> {
  const response = await controlPost(w, `/sandbox/v1/merchants/${w.mchId}/balance`, 'PUT', { balance });
  assert.ok(response.ok, await response.text());
}

/** The sandbox's control API over HTTPS, trusting its CA. */
async function controlPost(w: PayoutWorld, path: string, method: string, body: unknown): Promise<Response> {
  const { Agent } = await import('undici');
  return fetch(w.sandbox.url + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    // @ts-expect-error undici's dispatcher option on Node's fetch
    dispatcher: new Agent({ connect: { ca: w.sandbox.caCert } }),
  });
}
