// HTML helpers for the server-rendered pages: escaping (everything dynamic goes through it) and money text.

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** JSON for a `<script type="application/json">` block: `<` is escaped so the text cannot close the tag. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const SYMBOLS: Record<string, string> = { CNY: '¥', HKD: 'HK$', USD: 'US$', EUR: '€', GBP: '£' };

/** 123456 CNY → "¥1,234.56", by integer arithmetic (amounts are minor units). */
export function formatAmount(amount: number, currency: string): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const whole = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${SYMBOLS[currency] ?? `${currency} `}${whole}.${String(abs % 100).padStart(2, '0')}`;
}

/** Parses "12.34" (major units) into minor units without floats; undefined when it is not such a number. */
export function parseMajorUnits(text: string): number | undefined {
  const match = /^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}
