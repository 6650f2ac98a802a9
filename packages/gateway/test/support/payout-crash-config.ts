// The crash test's gateway settings, shared by the test and the child process it kills.
import { resolveConfig } from '../../src/config.ts';
import { abandonedAfterMs } from '../../src/domain/idempotency.ts';

/** The child's clock runs this many times faster than real time. */
export const CRASH_CLOCK_SPEED = 60;
/** What the child's gateway is built with, beyond its database and sandbox. */
export const CRASH_GATEWAY_OPTIONS = { wechatTimeoutMs: 400 };

/** Real milliseconds after which a dead request's Idempotency-Key can be recovered on the child's clock. */
export function crashKeyRecoveryMs(): number {
  return Math.ceil(abandonedAfterMs(resolveConfig(CRASH_GATEWAY_OPTIONS)) / CRASH_CLOCK_SPEED);
}
