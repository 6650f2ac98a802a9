// Random strings for nonce_str and merchant numbers, from the operating system's CSPRNG.
import { randomFillSync } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DIGITS = '0123456789';

// Random bytes are drawn from a pool refilled by the CSPRNG, since one system call per nonce
// dominated the cost of building a request.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

// Rejection sampling keeps every character equally likely: bytes at or above the largest multiple
// of the alphabet's size are dropped.
function randomFrom(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte < limit) out += alphabet[byte % alphabet.length];
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
