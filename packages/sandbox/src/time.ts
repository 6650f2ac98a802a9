// Formats simulated instants the way WeChat writes them: Beijing time (UTC+8), no zone suffix.
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

function parts(ms: number) {
  const d = new Date(ms + BEIJING_OFFSET_MS);
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    y: String(d.getUTCFullYear()),
    mo: pad(d.getUTCMonth() + 1),
    d: pad(d.getUTCDate()),
    h: pad(d.getUTCHours()),
    mi: pad(d.getUTCMinutes()),
    s: pad(d.getUTCSeconds()),
  };
}

/** yyyyMMddHHmmss, as in time_end. */
export function compactTime(ms: number): string {
  const p = parts(ms);
  return `${p.y}${p.mo}${p.d}${p.h}${p.mi}${p.s}`;
}

/** yyyy-MM-dd HH:mm:ss, as in bills, success_time and red packet times. */
export function dateTime(ms: number): string {
  const p = parts(ms);
  return `${p.y}-${p.mo}-${p.d} ${p.h}:${p.mi}:${p.s}`;
}

/** yyyyMMdd, the bill_date of the day the instant falls on. */
export function dateKey(ms: number): string {
  const p = parts(ms);
  return `${p.y}${p.mo}${p.d}`;
}

/** Parses WeChat's yyyyMMddHHmmss (Beijing time) into epoch ms, or undefined when malformed. */
export function parseCompactTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) - BEIJING_OFFSET_MS;
  return Number.isNaN(ms) ? undefined : ms;
}
