// WeChat's published per-merchant QPS limits, counted per simulated second. Opt-in, because tests
// and benchmarks usually want to go faster than WeChat would allow.
export const QPS_LIMITS: Readonly<Record<string, number>> = {
  unifiedorder: 60,
  orderquery: 300,
  refund: 150,
  refundquery: 300,
};

export class RateLimiter {
  readonly #windows = new Map<string, { second: number; count: number }>();

  /** Whether one more call of `endpoint` by `mchId` fits in the second that `now` falls in. */
  allow(mchId: string, endpoint: string, now: number): boolean {
    const limit = QPS_LIMITS[endpoint];
    if (limit === undefined) return true;
    const key = `${mchId}|${endpoint}`;
    const second = Math.floor(now / 1000);
    const window = this.#windows.get(key);
    if (!window || window.second !== second) {
      this.#windows.set(key, { second, count: 1 });
      return true;
    }
    window.count += 1;
    return window.count <= limit;
  }
}
