// The Thinkjs-compatible /wxPay routes and the `deal` view, on SQLite and PostgreSQL, against the mock WeChat.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseXml } from '@wxpay/sdk';
import { DummyDriver, Kysely, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler, sql } from 'kysely';
import { dealViewQuery } from '../src/db/migration-deal-view.ts';
import { parseCompatId, parseYuanPrice } from '../src/domain/compat.ts';
import { readWechatText } from '../src/domain/wechat-text.ts';
import { parseCompatJson } from '../src/http/compat.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, type Json, startHarness } from './support/harness.ts';

const DEAL_COLUMNS = [
  'order_id',
  'product_id',
  'merchant_id',
  'transaction_id',
  'price',
  'price_last',
  'status',
  'mode',
  'prepayBack',
  'payBack',
  'queryBack',
  'create_at',
  'update_at',
];

describe('compat price parsing', () => {
  test('yuan text becomes fen exactly, and more than two decimals is refused', () => {
    assert.equal(parseYuanPrice('12.30'), 1230);
    assert.equal(parseYuanPrice('0.1'), 10);
    assert.equal(parseYuanPrice('1.13'), 113);
    assert.throws(() => parseYuanPrice('0.015'), /more than two decimal places/);
    assert.throws(() => parseYuanPrice('1e2'), /yuan amount/);
    assert.throws(() => parseYuanPrice('-1'), /yuan amount/);
    assert.throws(() => parseYuanPrice('0.00'), /at least 0.01/);
  });

  test('ids are whole numbers that fit int(11), as JSON numbers or digits', () => {
    assert.equal(parseCompatId(' 5 ', 'merchant_id'), 5);
    assert.equal(parseCompatId(2147483647, 'product_id'), 2147483647);
    assert.throws(() => parseCompatId(2147483648, 'product_id'), /product_id must be a whole number/);
    assert.throws(() => parseCompatId('5.5', 'merchant_id'), /merchant_id/);
    assert.throws(() => parseCompatId(-1, 'merchant_id'), /merchant_id/);
  });

  test('the deal view compiles for MySQL with backtick names, FROM_UNIXTIME and CAST AS DOUBLE', () => {
    // biome-ignore lint/suspicious/noExplicitAny: a schema-less instance, only for compiling
    const mysql = new Kysely<any>({
      dialect: {
        createAdapter: () => new MysqlAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new MysqlIntrospector(db),
        createQueryCompiler: () => new MysqlQueryCompiler(),
      },
    });
    const compiled = mysql.schema
      .createView('deal')
      .as(dealViewQuery(mysql, 'mysql', true))
      .compile();
    assert.deepEqual(compiled.parameters, []);
    assert.ok(!compiled.sql.includes('"'), compiled.sql);
    for (const piece of [
      '`prepayBack`',
      '`payBack`',
      '`queryBack`',
      'FROM_UNIXTIME(',
      'AS DOUBLE) / 100',
      'case when',
    ]) {
      assert.ok(compiled.sql.includes(piece), `${piece} in ${compiled.sql}`);
    }
  });

  test('a JSON price keeps the digits it was sent with', () => {
    assert.equal((parseCompatJson('{"price": 12.30}') as Json).price, '12.30');
    assert.equal((parseCompatJson('{"price":0.015}') as Json).price, '0.015');
    assert.equal((parseCompatJson('{"price":"9.9"}') as Json).price, '9.9');
  });
});

describe('stored WeChat replies', () => {
  test('are read whether kept as WeChat sent them (XML) or as JSON of the fields (older rows)', () => {
    const xml =
      '<xml><trade_state><![CDATA[USERPAYING]]></trade_state><trade_state_desc>输入密码</trade_state_desc></xml>';
    assert.deepEqual(readWechatText(xml), { trade_state: 'USERPAYING', trade_state_desc: '输入密码' });
    assert.deepEqual(readWechatText('{"trade_state":"REVOKED"}'), { trade_state: 'REVOKED' });
    assert.equal(readWechatText('TIMEOUT: no answer within 5000 ms'), undefined);
  });
});

