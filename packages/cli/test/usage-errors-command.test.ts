import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { finish, occupiedPort } from './support/cli.ts';

describe('wxpay usage errors: one line, exit code 2', () => {
  test('a --host that is not an address of this machine says so and names --host', async () => {
    // 192.0.2.1 is TEST-NET-1, never assigned to a local interface.
    for (const args of [
      ['serve', '--port', '0', '--host', '192.0.2.1'],
      ['sandbox', '--port', '0', '--host', '192.0.2.1'],
    ]) {
      const dir = await mkdtemp(join(tmpdir(), 'wxpay-host-'));
      try {
        const env = { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}` };
        const result = await finish(
          args[0] === 'sandbox' ? [...args, '--data', join(dir, 'sandbox')] : args,
          env,
        );
        assert.equal(
          result.stderr,
          'wxpay: 192.0.2.1 is not an address of this machine; pass --host\n',
          args[0],
        );
        assert.equal(result.code, 2, args[0]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  test('a port already in use names the port and the flag that picks another', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wxpay-port-'));
    const taken = await occupiedPort();
    const { port } = taken;
    try {
      const env = { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}` };
      const cases: [args: string[], message: string][] = [
        [
          ['dev', '--dir', dir, '--port', String(port)],
          `port ${port} is in use (another wxpay dev?); pass --port`,
        ],
        [
          ['dev', '--dir', dir, '--port', '0', '--sandbox-port', String(port)],
          `port ${port} is in use (another wxpay dev?); pass --sandbox-port`,
        ],
        [
          ['serve', '--port', String(port), '--host', '127.0.0.1'],
          `port ${port} is in use (another wxpay serve?); pass --port`,
        ],
        [
          ['sandbox', '--port', String(port), '--data', join(dir, 'sandbox')],
          `port ${port} is in use (another wxpay sandbox?); pass --port`,
        ],
      ];
      for (const [args, message] of cases) {
        const result = await finish(args, env);
        assert.equal(result.stderr, `wxpay: ${message}\n`, args.join(' '));
        assert.equal(result.code, 2, args.join(' '));
      }
    } finally {
      await taken.release();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an unknown option or command, or no command, exits 2 as other usage errors do', async () => {
    for (const [args, message] of [
      [['--bogus'], /error: unknown option '--bogus'/],
      [['bogus'], /error: unknown command 'bogus'/],
      [['dev', '--bogus'], /error: unknown option '--bogus'/],
      [['sandbox', '--port'], /error: option '--port <port>' argument missing/],
      [[], /Usage: wxpay/],
    ] as [string[], RegExp][]) {
      const result = await finish(args);
      assert.equal(result.code, 2, `wxpay ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test('--help and --version still exit 0, and the help tells the exit codes', async () => {
    const help = await finish(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes:\s+0 /);
    const version = await finish(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
