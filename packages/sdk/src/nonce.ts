// Random strings for nonce_str and merchant numbers, from the operating system's CSPRNG.
import { randomBytes } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DIGITS = '0123456789';

// Rejection sampling keeps every character equally likely: bytes at or above the largest multiple
// of the alphabet's size are dropped.
function randomFrom(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A random string of letters and digits; WeChat allows at most 32 characters for nonce_str. */
export function nonce(length = 32): string {
  return randomFrom(ALPHANUMERIC, length);
}

/** A random string of decimal digits. */
export function randomDigits(length: number): string {
  return randomFrom(DIGITS, length);
}
