// Starting and stopping: random ports, the data dir across restarts, extra merchants, seeds.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BusinessError, WechatPay } from '@wxpay/sdk';
import { startSandbox } from '../src/index.ts';
import { clientFor, control, testPki } from './support.ts';

describe('startSandbox', () => {
  test('with a fixed seed, merchants added after a restart reuse no mch_id or appid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-sandbox-'));
    try {
      const first = await startSandbox({ dataDir: dir, seed: 'same seed', pki: testPki() });
      first.addMerchant();
      await first.close();
      // The seeded source starts over: unchecked, it would draw the first merchant's ids again.
      const second = await startSandbox({ dataDir: dir, seed: 'same seed', pki: testPki() });
      try {
        second.addMerchant();
        second.addMerchant();
        const ids = second.merchants.map((m) => m.mchId);
        const appids = second.merchants.map((m) => m.appid);
        assert.equal(ids.length, 4);
        assert.equal(new Set(ids).size, 4, ids.join(' '));
        assert.equal(new Set(appids).size, 4, appids.join(' '));
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a data dir keeps the CA and merchants, and an SDK configured from its files works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-sandbox-'));
    try {
      const first = await startSandbox({ dataDir: dir, seed: 'persist' });
      const added = first.addMerchant();
      const ids = first.merchants.map((m) => m.mchId);
      const caCert = first.caCert;
      await first.close();

      const stored = JSON.parse(readFileSync(join(dir, 'merchants.json'), 'utf8'));
      assert.deepEqual(
        stored.merchants.map((m: { mchId: string }) => m.mchId),
        ids,
      );
      const files = join(dir, 'merchants', added.mchId);
      for (const name of ['apiclient_cert.p12', 'apiclient_cert.pem', 'apiclient_key.pem'])
        assert.ok(existsSync(join(files, name)));

      const second = await startSandbox({ dataDir: dir, seed: 'other seed' });
      try {
        assert.equal(second.caCert, caCert);
        assert.deepEqual(
          second.merchants.map((m) => m.mchId),
          ids,
        );
        const m = stored.merchants[1];
        const pay = new WechatPay({
          appid: m.appid,
          mchId: m.mchId,
          key: m.key,
          clientCert: { cert: readFileSync(m.files.cert), key: readFileSync(m.files.key) },
          baseUrl: second.url,
          ca: readFileSync(join(dir, 'ca.pem')),
        });
        const sent = await pay.call('sendRedpack', {
          mch_billno: 'persist1',
          send_name: 's',
          re_openid: 'o1',
          total_amount: 100,
          total_num: 1,
          wishing: 'w',
          client_ip: '127.0.0.1',
          act_name: 'a',
          remark: 'r',
        });
        assert.ok(sent.send_listid, 'the PEM certificate from the data dir is accepted');
        await pay.close();
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('several merchants, added at start and through the control API; the clock moves; close() is prompt', async () => {
    const sandbox = await startSandbox({ merchants: 2, pki: testPki() });
    assert.equal(sandbox.merchants.length, 2);
    assert.match(sandbox.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(sandbox.port, 0);
    const created = await control(sandbox, 'POST', '/sandbox/v1/merchants');
    assert.equal(created.status, 201);
    assert.equal((created.json.key as string).length, 32);
    assert.equal(sandbox.merchants.length, 3);
    const listed = await control(sandbox, 'GET', '/sandbox/v1/merchants');
    assert.equal((listed.json.merchants as unknown[]).length, 3);
    assert.ok(!JSON.stringify(listed.json).includes(sandbox.merchants[0]!.key), 'the listing shows no keys');
    const before = sandbox.clock.now();
    const moved = await control(sandbox, 'POST', '/sandbox/v1/clock/advance', { seconds: 3600 });
    assert.equal(moved.status, 200);
    assert.ok(Date.parse(moved.json.now as string) >= before + 3_600_000);
    const bad = await control(sandbox, 'POST', '/sandbox/v1/clock/advance', { seconds: -1 });
    assert.equal(bad.status, 400);
    const started = Date.now();
    await sandbox.close();
    assert.ok(Date.now() - started < 2000);
  });

  test('the same seed gives the same merchant ids and keys', async () => {
    const [a, b] = await Promise.all([
      startSandbox({ seed: 42, pki: testPki() }),
      startSandbox({ seed: 42, pki: testPki() }),
    ]);
    try {
      assert.equal(a.merchants[0]!.mchId, b.merchants[0]!.mchId);
      assert.equal(a.merchants[0]!.key, b.merchants[0]!.key);
      assert.notEqual(a.port, b.port);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('with qpsLimits, the 61st unifiedorder in one simulated second is FREQUENCY_LIMITED', async () => {
    // A time scale of 0.0001 keeps the simulated second from ending while the calls are made.
    const sandbox = await startSandbox({
      pki: testPki(),
      qpsLimits: true,
      timeScale: 0.0001,
      startTime: Date.UTC(2026, 0, 1),
    });
    const merchant = sandbox.merchants[0]!;
    const pay = clientFor(sandbox, merchant);
    try {
      const order = (n: number) => ({
        body: 'qps',
        out_trade_no: `QPS${n}`,
        total_fee: 1,
        spbill_create_ip: '127.0.0.1',
        trade_type: 'APP' as const,
        notify_url: 'http://127.0.0.1:9/n',
      });
      for (let n = 0; n < 60; n++) await pay.unifiedOrder(order(n));
      await assert.rejects(
        pay.unifiedOrder(order(60)),
        (e: unknown) => e instanceof BusinessError && e.errCode === 'FREQUENCY_LIMITED',
      );
      await sandbox.clock.advance(1);
      assert.ok((await pay.unifiedOrder(order(61))).prepay_id, 'the next second has room again');
    } finally {
      await pay.close();
      await sandbox.close();
    }
  });
});
