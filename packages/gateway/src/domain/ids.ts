// Random ids with Stripe-style prefixes (pi_, evt_, acct_, key_).
import { nonce } from '@wxpay/sdk';

/** Letters and digits from the CSPRNG, every character equally likely (the SDK's nonce generator). */
export function randomToken(length: number): string {
  return nonce(length);
}

export function newId(prefix: 'pi' | 'evt' | 'acct' | 'key' | 'pl'): string {
  return `${prefix}_${randomToken(24)}`;
}
