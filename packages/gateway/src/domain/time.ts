// WeChat's time format: yyyyMMddHHmmss in China Standard Time (UTC+8).

export function wechatTime(epochMs: number): string {
  const d = new Date(epochMs + 8 * 3600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    d.getUTCFullYear() +
    pad(d.getUTCMonth() + 1) +
    pad(d.getUTCDate()) +
    pad(d.getUTCHours()) +
    pad(d.getUTCMinutes()) +
    pad(d.getUTCSeconds())
  );
}

export function toUnixSeconds(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}
