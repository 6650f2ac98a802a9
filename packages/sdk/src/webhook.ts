// Gateway webhook signatures: `Wxpay-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=…]`,
// the scheme Stripe and WooshPay use. The gateway signs with signWebhookPayload; receivers verify with
// constructWebhookEvent.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SIGNATURE_HEADER = 'Wxpay-Signature';

export type WebhookSignatureErrorCode =
  | 'header_missing'
  | 'header_malformed'
  | 'timestamp_outside_tolerance'
  | 'signature_mismatch'
  | 'body_invalid';

/** Why a webhook was refused; switch on `code`. */
export class WebhookSignatureError extends Error {
  readonly code: WebhookSignatureErrorCode;
  constructor(code: WebhookSignatureErrorCode, message: string) {
    super(message);
    this.name = 'WebhookSignatureError';
    this.code = code;
  }
}

function asBuffer(rawBody: string | Uint8Array): Buffer {
  return typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody);
}

/** hex HMAC-SHA256(secret, "<t>.<raw body>") */
export function computeWebhookSignature(
  secret: string,
  timestampSec: number,
  rawBody: string | Uint8Array,
): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(asBuffer(rawBody)).digest('hex');
}

/** The header value, with one v1= per secret (two while a rotated secret is still valid). */
export function signWebhookPayload(
  rawBody: string | Uint8Array,
  secrets: readonly string[],
  timestampSec: number,
): string {
  return [
    `t=${timestampSec}`,
    ...secrets.map((s) => `v1=${computeWebhookSignature(s, timestampSec, rawBody)}`),
  ].join(',');
}

/**
 * Verifies a webhook on the exact bytes received and returns the parsed event. Any one of the header's v1
 * signatures may match (compared in constant time); a timestamp more than `toleranceSec` away from now is refused,
 * so a captured delivery cannot be replayed later.
 */
export function constructWebhookEvent<T = unknown>(
  rawBody: string | Uint8Array,
  header: string | string[] | null | undefined,
  secret: string,
  toleranceSec = 300,
  nowSec: number = Math.floor(Date.now() / 1000),
): T {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) throw new WebhookSignatureError('header_missing', `No ${WEBHOOK_SIGNATURE_HEADER} header`);
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const item = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(item)) timestamp = Number(item);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(item)) signatures.push(item);
  }
  if (timestamp === undefined || signatures.length === 0)
    throw new WebhookSignatureError(
      'header_malformed',
      `${WEBHOOK_SIGNATURE_HEADER} needs t= and at least one v1=`,
    );
  if (toleranceSec > 0 && Math.abs(nowSec - timestamp) > toleranceSec)
    throw new WebhookSignatureError(
      'timestamp_outside_tolerance',
      `The signature's timestamp is ${nowSec - timestamp} s from now (tolerance ${toleranceSec} s)`,
    );
  const expected = Buffer.from(computeWebhookSignature(secret, timestamp, rawBody), 'hex');
  let matched = false;
  for (const signature of signatures) {
    // Every candidate is compared (no early exit), each in constant time.
    if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) matched = true;
  }
  if (!matched)
    throw new WebhookSignatureError('signature_mismatch', 'No signature matches the payload for this secret');
  try {
    return JSON.parse(asBuffer(rawBody).toString('utf8')) as T;
  } catch {
    throw new WebhookSignatureError('body_invalid', 'The payload is not JSON');
  }
}
