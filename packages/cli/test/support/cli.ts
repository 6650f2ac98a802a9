// Runs the wxpay command line from source in a child process, as `wxpay …` runs from the build.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));

/** Runs the CLI from source, as `wxpay …` would run from the build. */
export function wxpay(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
}

/** Reads the child's stdout until `pattern` matches; fails when the child exits or the time runs out first. */
export async function readUntil(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs = 20_000,
): Promise<RegExpExecArray> {
  let output = '';
  const read = (async () => {
    for await (const chunk of child.stdout!) {
      output += String(chunk);
      const match = pattern.exec(output);
      if (match) return match;
    }
    throw new Error(`the command exited without printing ${pattern}; it printed: ${output}`);
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far: ${output}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a finished command printed, and its exit code. */
export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its exit (`timeoutMs` later it is killed and the test fails). */
export async function finish(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60_000,
): Promise<Finished> {
  const child = wxpay(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (signal === 'SIGKILL')
      throw new Error(`wxpay ${args.join(' ')} ran over ${timeoutMs} ms: ${stdout}${stderr}`);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** A port something else is listening on (127.0.0.1), until `release` is called. */
export async function occupiedPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    release: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on (taken from the system, then released). */
export async function closedPort(): Promise<number> {
  const { port, release } = await occupiedPort();
  await release();
  return port;
}
