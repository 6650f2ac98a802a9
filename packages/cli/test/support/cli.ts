// Runs the wxpay command line from source in a child process, as `wxpay …` runs from the build.
import { type ChildProcess, spawn } from 'node:child_process';
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
