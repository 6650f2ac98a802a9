import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WechatPay } from '@wxpay/sdk';
import { finish, readUntil, wxpay } from './support/cli.ts';

describe('wxpay sandbox', () => {
  let dir: string;
  let child: ChildProcess;
  let url: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wxpay-cli-'));
    child = wxpay(['sandbox', '--port', '0', '--data', dir, '--seed', 'cli-test']);
    url = (await readUntil(child, /listening on (https:\/\/\S+)/))[1]!;
  });
  after(async () => {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await rm(dir, { recursive: true, force: true });
  });

  test('serves WeChat Pay over HTTPS to any client pointed at the files it writes', async () => {
    const { merchants } = JSON.parse(await readFile(join(dir, 'merchants.json'), 'utf8'));
    const merchant = merchants[0];
    const pay = new WechatPay({
      appid: merchant.appid,
      mchId: merchant.mchId,
      key: merchant.key,
      clientCert: { pfx: await readFile(merchant.files.p12) },
      ca: await readFile(join(dir, 'ca.pem')),
      baseUrl: url,
      notifyUrl: 'http://127.0.0.1:9/notify',
    });
    const order = await pay.unifiedOrder({
      body: 'CLI test',
      out_trade_no: 'cli0001',
      total_fee: 1,
      spbill_create_ip: '127.0.0.1',
      trade_type: 'NATIVE',
      product_id: 'p1',
    });
    assert.match(order.code_url ?? '', /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    assert.equal((await pay.orderQuery({ out_trade_no: 'cli0001' })).trade_state, 'NOTPAY');
    await pay.close();
  });

  test('a second sandbox on the same data dir is refused in one line naming the first, exit 2', async () => {
    const second = await finish(['sandbox', '--port', '0', '--data', dir]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /^wxpay: The sandbox data dir .* is in use by another sandbox \(pid \d+/);
    assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
  });

  test('a bad flag value is refused with a message naming the flag', async () => {
    const bad = wxpay(['sandbox', '--port', 'eighty']);
    let stderr = '';
    bad.stderr!.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const [code] = await once(bad, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /--port must be a whole number/);
  });
});
