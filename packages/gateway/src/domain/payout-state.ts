// The payout state machines, free of I/O: WeChat's statuses mapped to ours, which are final, which raise events.
import type { RedpackStatus, TransferStatus } from '@wxpay/sdk';

export type PayoutKind = 'redpack' | 'transfer' | 'coupon';

export const REDPACK_STATUSES = ['sending', 'sent', 'received', 'failed', 'refunding', 'refunded'] as const;
export const TRANSFER_STATUSES = ['sending', 'processing', 'succeeded', 'failed'] as const;
export const COUPON_STATUSES = ['sending', 'sent', 'failed'] as const;

const FINAL: Record<PayoutKind, readonly string[]> = {
  redpack: ['received', 'failed', 'refunded'],
  transfer: ['succeeded', 'failed'],
  coupon: ['sent', 'failed'],
};

export function isFinal(kind: PayoutKind, status: string): boolean {
  return FINAL[kind].includes(status);
}

/** Our status after WeChat accepted the send call (its reply said SUCCESS). */
export const ACCEPTED_STATUS: Record<PayoutKind, string> = {
  redpack: 'sent',
  transfer: 'processing',
  coupon: 'sent',
};

/** gethbinfo's status → ours. SENDING means WeChat holds the money already, so it is `sent` here. */
export function redpackStatusOf(wechat: RedpackStatus | undefined): string | undefined {
  switch (wechat) {
    case 'SENDING':
    case 'SENT':
      return 'sent';
    case 'RECEIVED':
      return 'received';
    case 'FAILED':
      return 'failed';
    case 'RFUND_ING':
      return 'refunding';
    case 'REFUND':
      return 'refunded';
    default:
      return undefined;
  }
}

export function transferStatusOf(wechat: TransferStatus | undefined): string | undefined {
  switch (wechat) {
    case 'PROCESSING':
      return 'processing';
    case 'SUCCESS':
      return 'succeeded';
    case 'FAILED':
      return 'failed';
    default:
      return undefined;
  }
}

const EVENTS: Record<PayoutKind, Record<string, string>> = {
  redpack: {
    sent: 'redpack.sent',
    received: 'redpack.received',
    refunded: 'redpack.refunded',
    failed: 'redpack.failed',
  },
  transfer: { succeeded: 'transfer.succeeded', failed: 'transfer.failed' },
  coupon: { sent: 'coupon.sent' },
};

/** The event a move into `status` raises, if any. */
export function eventTypeFor(kind: PayoutKind, status: string): string | undefined {
  return EVENTS[kind][status];
}

/** When to look again at a record that is not final: soon at first, then backing off to an hour. */
export function nextAttemptAt(now: number, attempts: number): number {
  return now + Math.min(5_000 * 2 ** Math.min(attempts, 10), 3_600_000);
}
