// How long one WeChat call through the SDK client can take, retries included: the lease a sender holds so that
// nobody else (another request, the recovery worker) sends the same thing while the first call may still land.

/** The SDK client's defaults (WechatPay options `retries` and `retryDelayMs`), which ctx.wechat keeps. */
export const SDK_DEFAULT_RETRIES = 1;
export const SDK_DEFAULT_RETRY_DELAY_MS = 200;
/** Room for the database writes around the call and for clock differences between processes. */
export const LEASE_MARGIN_MS = 15_000;

export interface CallBudget {
  /** Per-attempt timeout (ctx.config.wechatTimeoutMs). */
  timeoutMs: number;
  retries?: number;
  retryDelayMs?: number;
}

/**
 * (retries + 1) × timeout, plus the backoff between attempts (delay × 2^n each), plus the margin: the longest
 * a call can still be in flight after it started.
 */
export function wechatCallLeaseMs(budget: CallBudget): number {
  const retries = budget.retries ?? SDK_DEFAULT_RETRIES;
  const delay = budget.retryDelayMs ?? SDK_DEFAULT_RETRY_DELAY_MS;
  let backoff = 0;
  for (let n = 0; n < retries; n++) backoff += delay * 2 ** n;
  return (retries + 1) * budget.timeoutMs + backoff + LEASE_MARGIN_MS;
}
