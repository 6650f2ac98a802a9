// Random ids with Stripe-style prefixes (pi_, evt_, acct_, key_).
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Bytes from the CSPRNG are drawn in blocks (one system call per 4 KiB instead of one per id); each byte is
// handed out once and never reused.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

export function randomToken(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    // 248 = 4 × 62: dropping the bytes above keeps every character equally likely.
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out;
}

export function newId(prefix: 'pi' | 'evt' | 'acct' | 'key' | 'pl'): string {
  return `${prefix}_${randomToken(24)}`;
}
