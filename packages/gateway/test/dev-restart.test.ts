import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { authenticate, ConfigurationError, createApiKey, type DevServer, startDev } from '../src/index.ts';

function devJson(dir: string): { secret_key: string; account_id: string } {
  return JSON.parse(readFileSync(join(dir, '.wxpay', 'dev.json'), 'utf8'));
}

/** Starts startDev in `dir`, hands it to `use`, and closes it. */
async function withDev<T>(dir: string, use: (dev: DevServer) => Promise<T>): Promise<T> {
  const dev = await startDev({ dir, logger: false });
  try {
    return await use(dev);
  } finally {
    await dev.close();
  }
}

describe('startDev on a second start', () => {
  test('keeps a working test key, and replaces one that no longer authenticates for the same account', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-dev-restart-'));
    try {
      const first = await withDev(dir, async (dev) => {
        assert.equal(dev.replacedKey, false, 'a first start creates, it replaces nothing');
        return { key: dev.secret_key, account: dev.account_id };
      });
      await withDev(dir, async (dev) => {
        assert.equal(dev.replacedKey, false);
        assert.equal(dev.secret_key, first.key);
        // Revoked, as the dashboard's revoke does.
        await dev.gateway.ctx.db.updateTable('api_keys').set({ revoked: Date.now() }).execute();
      });
      const renewed = await withDev(dir, async (dev) => {
        assert.equal(dev.replacedKey, true);
        assert.equal(dev.account_id, first.account, 'the account and its data are kept');
        assert.notEqual(dev.secret_key, first.key);
        const written = devJson(dir);
        assert.equal(written.secret_key, dev.secret_key, 'dev.json holds the new key');
        assert.equal(written.account_id, first.account);
        const auth = await authenticate(dev.gateway.ctx.db, dev.secret_key);
        assert.equal(auth?.accountId, first.account);
        assert.equal(auth?.livemode, false);
        const response = await fetch(`${dev.gateway_url}/v1/payment_intents`, {
          headers: { authorization: `Bearer ${dev.secret_key}` },
        });
        assert.equal(response.status, 200);
        // A live key of the same account put in dev.json: it works, but not as the test key dev prints.
        return { key: dev.secret_key, live: await createApiKey(dev.gateway.ctx.db, dev.account_id, true) };
      });
      await withDev(dir, async (dev) => {
        assert.equal(dev.replacedKey, false, 'the renewed key is kept on the next start');
        assert.equal(dev.secret_key, renewed.key);
      });
      writeFileSync(
        join(dir, '.wxpay', 'dev.json'),
        JSON.stringify({ ...devJson(dir), secret_key: renewed.live }),
      );
      await withDev(dir, async (dev) => {
        assert.equal(dev.replacedKey, true);
        assert.match(dev.secret_key, /^sk_test_/);
        assert.equal(dev.account_id, first.account);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unreadable dev.json is refused before anything starts, naming the file, and left as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-dev-broken-'));
    try {
      mkdirSync(join(dir, '.wxpay'));
      const path = join(dir, '.wxpay', 'dev.json');
      for (const text of ['{"account_id": "acct_1", "secret_key": sk_test_abcdef', '[]']) {
        writeFileSync(path, text);
        await assert.rejects(startDev({ dir, logger: false }), (error: ConfigurationError) => {
          assert.ok(error instanceof ConfigurationError);
          assert.equal(error.setting, path);
          assert.ok(!error.message.includes('sk_test'), 'no part of the key is quoted');
          assert.equal(error.cause, undefined, "not even in the parser's error");
          return true;
        });
        assert.equal(readFileSync(path, 'utf8'), text);
        assert.ok(!existsSync(join(dir, '.wxpay', 'sandbox')), 'the sandbox never started');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
