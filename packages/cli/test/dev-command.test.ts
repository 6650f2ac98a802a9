import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { readUntil, wxpay } from './support/cli.ts';

async function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const [code] = await once(child, 'exit');
  return { code, stderr };
}

describe('wxpay dev (npm start)', () => {
  let dir: string;
  let child: ChildProcess;
  let info: { gateway_url: string; secret_key: string; sandbox_url: string; account_id: string };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wxpay-dev-'));
    child = wxpay(['dev', '--dir', dir, '--port', '0']);
    await readUntil(child, /secret key\s+sk_test_\w+/, 60_000);
    info = JSON.parse(await readFile(join(dir, '.wxpay', 'dev.json'), 'utf8'));
  });
  after(async () => {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await rm(dir, { recursive: true, force: true });
  });

  test('writes dev.json with the gateway, the key, the sandbox and the account', () => {
    assert.match(info.gateway_url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(info.secret_key, /^sk_test_/);
    assert.match(info.sandbox_url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(info.account_id, /^acct_/);
  });

  test('a QR payment goes from creation to succeeded through the bundled sandbox', async () => {
    const auth = { authorization: `Bearer ${info.secret_key}`, 'content-type': 'application/json' };
    const created = await request(`${info.gateway_url}/v1/payment_intents`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        amount: 100,
        currency: 'CNY',
        confirm: true,
        description: 'npm start smoke test',
        payment_method_data: { type: 'wechat_pay' },
        payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
      }),
    });
    const intent = (await created.body.json()) as {
      id: string;
      status: string;
      next_action: { wechat_pay_display_qr_code: { image_data_url: string } };
    };
    assert.equal(created.statusCode, 200, JSON.stringify(intent));
    assert.equal(intent.status, 'requires_action');
    const codeUrl = intent.next_action.wechat_pay_display_qr_code.image_data_url;
    assert.match(codeUrl, /^weixin:\/\/wxpay\/bizpayurl/);

    // The sandbox serves its own CA; the test trusts it the way a user would.
    const ca = await readFile(join(dir, '.wxpay', 'sandbox', 'ca.pem'));
    const sandboxAgent = new Agent({ connect: { ca } });
    const paid = await request(`${info.sandbox_url}/sandbox/v1/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code_url: codeUrl }),
      dispatcher: sandboxAgent,
    });
    assert.equal(paid.statusCode, 200, await paid.body.text());
    await sandboxAgent.close();

    let status = '';
    for (let i = 0; i < 150 && status !== 'succeeded'; i++) {
      const got = await request(`${info.gateway_url}/v1/payment_intents/${intent.id}`, { headers: auth });
      status = ((await got.body.json()) as { status: string }).status;
      if (status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 'succeeded');
  });
});

describe('wxpay serve and migrate', () => {
  test('serve refuses an incomplete merchant configuration, naming the setting', async () => {
    const { code, stderr } = await exitOf(
      wxpay(['serve', '--port', '0'], { ...process.env, WXPAY_MCH_ID: '1900000109', WXPAY_APPID: '' }),
    );
    assert.equal(code, 2);
    assert.match(stderr, /^wxpay: WXPAY_APPID: is required/m);
  });

  test('serve takes a reset APIv2 key from the configuration on restart, and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wxpay-serve-'));
    const env = {
      ...process.env,
      DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}`,
      WXPAY_APPID: 'wx2421b1c4370ec43b',
      WXPAY_MCH_ID: '1900000109',
      WXPAY_MCH_KEY: 'a'.repeat(32),
    };
    const serve = async (extra: Record<string, string>, pattern: RegExp) => {
      const child = wxpay(['serve', '--port', '0'], { ...env, ...extra });
      try {
        return await readUntil(child, pattern, 60_000);
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    };
    try {
      await serve({}, /live key\s+sk_live_\w+/);
      const restarted = await serve({ WXPAY_MCH_KEY: 'b'.repeat(32) }, /wxpay gateway listening[\s\S]*\n$/);
      assert.match(restarted.input, /updated\s+key \(from the configuration\)/);
      assert.ok(!restarted.input.includes('b'.repeat(32)), 'the key itself is never printed');
      assert.ok(!/sk_live_/.test(restarted.input), 'no new keys on a restart');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('migrate brings a new SQLite database up to date, then finds nothing to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wxpay-migrate-'));
    const env = { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}` };
    try {
      const first = wxpay(['migrate'], env);
      const applied = await readUntil(first, /applied: (\S+)/);
      assert.match(applied[1]!, /^001_initial/);
      await once(first, 'exit');
      const second = wxpay(['migrate'], env);
      await readUntil(second, /the database is up to date/);
      await once(second, 'exit');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
