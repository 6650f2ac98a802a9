// Pure pieces: money limits, the state machine, the follow-up schedule, configuration errors.
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { type ConfigurationError, loadConfig, resolveConfig } from '../src/config.ts';
import { cachingStatements, connect } from '../src/db/connect.ts';
import { insertRow } from '../src/db/insert-row.ts';
import { migrate } from '../src/db/migrations.ts';
import type { ApiError } from '../src/domain/errors.ts';
import { checkAmount, DEFAULT_FX_USD_PER_UNIT } from '../src/domain/money.ts';
import { canApply, nextQueryAt, prepayOutlived } from '../src/domain/state.ts';
import { wechatTime } from '../src/domain/time.ts';

describe('money', () => {
  const fx = DEFAULT_FX_USD_PER_UNIT;
  test('exactly 50,000 USD is accepted and one cent more is refused', () => {
    checkAmount(5_000_000, 'USD', fx, 50_000);
    assert.throws(
      () => checkAmount(5_000_001, 'USD', fx, 50_000),
      (e: ApiError) => e.code === 'amount_too_large' && e.param === 'amount',
    );
  });
  test('the cap converts through the FX table exactly (CNY at 0.14)', () => {
    // 50,000 / 0.14 = 357,142.857… CNY → 35,714,285 fen is under, 35,714,286 is over.
    checkAmount(35_714_285, 'CNY', fx, 50_000);
    assert.throws(() => checkAmount(35_714_286, 'CNY', fx, 50_000), /above the limit/);
  });
  test('below one minor unit is refused', () => {
    assert.throws(
      () => checkAmount(0, 'EUR', fx, 50_000),
      (e: ApiError) => e.code === 'amount_too_small',
    );
  });
});

describe('state machine', () => {
  test('only open intents can succeed; a succeeded or canceled one cannot change', () => {
    assert.ok(canApply('succeed', 'requires_action'));
    assert.ok(canApply('succeed', 'processing'));
    assert.ok(!canApply('succeed', 'succeeded'));
    assert.ok(!canApply('cancel', 'succeeded'));
    assert.ok(!canApply('await_result', 'succeeded'));
  });
  test('orderquery follows the schedule, then the interval, and stops at expiry', () => {
    const t0 = 1_000_000;
    const schedule = [60, 120, 300, 600];
    assert.equal(nextQueryAt(t0, 0, schedule, 1800, t0 + 7_200_000), t0 + 60_000);
    assert.equal(nextQueryAt(t0, 3, schedule, 1800, t0 + 7_200_000), t0 + 600_000);
    assert.equal(nextQueryAt(t0, 4, schedule, 1800, t0 + 7_200_000), t0 + 2_400_000);
    assert.equal(nextQueryAt(t0, 8, schedule, 1800, t0 + 7_200_000), null);
  });
  test("an H5 order's mweb_url is outlived after 5 minutes, any other prepay after 2 hours", () => {
    const t0 = 1_000_000;
    assert.ok(!prepayOutlived(t0, 'MWEB', t0 + 5 * 60_000 - 1));
    assert.ok(prepayOutlived(t0, 'MWEB', t0 + 5 * 60_000));
    for (const tradeType of ['NATIVE', 'JSAPI', 'APP']) {
      assert.ok(!prepayOutlived(t0, tradeType, t0 + 2 * 3600_000 - 1), tradeType);
      assert.ok(prepayOutlived(t0, tradeType, t0 + 2 * 3600_000), tradeType);
    }
    assert.ok(!prepayOutlived(null, 'MWEB', t0 + 3 * 3600_000), 'nothing issued, nothing to renew');
  });
  test('time_expire is China Standard Time', () => {
    assert.equal(wechatTime(Date.UTC(2026, 0, 1, 16, 30, 5)), '20260102003005');
  });
});

