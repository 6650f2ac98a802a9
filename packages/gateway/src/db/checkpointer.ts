// WAL checkpoints on a worker thread, so that copying the log back into the database file (and the two fsyncs
// that go with it) never blocks the event loop.
//
// SQLite checkpoints automatically inside the COMMIT that takes the log past 1000 pages: with better-sqlite3
// that is on the event loop, about 1% of commits, 4–10 ms each, 40% of all the time spent in COMMIT. Here a
// worker thread with its own connection runs a PASSIVE checkpoint every few milliseconds. PASSIVE never waits
// for and never blocks the gateway's writers; it copies what it can, and the next writer restarts the log
// once everything has been copied. The gateway's connection keeps automatic checkpoints only as a backstop,
// at ten times the usual size, should the worker ever fall behind or stop.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The gateway connection's own automatic checkpoint, in pages, once the worker runs. */
export const BACKSTOP_CHECKPOINT_PAGES = 10_000;
/** SQLite's own default, back in force when the worker stops. */
export const DEFAULT_CHECKPOINT_PAGES = 1000;

const INTERVAL_MS = 20;

// Plain CommonJS, evaluated by the worker: the gateway runs both from its sources (tsx) and built.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
const tick = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (result.checkpointed > 0) parentPort.postMessage({ checkpointed: result.checkpointed, log: result.log });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message) });
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'close') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  /** Checkpoints that copied at least one page, and the pages copied by the latest. */
  checkpoints = 0;
  lastCheckpointed = 0;
  lastError: string | undefined;
  #closing = false;

  /** `onStopped` is told, once, when the worker fails or exits without having been closed. */
  constructor(path: string, onStopped: (reason: string) => void) {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path,
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        intervalMs: INTERVAL_MS,
      },
    });
    // It must never keep the process alive on its own.
    this.#worker.unref();
    this.#worker.on('message', (message: { checkpointed?: number; error?: string }) => {
      if (message.error !== undefined) this.lastError = message.error;
      else {
        this.checkpoints++;
        this.lastCheckpointed = message.checkpointed ?? 0;
      }
    });
    let stopped = false;
    const stop = (reason: string) => {
      if (stopped || this.#closing) return;
      stopped = true;
      onStopped(reason);
    };
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        stop(`it exited with code ${code}`);
        resolve();
      });
      // A worker that fails is not fatal: the connection takes checkpoints back (onStopped).
      this.#worker.once('error', (error) => {
        this.lastError = error.message;
        stop(error.message);
      });
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    // Waiting for it to finish is work the process must stay up for.
    this.#worker.ref();
    this.#worker.postMessage('close');
    await this.#exited;
  }
}