for (const kind of DATABASE_KINDS) {
  describe(`compat routes and the deal view on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
      h.gateway.ctx.config.compatAccount = h.accountId;
    });
    after(async () => {
      await h?.close();
    });

    const post = async (path: string, body: string | FormData, contentType?: string) => {
      const response = await fetch(h.url + path, {
        method: 'POST',
        headers: contentType ? { 'content-type': contentType } : {},
        body,
      });
      const text = await response.text();
      return { status: response.status, text, body: JSON.parse(text) as Json };
    };
    const postJson = (path: string, body: unknown) => post(path, JSON.stringify(body), 'application/json');
    const deal = async (orderId: string): Promise<Record<string, unknown>> => {
      const { rows } = await sql<
        Record<string, unknown>
      >`SELECT * FROM deal WHERE order_id = ${orderId}`.execute(h.gateway.ctx.db);
      assert.equal(rows.length, 1);
      return rows[0]!;
    };
    const dateTimeOf = (ms: number) =>
      kind === 'sqlite'
        ? new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ')
        : new Date(ms).toISOString();
    const normalise = (value: unknown) => (value instanceof Date ? value.toISOString() : value);

    test('toPay answers exactly {code_url:[…], order_id, code:0, msg:""} and orders price×100 fen NATIVE', async () => {
      const answer = await post(
        '/wxPay/toPay',
        '{"merchant_id":7,"product_id":42,"price":12.30}',
        'application/json',
      );
      assert.equal(answer.status, 200, answer.text);
      const orderId = answer.body.order_id;
      assert.match(orderId, /^[0-9A-Za-z]{24}$/);
      const codeUrl = answer.body.code_url[0];
      assert.match(codeUrl, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
      assert.equal(answer.text, JSON.stringify({ code_url: [codeUrl], order_id: orderId, code: 0, msg: '' }));
      const sent = h.mock.requests.find(
        (r) => r.path === '/pay/unifiedorder' && r.fields.out_trade_no === orderId,
      );
      assert.equal(sent?.fields.total_fee, '1230');
      assert.equal(sent?.fields.trade_type, 'NATIVE');
      assert.equal(sent?.fields.fee_type, 'CNY');
    });

    test('toPay reads urlencoded and multipart bodies, as Thinkjs does', async () => {
      const form = await post(
        '/wxPay/toPay',
        'merchant_id=3&product_id=5&price=0.1',
        'application/x-www-form-urlencoded',
      );
      assert.equal(form.status, 200, form.text);
      const multipartBody = new FormData();
      multipartBody.set('merchant_id', '3');
      multipartBody.set('product_id', '6');
      multipartBody.set('price', '1.13');
      const multipart = await post('/wxPay/toPay', multipartBody);
      assert.equal(multipart.status, 200, multipart.text);
      const fees = [form.body.order_id, multipart.body.order_id].map(
        (id) =>
          h.mock.requests.find((r) => r.path === '/pay/unifiedorder' && r.fields.out_trade_no === id)?.fields
            .total_fee,
      );
      assert.deepEqual(fees, ['10', '113']);
    });

    test('bad toPay input is a 4xx naming the field, never a 500, with code 1 for old clients', async () => {
      const cases: [string, string, string, number, string | null][] = [
        ['{"merchant_id":1,"product_id":2,"price":0.015}', 'application/json', 'price', 400, 'two decimal'],
        ['{"merchant_id":1,"product_id":2,"price":"abc"}', 'application/json', 'price', 400, 'yuan amount'],
        ['{"merchant_id":1,"product_id":2,"price":0}', 'application/json', 'price', 400, '0.01'],
        ['{"merchant_id":1,"product_id":2,"price":-1}', 'application/json', 'price', 400, null],
        [
          '{"merchant_id":1,"product_id":2,"price":400000}',
          'application/json',
          'price',
          400,
          'largest amount',
        ],
        ['{"product_id":2,"price":1}', 'application/json', 'merchant_id', 400, 'Missing'],
        ['{"merchant_id":1.5,"product_id":2,"price":1}', 'application/json', 'merchant_id', 400, null],
        ['{"merchant_id":1,"product_id":99999999999,"price":1}', 'application/json', 'product_id', 400, null],
        ['merchant_id=x&product_id=2&price=1', 'application/x-www-form-urlencoded', 'merchant_id', 400, null],
        ['{"merchant_id":1,', 'application/json', '', 400, 'not valid JSON'],
        ['merchant_id=1', 'text/plain', '', 415, null],
      ];
      for (const [body, type, param, status, message] of cases) {
        const answer = await post('/wxPay/toPay', body, type);
        assert.equal(answer.status, status, `${body}: ${answer.text}`);
        assert.equal(answer.body.code, 1, body);
        assert.equal(answer.body.msg, answer.body.error.message, body);
        if (param) assert.equal(answer.body.error.param, param, body);
        if (message) assert.ok(answer.body.msg.includes(message), `${body}: ${answer.body.msg}`);
      }
      for (const path of ['/wxPay/queryOrder', '/wxPay/doCloseOrder']) {
        const missing = await postJson(path, {});
        assert.equal(missing.status, 400, missing.text);
        assert.equal(missing.body.error.param, 'order_id');
        const unknown = await postJson(path, { order_id: 'nope' });
        assert.equal(unknown.status, 404, unknown.text);
        assert.equal(unknown.body.code, 1);
      }
    });

    test('queryOrder answers {trade_state, trade_state_desc}: NOTPAY, then SUCCESS once WeChat says so', async () => {
      const { body: paid } = await postJson('/wxPay/toPay', { merchant_id: 1, product_id: 2, price: '0.01' });
      const before = await postJson('/wxPay/queryOrder', { order_id: paid.order_id });
      assert.equal(before.status, 200, before.text);
      assert.deepEqual(Object.keys(before.body), ['trade_state', 'trade_state_desc']);
      assert.equal(before.body.trade_state, 'NOTPAY');
      h.pay(paid.order_id);
      const afterPay = await post(
        '/wxPay/queryOrder',
        `order_id=${paid.order_id}`,
        'application/x-www-form-urlencoded',
      );
      assert.deepEqual(afterPay.body, { trade_state: 'SUCCESS', trade_state_desc: 'SUCCESS' });
      const intents = await h.api('GET', '/v1/payment_intents?status=succeeded&limit=100');
      assert.ok(intents.body.data.some((i: Json) => i.wechat_pay.out_trade_no === paid.order_id));
      const alias = await postJson('/wxPay/wxPay/queryOrder', { order_id: paid.order_id });
      assert.equal(alias.body.trade_state, 'SUCCESS');
    });

    test('doCloseOrder within 5 minutes answers code 1 saying why, without calling WeChat; later 关单成功', async () => {
      const { body } = await postJson('/wxPay/toPay', { merchant_id: 1, product_id: 2, price: 5 });
      const early = await postJson('/wxPay/doCloseOrder', { order_id: body.order_id });
      assert.equal(early.status, 200, early.text);
      assert.equal(early.body.code, 1);
      assert.match(early.body.msg, /^关单失败：.*5分钟.*请在\d+秒后重试$/);
      const closeCalls = () =>
        h.mock.requests.filter((r) => r.path === '/pay/closeorder' && r.fields.out_trade_no === body.order_id)
          .length;
      assert.equal(closeCalls(), 0);
      h.clock.now += 5 * 60_000;
      const closed = await postJson('/wxPay/doCloseOrder', { order_id: body.order_id });
      assert.equal(closed.text, JSON.stringify({ code: 0, msg: '关单成功' }));
      assert.equal(closeCalls(), 1);
      const state = await postJson('/wxPay/queryOrder', { order_id: body.order_id });
      assert.equal(state.body.trade_state, 'CLOSED');
    });

    test('doCloseOrder on a paid order is 关单失败 and the order stays paid', async () => {
      const { body } = await postJson('/wxPay/toPay', { merchant_id: 1, product_id: 2, price: 5 });
      await h.postNotify(h.pay(body.order_id));
      h.clock.now += 5 * 60_000;
      const answer = await postJson('/wxPay/doCloseOrder', { order_id: body.order_id });
      assert.equal(answer.body.code, 1);
      assert.match(answer.body.msg, /^关单失败/);
      assert.equal((await deal(body.order_id)).status, 1);
    });

    test('the deal view shows each toPay order with the old columns: unpaid, paid, expired', async () => {
      const createdAt = h.clock.now;
      const { body } = await postJson('/wxPay/toPay', { merchant_id: 11, product_id: 22, price: '0.57' });
      const unpaid = await deal(body.order_id);
      assert.deepEqual(Object.keys(unpaid), DEAL_COLUMNS);
      assert.deepEqual(
        { ...unpaid, prepayBack: undefined, create_at: normalise(unpaid.create_at), update_at: undefined },
        {
          order_id: body.order_id,
          product_id: 22,
          merchant_id: 11,
          transaction_id: null,
          price: 0.57,
          price_last: 0.57,
          status: 0,
          mode: 0,
          prepayBack: undefined,
          payBack: null,
          queryBack: null,
          create_at: dateTimeOf(createdAt),
          update_at: undefined,
        },
      );
      assert.equal(parseXml(String(unpaid.prepayBack)).code_url, body.code_url[0]);

      h.clock.now += 1_000;
      const notify = h.pay(body.order_id);
      assert.match((await h.postNotify(notify)).text, /SUCCESS/);
      const paid = await deal(body.order_id);
      assert.equal(paid.status, 1);
      assert.equal(paid.transaction_id, h.orders.get(body.order_id)!.transaction_id);
      assert.equal(paid.payBack, notify);
      assert.equal(normalise(paid.update_at), dateTimeOf(h.clock.now));

      const other = await postJson('/wxPay/toPay', { merchant_id: 11, product_id: 23, price: '1' });
      h.clock.now += 3 * 60 * 60_000;
      await h.gateway.runJobs();
      const expired = await deal(other.body.order_id);
      assert.equal(expired.status, 2);
      assert.match(String(expired.queryBack), /NOTPAY/);
    });

    test('without WXPAY_COMPAT_ACCOUNT and with several accounts, toPay says which setting is needed', async () => {
      h.gateway.ctx.config.compatAccount = undefined;
      try {
        const answer = await postJson('/wxPay/toPay', { merchant_id: 1, product_id: 2, price: 1 });
        assert.equal(answer.status, 503);
        assert.equal(answer.body.code, 1);
        assert.match(answer.body.msg, /WXPAY_COMPAT_ACCOUNT/);
      } finally {
        h.gateway.ctx.config.compatAccount = h.accountId;
      }
    });
  });
}