describe('configuration', () => {
  test('a missing merchant key names WXPAY_MCH_KEY', () => {
    assert.throws(
      () => loadConfig({ WXPAY_APPID: 'wx1', WXPAY_MCH_ID: '1900000109' }),
      (e: ConfigurationError) => e.setting === 'WXPAY_MCH_KEY',
    );
  });
  test('an unreadable p12 names WXPAY_CERT_P12', () => {
    assert.throws(
      () =>
        loadConfig({
          WXPAY_APPID: 'wx1',
          WXPAY_MCH_ID: '1900000109',
          WXPAY_MCH_KEY: '192006250b4c09247ec02edce69f6a2d',
          WXPAY_CERT_P12: '/nonexistent/apiclient_cert.p12',
        }),
      (e: ConfigurationError) => e.setting === 'WXPAY_CERT_P12' && /cannot read/.test(e.message),
    );
  });
  test('a bad DATABASE_URL and a bad FX rate name their setting', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://x' }),
      (e: ConfigurationError) => e.setting === 'DATABASE_URL',
    );
    assert.throws(
      () => resolveConfig({ fxUsdPerUnit: { ...DEFAULT_FX_USD_PER_UNIT, EUR: '-1' } }),
      (e: ConfigurationError) => e.setting === 'fxUsdPerUnit.EUR',
    );
  });
  test('defaults: sqlite under .wxpay and a 2-hour expiry', () => {
    const config = loadConfig({});
    assert.equal(config.databaseUrl, 'sqlite:.wxpay/gateway.sqlite');
    assert.equal(config.intentTtlSeconds, 7200);
  });
  test('test mode has no WeChat to talk to unless a sandbox is configured', () => {
    assert.equal(resolveConfig({}).testWechat, undefined);
    assert.equal(loadConfig({}).testWechat, undefined);
    assert.equal(
      loadConfig({ WXPAY_SANDBOX_URL: 'https://127.0.0.1:8443' }).testWechat?.baseUrl,
      'https://127.0.0.1:8443',
    );
  });
  test('test mode can never point at WeChat itself', () => {
    for (const url of ['https://api.mch.weixin.qq.com', 'https://APIHK.mch.weixin.qq.com/']) {
      assert.throws(
        () => loadConfig({ WXPAY_SANDBOX_URL: url }),
        (e: ConfigurationError) => e.setting === 'WXPAY_SANDBOX_URL' && /money is real/.test(e.message),
      );
    }
  });
  test('an unreadable sandbox CA names WXPAY_SANDBOX_CA', () => {
    assert.throws(
      () =>
        loadConfig({ WXPAY_SANDBOX_URL: 'https://127.0.0.1:8443', WXPAY_SANDBOX_CA: '/nonexistent/ca.pem' }),
      (e: ConfigurationError) => e.setting === 'WXPAY_SANDBOX_CA',
    );
  });
});

describe('SQLite prepared-statement cache', () => {
  test('reuses a statement per SQL text, evicts the least recently used, and never hands out a busy one', () => {
    const database = new SQLite(':memory:');
    const cached = cachingStatements(database, 2);
    database.exec('create table t (n integer)');
    const insert = cached.prepare('insert into t (n) values (?)');
    assert.equal(cached.prepare('insert into t (n) values (?)'), insert);
    for (const n of [1, 2, 3]) insert.run([n]);
    const select = cached.prepare('select n from t order by n');
    assert.deepEqual(select.all([]), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    // A third text evicts the least recently used (the insert), not the select used just now.
    cached.prepare('select count(*) as c from t');
    assert.equal(cached.prepare('select n from t order by n'), select);
    assert.notEqual(cached.prepare('insert into t (n) values (?)'), insert);
    // While a statement is being iterated, the same SQL gets a fresh statement.
    const iterator = select.iterate([]);
    iterator.next();
    const other = cached.prepare('select n from t order by n');
    assert.notEqual(other, select);
    assert.deepEqual(other.all([]), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    iterator.return?.();
    assert.equal(cached.prepare('select n from t order by n'), select);
    cached.close();
  });
});

describe('insertRow', () => {
  test('binds each row to SQL compiled once per table and column list; undefined columns and SQL values still work', async () => {
    const connection = connect('sqlite::memory:');
    const db = connection.db;
    await migrate(db);
    const base = { account_id: 'acct_1', livemode: 0, type: 't', object_id: null, created: 1, data: '{}' };
    // Every query Kysely builds starts at insertInto: counting it counts the compiles.
    const built = mock.method(db, 'insertInto');
    await insertRow(db, 'events', { ...base, id: 'evt_1', request_id: 'req_1' });
    assert.equal(built.mock.callCount(), 1);
    // Same columns, other values: the cached text, new parameters, nothing built.
    await insertRow(db, 'events', { ...base, id: 'evt_2', request_id: 'req_2', created: 2 });
    assert.equal(built.mock.callCount(), 1);
    // An undefined column is left out, as Kysely does (its own column list, its own text).
    await insertRow(db, 'events', { ...base, id: 'evt_3', request_id: undefined, created: 3 });
    assert.equal(built.mock.callCount(), 2);
    // A value that is an SQL expression goes through Kysely.
    await insertRow(db, 'events', { ...base, id: 'evt_4', created: sql<number>`1 + 3` as unknown as number });
    assert.equal(built.mock.callCount(), 3);
    built.mock.restore();
    const rows = await db
      .selectFrom('events')
      .select(['id', 'created', 'request_id'])
      .orderBy('created')
      .execute();
    assert.deepEqual(rows, [
      { id: 'evt_1', created: 1, request_id: 'req_1' },
      { id: 'evt_2', created: 2, request_id: 'req_2' },
      { id: 'evt_3', created: 3, request_id: null },
      { id: 'evt_4', created: 4, request_id: null },
    ]);
    await connection.close();
  });
});
