// When to retry a webhook delivery, free of I/O: exponential backoff with jitter inside a 3-day window.

export const WEBHOOK_RETRY_WINDOW_MS = 3 * 24 * 3600_000;
export const WEBHOOK_FIRST_RETRY_MS = 30_000;
export const WEBHOOK_MAX_RETRY_MS = 4 * 3600_000;
export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * The wait after failed attempt number `attempt` (1-based): 30 s doubling to a 4 h cap, times a jitter in
 * [0.8, 1.2) from `random` (so receivers that failed together do not all come back at once). Even with the
 * largest jitter this gives more than 18 attempts in 3 days (see the unit test).
 */
export function webhookRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(WEBHOOK_FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1), WEBHOOK_MAX_RETRY_MS);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The next attempt time, or null when it would fall after the retry window: the delivery has failed. */
export function nextWebhookAttemptAt(
  attempt: number,
  now: number,
  windowStart: number,
  random: () => number = Math.random,
): number | null {
  const at = now + webhookRetryDelayMs(attempt, random);
  return at <= windowStart + WEBHOOK_RETRY_WINDOW_MS ? at : null;
}
