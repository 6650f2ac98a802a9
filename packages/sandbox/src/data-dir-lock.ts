// One sandbox per data dir: a lock file naming the holder's pid, taken before anything is read and removed by close().
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'sandbox.lock';

interface LockOwner {
  pid: number;
  /** Tells this lock from one a dead process with the same pid left. */
  token: string;
  since: string;
}

/** The data dir is held by a running sandbox: starting a second one would lose the ledger of one of them. */
export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  readonly dataDir: string;
  readonly file: string;
  /** The process holding the data dir. */
  readonly pid: number;

  constructor(dataDir: string, file: string, owner: LockOwner) {
    super(
      `The sandbox data dir ${dataDir} is in use by another sandbox (pid ${owner.pid}, since ${owner.since}). ` +
        `Two sandboxes on one data dir overwrite each other's ledger.json. Stop it (\`wxpay dev\` and ` +
        `\`wxpay sandbox\` both keep theirs in .wxpay/sandbox of the directory they run in), or start this one ` +
        `with another data dir. If no sandbox is running there, delete ${file}.`,
    );
    this.name = 'DataDirLockedError';
    this.dataDir = dataDir;
    this.file = file;
    this.pid = owner.pid;
  }
}

export interface DataDirLock {
  /** Gives the data dir up; does nothing if the lock is no longer this one. */
  release(): void;
}

/** The tokens of the locks this process holds: a lock with our pid but another token was left by a dead process. */
const heldHere = new Set<string>();

/** Takes the data dir, or throws DataDirLockedError when a live sandbox has it; a crashed one's lock is taken over. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  const mine: LockOwner = { pid: process.pid, token: randomUUID(), since: new Date().toISOString() };
  // Written whole to a file of our own, then linked into place: link() fails if the lock exists, so no one
  // ever reads a half-written lock, and two starts cannot both succeed.
  const draft = `${file}.${mine.token}`;
  writeFileSync(draft, `${JSON.stringify(mine)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw error;
      }
      const owner = readOwner(file);
      if (owner && isAlive(owner)) throw new DataDirLockedError(dataDir, file, owner);
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(draft, { force: true });
  }
  heldHere.add(mine.token);
  return {
    release() {
      if (!heldHere.delete(mine.token)) return;
      if (readOwner(file)?.token === mine.token) rmSync(file, { force: true });
    },
  };
}

/** The owner a lock file names, or undefined when it names none (an empty or foreign file counts as stale). */
function readOwner(file: string): LockOwner | undefined {
  let parsed: Partial<LockOwner>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
  } catch {
    return undefined;
  }
  const { pid, token, since } = parsed ?? {};
  // kill(0) and kill(-n) would signal process groups: only a plain positive pid is a process.
  if (!Number.isSafeInteger(pid) || pid! <= 0 || typeof token !== 'string') return undefined;
  return { pid: pid!, token, since: typeof since === 'string' ? since : 'an unknown time' };
}

function isAlive(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return heldHere.has(owner.token);
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
