// Money is integer fen. Yuan amounts are read from their decimal text, never through a float.

/** Parses a yuan amount such as "12.3", "-0.01" or "¥1,000.00" into integer fen. */
export function yuanToFen(text: string): number {
  const cleaned = text
    .trim()
    .replace(/^[¥￥]/, '')
    .replaceAll(',', '');
  const match = /^(-?)(\d+)(?:\.(\d{0,2}))?$/.exec(cleaned);
  if (!match) throw new RangeError(`not a yuan amount with at most two decimals: ${JSON.stringify(text)}`);
  const [, sign, whole, fraction = ''] = match;
  const fen = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  if (!Number.isSafeInteger(fen)) throw new RangeError(`yuan amount out of range: ${JSON.stringify(text)}`);
  return sign === '-' ? -fen : fen;
}

/** Formats integer fen as yuan text with two decimals, e.g. 1 → "0.01". */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`fen must be a safe integer, got ${fen}`);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
