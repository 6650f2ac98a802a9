// Random ids with Stripe-style prefixes (pi_, evt_, acct_, key_).
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomToken(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out.length === length ? out : randomToken(length);
}

export function newId(prefix: 'pi' | 'evt' | 'acct' | 'key' | 'pl'): string {
  return `${prefix}_${randomToken(24)}`;
}
