// The PaymentIntent state machine, free of I/O: which statuses each action may start from.

export const INTENT_STATUSES = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'succeeded',
  'canceled',
] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];

export type IntentAction =
  /** The order was placed at WeChat and the payer has something to do (QR, redirect, JSAPI…). */
  | 'require_action'
  /** The payer's page said ok, or micropay is waiting for the payer: only a verified result may finish it. */
  | 'await_result'
  /** A verified notify, orderquery or signed micropay reply says the money arrived. */
  | 'succeed'
  /** WeChat reported PAYERROR: the intent can be confirmed again. */
  | 'fail'
  /** Canceled, closed or expired. */
  | 'cancel';

const OPEN: readonly IntentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
];

const FROM: Record<IntentAction, readonly IntentStatus[]> = {
  // From requires_action too: a confirm renews the prepay of the order the payer has not paid yet.
  require_action: ['requires_payment_method', 'requires_confirmation', 'requires_action'],
  await_result: ['requires_payment_method', 'requires_confirmation', 'requires_action'],
  succeed: OPEN,
  fail: ['requires_confirmation', 'requires_action', 'processing'],
  cancel: OPEN,
};

const TO: Record<IntentAction, IntentStatus> = {
  require_action: 'requires_action',
  await_result: 'processing',
  succeed: 'succeeded',
  fail: 'requires_payment_method',
  cancel: 'canceled',
};

/** The statuses from which `action` is allowed; used in the WHERE of the conditional UPDATE. */
export function allowedFrom(action: IntentAction): readonly IntentStatus[] {
  return FROM[action];
}

export function targetOf(action: IntentAction): IntentStatus {
  return TO[action];
}

export function canApply(action: IntentAction, status: string): boolean {
  return (FROM[action] as readonly string[]).includes(status);
}

/**
 * WeChat holds the payer's money: the intent succeeded, or it was canceled and WeChat then reported it paid
 * after all (its transaction_id recorded, with a payment_intent.wechat_status_conflict event).
 */
export function wasPaid(status: string, transactionId: string | null): boolean {
  return status === 'succeeded' || (status === 'canceled' && transactionId !== null);
}

export function isOpen(status: string): boolean {
  return (OPEN as readonly string[]).includes(status);
}

/** The event type that records reaching `status`. */
export function eventTypeFor(action: IntentAction): string {
  switch (action) {
    case 'require_action':
      return 'payment_intent.requires_action';
    case 'await_result':
      return 'payment_intent.processing';
    case 'succeed':
      return 'payment_intent.succeeded';
    case 'fail':
      return 'payment_intent.payment_failed';
    case 'cancel':
      return 'payment_intent.canceled';
  }
}

/**
 * How long WeChat honours a prepay_id (and the code_url issued with it), whatever the order's time_expire. Within
 * it, unifiedorder resent for the same order answers the same prepay; only after it, a new one.
 */
export const PREPAY_LIFETIME_MS = 2 * 60 * 60 * 1000;

/**
 * How long WeChat honours an H5 (MWEB) order's mweb_url: 5 minutes (mweb_url的有效期为5分钟), though its prepay_id
 * has the 2 hours. Resent after them, unifiedorder for the same order answers a new mweb_url.
 */
export const MWEB_URL_LIFETIME_MS = 5 * 60 * 1000;

/** How long what WeChat issued for an order of `tradeType` (what next_action hands the payer) can be used. */
export function prepayLifetimeMs(tradeType: string | null): number {
  return tradeType === 'MWEB' ? MWEB_URL_LIFETIME_MS : PREPAY_LIFETIME_MS;
}

/** Whether what WeChat issued at `prepayAt` for an order of `tradeType` has outlived it, so must be renewed. */
export function prepayOutlived(prepayAt: number | null, tradeType: string | null, now: number): boolean {
  return prepayAt !== null && now >= prepayAt + prepayLifetimeMs(tradeType);
}

/**
 * When to orderquery next, for an order placed at `orderedAt` that has been queried `count` times:
 * the fixed schedule first, then every `everySeconds`, never after expiry (the expiry job takes over).
 */
export function nextQueryAt(
  orderedAt: number,
  count: number,
  scheduleSeconds: readonly number[],
  everySeconds: number,
  expiresAt: number,
): number | null {
  const last = scheduleSeconds[scheduleSeconds.length - 1] ?? 0;
  const offset =
    count < scheduleSeconds.length
      ? scheduleSeconds[count]!
      : last + (count - scheduleSeconds.length + 1) * everySeconds;
  const at = orderedAt + offset * 1000;
  return at < expiresAt ? at : null;
}
