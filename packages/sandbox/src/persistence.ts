// Keeps the ledger in a data dir: reads ledger.json at start, and rewrites it (atomically, coalesced) after
// changes. A crash loses at most the last WRITE_DELAY_MS of changes; close() writes what is pending.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LedgerSnapshot, parseSnapshot } from './ledger/snapshot.js';

export const LEDGER_FILE = 'ledger.json';
/** Changes within this many real ms share one write. */
const WRITE_DELAY_MS = 200;

/** A ledger file the sandbox cannot read; it is left as it is, so nothing in it is lost. */
export class LedgerFileError extends Error {
  readonly code = 'LEDGER_FILE_UNREADABLE';
  readonly file: string;

  constructor(file: string, reason: string) {
    super(
      `Cannot load the sandbox ledger ${file}: ${reason}. It was left untouched. Move it away ` +
        `(e.g. to ${file}.bak) to start with an empty ledger, or start with another data dir.`,
    );
    this.name = 'LedgerFileError';
    this.file = file;
  }
}

/** The stored ledger of a data dir, or undefined when there is none yet. */
export function readLedgerFile(dataDir: string): LedgerSnapshot | undefined {
  const file = join(dataDir, LEDGER_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = parseSnapshot(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new LedgerFileError(file, parsed.reason);
  return parsed.value;
}

/** Writes the ledger at most once per WRITE_DELAY_MS after a change, via a temporary file and a rename. */
export class LedgerWriter {
  readonly #file: string;
  readonly #snapshot: () => LedgerSnapshot;
  #timer: NodeJS.Timeout | undefined;

  constructor(dataDir: string, snapshot: () => LedgerSnapshot) {
    this.#file = join(dataDir, LEDGER_FILE);
    this.#snapshot = snapshot;
  }

  /** Something changed: write soon. */
  changed(): void {
    this.#timer ??= setTimeout(() => this.#writeSafely(), WRITE_DELAY_MS).unref();
  }

  /**
   * Writes now, pending change or not: the simulated clock moves without counting as a change, and a restart must
   * not wind it back.
   */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#write();
  }

  #writeSafely(): void {
    try {
      this.#write();
    } catch (error) {
      // A failed write (disk full…) must not take the sandbox down; the next change tries again.
      process.emitWarning(`wxpay sandbox: could not write ${this.#file}: ${(error as Error).message}`);
    }
  }

  // Synchronous: one write per WRITE_DELAY_MS at most, and close() can finish it before returning.
  #write(): void {
    this.#timer = undefined;
    const temporary = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.#snapshot()), { mode: 0o600 });
    renameSync(temporary, this.#file);
  }
}
