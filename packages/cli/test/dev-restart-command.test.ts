import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect } from '@wxpay/gateway';
import { request } from 'undici';
import { finish, readUntil, wxpay } from './support/cli.ts';

interface DevJson {
  gateway_url: string;
  secret_key: string;
  account_id: string;
}

const REPLACED = /the test key in \.wxpay\/dev\.json no longer worked \(revoked\?\); created a new one/;

/** Runs `wxpay dev` in `dir` until it is ready, calls `use` with what it printed and wrote, then stops it. */
async function withDev<T>(dir: string, use: (printed: string, info: DevJson) => Promise<T>): Promise<T> {
  const child = wxpay(['dev', '--dir', dir, '--port', '0']);
  try {
    const printed = await readUntil(child, /Try it:[\s\S]*-d '[^\n]*\n/, 60_000);
    const info = JSON.parse(await readFile(join(dir, '.wxpay', 'dev.json'), 'utf8')) as DevJson;
    return await use(printed.input, info);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

async function statusWith(info: DevJson, key: string): Promise<number> {
  const response = await request(`${info.gateway_url}/v1/payment_intents`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await response.body.dump();
  return response.statusCode;
}

describe('wxpay dev on a second start', () => {
  test('keeps a working test key, and replaces a revoked one, says so and prints the new one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wxpay-dev-restart-'));
    try {
      const first = await withDev(dir, async (_, info) => info);
      await withDev(dir, async (printed, info) => {
        assert.equal(info.secret_key, first.secret_key, 'a working key is kept');
        assert.doesNotMatch(printed, REPLACED);
      });

      // Revoked, as the dashboard's revoke does, while wxpay dev is stopped.
      const connection = connect(`sqlite:${join(dir, '.wxpay', 'gateway.sqlite')}`);
      await connection.db.updateTable('api_keys').set({ revoked: Date.now() }).execute();
      await connection.close();

      await withDev(dir, async (printed, info) => {
        assert.match(printed, REPLACED);
        assert.equal(info.account_id, first.account_id, 'the same account');
        assert.notEqual(info.secret_key, first.secret_key);
        assert.match(printed, new RegExp(`secret key\\s+${info.secret_key}\\n`));
        assert.ok(printed.includes(`-u ${info.secret_key}:`), 'the "Try it" command uses the new key');
        assert.equal(await statusWith(info, info.secret_key), 200);
        assert.equal(await statusWith(info, first.secret_key), 401);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an unreadable dev.json is refused in one line naming the file, and left as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wxpay-dev-broken-'));
    try {
      await mkdir(join(dir, '.wxpay'));
      const path = join(dir, '.wxpay', 'dev.json');
      // Truncated mid-key, and JSON that holds no object.
      for (const text of [
        '{\n  "gateway_url": "http://127.0.0.1:4242",\n  "secret_key": "sk_test_abc',
        'null\n',
      ]) {
        await writeFile(path, text);
        const result = await finish(['dev', '--dir', dir, '--port', '0']);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /^wxpay: [^\n]*\n$/, 'one line, no stack trace');
        assert.ok(result.stderr.startsWith(`wxpay: ${path}: `), result.stderr);
        assert.match(result.stderr, /delete it to start over/);
        assert.ok(!result.stderr.includes('sk_test_'), 'no part of the key is quoted');
        assert.equal(await readFile(path, 'utf8'), text, 'dev.json is left as it was');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
