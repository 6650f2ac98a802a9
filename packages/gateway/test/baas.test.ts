// The BaaS-style red-packet API: { status, data } answers in the platform's documented shapes, yuan converted
// exactly (1.1 → 110 fen), and its errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { abandonedAfterMs } from '../src/domain/idempotency.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { openid, type PayoutWorld, startPayoutWorld } from './support/payout-sandbox.ts';

const OBJECT_KEYS = [
  'act_name',
  'amt_type',
  'created_at',
  'id',
  'mch_billno',
  'miniapp_id',
  'official_account_id',
  'pk',
  'raw_result',
  're_openid',
  'remark',
  'result',
  'risk_info',
  'scene_id',
  'send_name',
  'status',
  'total_amount',
  'total_num',
  'type',
  'updated_at',
  'wishing',
];

for (const kind of DATABASE_KINDS) {
  describe(`BaaS red-packet API on ${kind}`, () => {
    let w: PayoutWorld;
    before(async () => {
      w = await startPayoutWorld(kind);
    });
    after(async () => {
      await w?.close();
    });

    const params = (extra: Record<string, unknown> = {}) => ({
      type: 'normal',
      official_account_id: w.appid,
      send_name: 'send_name',
      re_openid: openid(),
      total_amount: 1.1,
      total_num: 1,
      wishing: '恭喜发财',
      act_name: '新年红包',
      remark: '新年红包',
      ...extra,
    });

    test('sendRedPack converts 1.1 yuan to 110 fen and answers { return_code, mch_billno, send_listid }', async () => {
      const sent = await w.api(
        'POST',
        '/baas/redpacks',
        params({ scene_id: 'PRODUCT_2', gateway_type: 'weixin_tenpay_wap' }),
      );
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.deepEqual(Object.keys(sent.body).sort(), ['data', 'status']);
      assert.equal(sent.body.status, 200);
      assert.deepEqual(Object.keys(sent.body.data).sort(), ['mch_billno', 'return_code', 'send_listid']);
      assert.equal(sent.body.data.return_code, 'SUCCESS');
      assert.match(sent.body.data.send_listid, /^\d+$/);
      assert.deepEqual(
        w.movements(sent.body.data.mch_billno).map((m) => m.amount),
        [-110],
      );
    });

    test('getSentRedPackList answers { meta, objects } with yuan amounts; getSentRedPack one object', async () => {
      const sent = await w.api('POST', '/baas/redpacks', params({ total_amount: 2.05 }));
      const list = await w.api('GET', '/baas/redpacks?limit=1');
      assert.equal(list.status, 200);
      assert.equal(list.body.status, 200);
      const { meta, objects } = list.body.data;
      assert.deepEqual(Object.keys(list.body.data).sort(), ['meta', 'objects']);
      assert.deepEqual(meta, {
        limit: 1,
        next: '/baas/redpacks?limit=1&offset=1',
        offset: 0,
        previous: null,
        total_count: 2,
      });
      assert.equal(objects.length, 1);
      const object = objects[0];
      assert.deepEqual(Object.keys(object).sort(), OBJECT_KEYS);
      assert.equal(object.mch_billno, sent.body.data.mch_billno);
      assert.equal(object.total_amount, 2.05);
      assert.equal(object.official_account_id, w.appid);
      assert.equal(object.type, 'normal');
      assert.equal(object.amt_type, null);
      assert.equal(object.pk, object.id);
      assert.equal(typeof object.created_at, 'number');
      assert.deepEqual(object.result, {
        mch_billno: sent.body.data.mch_billno,
        send_listid: sent.body.data.send_listid,
        return_code: 'SUCCESS',
      });
      assert.match(object.raw_result, /^<xml>/);
      const second = await w.api('GET', '/baas/redpacks?limit=1&offset=1');
      assert.equal(second.body.data.meta.previous, '/baas/redpacks?limit=1&offset=0');
      assert.equal(second.body.data.meta.next, null);
      assert.equal((await w.api('GET', '/baas/redpacks')).body.data.meta.limit, 20);
      assert.equal((await w.api('GET', '/baas/redpacks?limit=1001')).status, 400);

      const one = await w.api('GET', `/baas/redpacks/${object.id}`);
      assert.equal(one.body.status, 200);
      assert.deepEqual(one.body.data, object);
    });

    test('getRedPackStatus answers gethbinfo fields, by mch_billno or by id', async () => {
      const sent = await w.api('POST', '/baas/redpacks', params());
      const billno = sent.body.data.mch_billno;
      const byBillno = await w.api('GET', `/baas/redpacks/status?mch_billno=${billno}`);
      assert.equal(byBillno.body.status, 200);
      assert.equal(byBillno.body.data.mch_billno, billno);
      assert.equal(byBillno.body.data.return_code, 'SUCCESS');
      assert.equal(byBillno.body.data.result_code, 'SUCCESS');
      assert.equal(byBillno.body.data.hb_type, 'NORMAL');
      assert.equal(byBillno.body.data.total_amount, '110');
      assert.ok(['SENDING', 'SENT'].includes(byBillno.body.data.status));
      const list = (await w.api('GET', '/baas/redpacks?limit=1')).body.data.objects;
      const byId = await w.api('GET', `/baas/redpacks/status?id=${list[0].id}`);
      assert.equal(byId.body.data.mch_billno, billno);
      const neither = await w.api('GET', '/baas/redpacks/status');
      assert.equal(neither.status, 400);
      assert.equal(neither.body.status, 400);
    });

    const refusals: [string, Record<string, unknown>, string][] = [
      ['more than two decimals', { total_amount: 1.001 }, 'total_amount'],
      ['a negative amount', { total_amount: -1 }, 'total_amount'],
      ['an exponent', { total_amount: 1e-7 }, 'total_amount'],
      ['a missing act_name', { act_name: undefined }, 'act_name'],
      ['a missing official_account_id', { official_account_id: undefined }, 'official_account_id'],
      ['total_num 2 for a normal packet', { total_num: 2 }, 'total_num'],
    ];
    for (const [what, extra, param] of refusals) {
      test(`400 { status, data } for ${what}; nothing paid`, async () => {
        const before = w.sandbox.ledger(w.mchId).movements.length;
        const answer = await w.api('POST', '/baas/redpacks', params(extra));
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.equal(answer.body.status, 400);
        assert.equal(answer.body.data.param, param);
        assert.equal(w.sandbox.ledger(w.mchId).movements.length, before);
      });
    }

    test('a yuan amount a float would round (1.10000000000000001) is refused, not paid as 1.10', async () => {
      const before = w.sandbox.ledger(w.mchId).movements.length;
      const body = JSON.stringify(params()).replace(
        /"total_amount":[^,}]+/,
        '"total_amount":1.10000000000000001',
      );
      assert.match(body, /1\.10000000000000001/);
      const response = await fetch(`${w.gateway.ctx.publicUrl()}/baas/redpacks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.key}`, 'content-type': 'application/json' },
        body,
      });
      const answer = (await response.json()) as { status: number; data: { param: string } };
      assert.equal(response.status, 400, JSON.stringify(answer));
      assert.equal(answer.data.param, 'total_amount');
      assert.equal(w.sandbox.ledger(w.mchId).movements.length, before);
    });

    test('an account with no certificate is a 400', async () => {
      const response = await fetch(`${w.gateway.ctx.publicUrl()}/baas/redpacks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.noCertKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(params()),
      });
      const body = (await response.json()) as { status: number; data: { code: string } };
      assert.equal(response.status, 400);
      assert.equal(body.status, 400);
      assert.equal(body.data.code, 'account_certificate_missing');
    });

    test('a keyed sendRedPack whose answer was lost is answered from its record after a crash: paid once', async () => {
      const key = `baas-crash-${Math.random()}`;
      const headers = { 'idempotency-key': key };
      const body = params({ total_amount: 1.37 });
      const first = await w.api('POST', '/baas/redpacks', body, headers);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const billno = first.body.data.mch_billno;
      // The process dies after the red packet was sent, before its answer was kept.
      const keyRow = () =>
        w.gateway.ctx.db
          .selectFrom('idempotency_keys')
          .selectAll()
          .where('key', '=', key)
          .executeTakeFirstOrThrow();
      assert.ok((await keyRow()).object_id, 'the red packet is recorded on the key');
      await w.gateway.ctx.db
        .updateTable('idempotency_keys')
        .set({ state: 'in_progress', response_status: null, response_body: null })
        .where('key', '=', key)
        .execute();
      w.clock.offsetMs += abandonedAfterMs(w.gateway.config) + 1000;
      const recovered = await w.api('POST', '/baas/redpacks', body, headers);
      assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
      assert.equal(recovered.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(recovered.body, first.body, 'the same answer, in the BaaS shape');
      const sent = w.sandbox.ledger(w.mchId).movements.filter((m) => m.amount === -137);
      assert.deepEqual(
        sent.map((m) => m.ref),
        [billno],
        'one red packet for the key',
      );
    });

    test("WeChat's refusal is data { err_code, err_code_des } with status 200", async () => {
      const agent = await controlAgent(w);
      const balance = w.sandbox.ledger(w.mchId).balance;
      const put = (value: number) =>
        fetch(`${w.sandbox.url}/sandbox/v1/merchants/${w.mchId}/balance`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ balance: value }),
          // @ts-expect-error undici's dispatcher option on Node's fetch
          dispatcher: agent,
        });
      await put(0);
      try {
        const answer = await w.api('POST', '/baas/redpacks', params());
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body, {
          status: 200,
          data: { err_code: 'NOTENOUGH', err_code_des: answer.body.data.err_code_des },
        });
        assert.ok(answer.body.data.err_code_des);
      } finally {
        await put(balance);
      }
    });
  });
}

async function controlAgent(w: PayoutWorld) {
  const { Agent } = await import('undici');
  return new Agent({ connect: { ca: w.sandbox.caCert } });
}
