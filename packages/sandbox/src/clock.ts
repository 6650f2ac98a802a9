// Simulated time: real time multiplied by timeScale, plus explicit jumps. Every sandbox timer runs
// on this clock, so `advance()` replays hours of retries instantly and in order.
import { performance } from 'node:perf_hooks';

interface Timer {
  due: number;
  seq: number;
  run: () => unknown;
}

/** The longest delay setTimeout accepts. */
const MAX_REAL_DELAY_MS = 2 ** 31 - 1;
/** Bounds the timers one advance() may run, so a timer that reschedules itself cannot spin forever. */
const MAX_TIMERS_PER_ADVANCE = 100_000;

export class Clock {
  readonly timeScale: number;
  readonly #base: number;
  readonly #realStart = performance.now();
  #jumped = 0;
  #timers: Timer[] = [];
  #seq = 0;
  #realTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #inFlight = new Set<Promise<unknown>>();
  #advancing: Promise<void> = Promise.resolve();
  /**
   * While advance() runs, time stands at the due time of the timer being run, so that real time spent
   * on a notify's HTTP call cannot push a timer it schedules past the target.
   */
  #frozen: number | undefined;

  constructor(options: { timeScale?: number; startTime?: number } = {}) {
    const scale = options.timeScale ?? 1;
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new RangeError(`timeScale must be a positive number, got ${scale}`);
    this.timeScale = scale;
    this.#base = options.startTime ?? Date.now();
  }

  /** The simulated time, epoch ms. */
  now(): number {
    return this.#frozen ?? this.#flowing();
  }

  #flowing(): number {
    return this.#base + (performance.now() - this.#realStart) * this.timeScale + this.#jumped;
  }

  /** Runs `run` at simulated time `due` (epoch ms). Returns a function that cancels it. */
  at(due: number, run: () => unknown): () => void {
    const timer: Timer = { due, seq: this.#seq++, run };
    if (this.#closed) return () => {};
    this.#timers.push(timer);
    this.#timers.sort((x, y) => x.due - y.due || x.seq - y.seq);
    this.#arm();
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
      this.#arm();
    };
  }

  /** Runs `run` after `seconds` of simulated time. */
  after(seconds: number, run: () => unknown): () => void {
    return this.at(this.now() + seconds * 1000, run);
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Jumps simulated time forward, running every timer that falls due on the way, in order, at its
   * exact due time, and waiting for each (a notify's HTTP call included) before the next.
   */
  advance(seconds: number): Promise<void> {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) {
      return Promise.reject(new RangeError(`seconds must be a number ≥ 0, got ${seconds}`));
    }
    const step = async () => {
      const start = this.now();
      const target = start + seconds * 1000;
      this.#frozen = start;
      try {
        for (let i = 0; i < MAX_TIMERS_PER_ADVANCE && !this.#closed; i++) {
          const next = this.#timers[0];
          if (!next || next.due > target) {
            // A timer the real setTimeout started may still be running, and may schedule another
            // that falls before the target: wait for it before deciding that nothing is left.
            if (this.#inFlight.size === 0) break;
            await this.settle();
            continue;
          }
          this.#timers.shift();
          this.#frozen = Math.max(this.#frozen ?? start, next.due);
          await this.#run(next);
        }
      } finally {
        const flowing = this.#flowing();
        if (target > flowing) this.#jumped += target - flowing;
        this.#frozen = undefined;
        this.#arm();
      }
    };
    this.#advancing = this.#advancing.then(step, step);
    return this.#advancing;
  }

  /** Waits until the timers currently running have finished. */
  async settle(): Promise<void> {
    for (let i = 0; i < 100 && this.#inFlight.size > 0; i++) await Promise.allSettled([...this.#inFlight]);
  }

  /** Cancels every timer; waits for those already running. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timers = [];
    if (this.#realTimer) clearTimeout(this.#realTimer);
    this.#realTimer = undefined;
    await this.#advancing.catch(() => {});
    await this.settle();
  }

  async #run(timer: Timer): Promise<void> {
    const running = (async () => {
      try {
        await timer.run();
      } catch {
        // A timer's failure is its own business (notifies record theirs); the clock keeps going.
      }
    })();
    this.#inFlight.add(running);
    try {
      await running;
    } finally {
      this.#inFlight.delete(running);
    }
  }

  // One real setTimeout, aimed at the earliest timer, stands for all of them.
  #arm(): void {
    if (this.#realTimer) clearTimeout(this.#realTimer);
    this.#realTimer = undefined;
    const next = this.#timers[0];
    if (!next || this.#closed) return;
    const delay = Math.min(MAX_REAL_DELAY_MS, Math.max(0, (next.due - this.now()) / this.timeScale));
    this.#realTimer = setTimeout(() => this.#fireDue(), Math.ceil(delay));
    this.#realTimer.unref();
  }

  async #fireDue(): Promise<void> {
    this.#realTimer = undefined;
    for (let i = 0; i < MAX_TIMERS_PER_ADVANCE && !this.#closed; i++) {
      const next = this.#timers[0];
      if (!next || next.due > this.now()) break;
      this.#timers.shift();
      await this.#run(next);
    }
    this.#arm();
  }
}
