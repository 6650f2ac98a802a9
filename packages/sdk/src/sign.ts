// The v2 signature: sorted non-empty fields joined as k=v&…&key=KEY, then MD5 or HMAC-SHA256, upper-case hex.
import { createHmac, hash, timingSafeEqual } from 'node:crypto';

export type SignType = 'MD5' | 'HMAC-SHA256';

/** A field value as the SDK accepts it; null, undefined and '' are left out of the signature. */
export type FieldValue = string | number | boolean | null | undefined;
export type Fields = Record<string, FieldValue>;

/** The exact string that is hashed, without the `&key=` suffix. Useful when a signature is disputed. */
export function signingString(params: Readonly<Fields>): string {
  let out = '';
  for (const name of Object.keys(params).sort()) {
    if (name === 'sign') continue;
    const value = params[name];
    if (value === undefined || value === null || value === '') continue;
    out += out === '' ? `${name}=${value}` : `&${name}=${value}`;
  }
  return out;
}

/** Signs the fields with the APIv2 key and returns upper-case hex. */
export function sign(params: Readonly<Fields>, key: string, signType: SignType = 'MD5'): string {
  const text = `${signingString(params)}&key=${key}`;
  if (signType === 'HMAC-SHA256') {
    return createHmac('sha256', key).update(text, 'utf8').digest('hex').toUpperCase();
  }
  if (signType === 'MD5') {
    return hash('md5', text, 'hex').toUpperCase();
  }
  throw new TypeError(`unknown sign type ${JSON.stringify(signType)}: use 'MD5' or 'HMAC-SHA256'`);
}

/** The sign type a signature was made with, told by its length (64 hex: HMAC-SHA256, 32: MD5). */
export function signTypeOf(signature: string): SignType | undefined {
  if (signature.length === 64) return 'HMAC-SHA256';
  if (signature.length === 32) return 'MD5';
  return undefined;
}

/**
 * Checks `params.sign` against the fields, in constant time. The sign type is inferred from the
 * signature's length, because WeChat omits `sign_type` from notifies even for HMAC-SHA256 orders.
 * Every field except `sign` takes part, unknown ones included.
 */
export function verifySign(params: Readonly<Fields>, key: string): boolean {
  const received = params.sign;
  if (typeof received !== 'string') return false;
  const signType = signTypeOf(received);
  if (!signType) return false;
  const expected = Buffer.from(sign(params, key, signType), 'latin1');
  const actual = Buffer.from(received.toUpperCase(), 'latin1');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
