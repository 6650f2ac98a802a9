// One sandbox per data dir: two would each rewrite ledger.json from their own memory and lose the other's orders.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DataDirLockedError, LEDGER_FILE, LOCK_FILE, startSandbox } from '../src/index.ts';
import { start, testPki, tradeNo } from './support.ts';

/**
 * Asserts that starting a sandbox on `dir` is refused because process `holder` has it, and that the refusal says
 * what to do. A start wrongly let through is closed, so that the failure does not keep the run alive.
 */
async function assertRefused(dir: string, holder: number): Promise<void> {
  const error = await startSandbox({ dataDir: dir, pki: testPki() }).then(
    async (started) => {
      await started.close();
      assert.fail(`a second sandbox started on ${dir}`);
    },
    (refusal: unknown) => refusal,
  );
  assert.ok(error instanceof DataDirLockedError, String(error));
  assert.equal(error.code, 'DATA_DIR_LOCKED');
  assert.equal(error.dataDir, dir);
  assert.equal(error.pid, holder);
  assert.ok(error.message.includes(dir), error.message);
  assert.ok(error.message.includes(`pid ${holder}`), error.message);
  assert.match(error.message, /another data dir/);
}

/** A separate node process holding a sandbox on `dir`, as `wxpay sandbox` would; resolves once it listens. */
async function holderProcess(dir: string): Promise<ChildProcess> {
  const index = new URL('../src/index.ts', import.meta.url).href;
  const script = `
    import { startSandbox } from ${JSON.stringify(index)};
    await startSandbox({ dataDir: ${JSON.stringify(dir)} });
    process.stdout.write('listening\\n');
    setInterval(() => {}, 60_000);
  `;
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before listening`)));
  });
  return child;
}

describe('the data dir lock', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-sandbox-lock-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a second sandbox on a data dir in use is refused, and the first keeps its orders', async () => {
    const dir = dataDir();
    const first = await start({ dataDir: dir });
    const out_trade_no = tradeNo();
    try {
      await first.pay.unifiedOrder({
        body: 'kept',
        out_trade_no,
        total_fee: 100,
        spbill_create_ip: '127.0.0.1',
        trade_type: 'APP',
        notify_url: 'http://127.0.0.1:9/n',
      });
      await assertRefused(dir, process.pid);
      // The refused start must not have freed the dir for a third.
      await assertRefused(dir, process.pid);
    } finally {
      await first.pay.close();
      await first.sandbox.close();
    }
    // close() frees the dir, and what the first sandbox wrote is all there.
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const again = await start({ dataDir: dir });
    try {
      assert.equal((await again.pay.orderQuery({ out_trade_no })).trade_state, 'NOTPAY');
    } finally {
      await again.pay.close();
      await again.sandbox.close();
    }
  });

  test('a sandbox in another process holds the dir until it dies; a crashed one’s lock is taken over', async () => {
    const dir = dataDir();
    const holder = await holderProcess(dir);
    try {
      await assertRefused(dir, holder.pid!);
    } finally {
      // SIGKILL: no close(), so the lock stays behind as after a crash.
      holder.kill('SIGKILL');
      if (holder.exitCode === null && holder.signalCode === null) await once(holder, 'exit');
    }
    const next = await startSandbox({ dataDir: dir, pki: testPki() });
    await next.close();
  });

  test('a start that fails (unreadable ledger, port taken) leaves the data dir free', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, LEDGER_FILE), '{"orders": [');
    await assert.rejects(startSandbox({ dataDir: dir, pki: testPki() }), /Cannot load the sandbox ledger/);
    rmSync(join(dir, LEDGER_FILE));

    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as { port: number }).port;
    try {
      await assert.rejects(startSandbox({ dataDir: dir, pki: testPki(), port }), /EADDRINUSE/);
    } finally {
      taken.close();
    }

    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const next = await startSandbox({ dataDir: dir, pki: testPki() });
    await next.close();
  });

  test('a lock naming this very pid but none of its sandboxes (a container restarted as pid 1) is taken over', async () => {
    const dir = dataDir();
    const left = { pid: process.pid, token: 'from-an-earlier-life', since: '2026-01-01T00:00:00.000Z' };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(left));
    const next = await startSandbox({ dataDir: dir, pki: testPki() });
    await next.close();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });
});
