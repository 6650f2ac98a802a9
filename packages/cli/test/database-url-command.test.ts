import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect } from '@wxpay/gateway';
import { closedPort, type Finished, finish } from './support/cli.ts';

const PASSWORD = 'hunter2';

/** The command failed in one line on stderr (no stack trace), with exit code 2, and never showed the password. */
function refusedInOneLine(result: Finished, pattern: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^wxpay: [^\n]*\n$/, 'one line, no stack trace');
  assert.match(result.stderr, pattern);
  assert.ok(
    !`${result.stdout}${result.stderr}`.includes(PASSWORD),
    `the password was printed: ${result.stderr}`,
  );
}

describe('wxpay migrate and serve never print the database password', () => {
  test('a MySQL DATABASE_URL is refused as not supported yet, its password masked', async () => {
    const env = { ...process.env, DATABASE_URL: `mysql://root:${PASSWORD}@db.example/wxpay` };
    for (const args of [['migrate'], ['serve', '--port', '0']]) {
      refusedInOneLine(
        await finish(args, env),
        /^wxpay: DATABASE_URL: MySQL is not supported yet; use sqlite:PATH or postgres:\/\/…, got "mysql:\/\/root:\*\*\*@db\.example\/wxpay"$/m,
      );
    }
  });

  test('a mistyped scheme is refused with the URL shown, its password masked', async () => {
    const cases: [url: string, shown: string][] = [
      [`postgress://root:${PASSWORD}@db.example/wxpay`, 'postgress://root:***@db.example/wxpay'],
      // A password with characters that should have been percent-encoded is masked whole.
      [`postgress://root:${PASSWORD}/x@y@db.example/wxpay`, 'postgress://root:***@db.example/wxpay'],
      [
        `postgress://db.example/wxpay?user=root&password=${PASSWORD}`,
        'postgress://db.example/wxpay?user=root&password=***',
      ],
      // The scheme left out altogether.
      [`root:${PASSWORD}@db.example/wxpay`, 'root:***@db.example/wxpay'],
    ];
    for (const [url, shown] of cases) {
      for (const args of [['migrate'], ['serve', '--port', '0']]) {
        const result = await finish(args, { ...process.env, DATABASE_URL: url });
        refusedInOneLine(result, /^wxpay: DATABASE_URL: must be sqlite:PATH or postgres:\/\/…, got "/m);
        assert.ok(result.stderr.includes(`got "${shown}"`), result.stderr);
      }
    }
  });

  test('the same URL in the WXPAY_CONFIG file is refused under its file key, its password masked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wxpay-dburl-'));
    try {
      const path = join(dir, 'config.json');
      await writeFile(path, JSON.stringify({ databaseUrl: `postgress://root:${PASSWORD}@db.example/wxpay` }));
      const env = { ...process.env, WXPAY_CONFIG: path, DATABASE_URL: '' };
      refusedInOneLine(
        await finish(['serve', '--port', '0'], env),
        /^wxpay: databaseUrl: must be sqlite:PATH or postgres:\/\/…, got "postgress:\/\/root:\*\*\*@db\.example\/wxpay"$/m,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a PostgreSQL server that refuses the connection is one line, without the password', async () => {
    const port = await closedPort();
    const env = { ...process.env, DATABASE_URL: `postgres://root:${PASSWORD}@127.0.0.1:${port}/wxpay` };
    for (const args of [['migrate'], ['serve', '--port', '0']]) {
      refusedInOneLine(
        await finish(args, env),
        new RegExp(
          `^wxpay: cannot connect to the database \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`,
          'm',
        ),
      );
    }
  });

  test('connect(), which migrate uses, refuses an unusable URL without its password', () => {
    assert.throws(
      () => connect(`postgress://root:${PASSWORD}@db.example/wxpay`),
      (error: Error) => {
        assert.equal(
          error.message,
          'DATABASE_URL: must be sqlite:PATH or postgres://…, got "postgress://root:***@db.example/wxpay"',
        );
        return true;
      },
    );
  });
});
