// Refund rules and schedules, free of I/O: WeChat's limits, what a WeChat refund status means here, retry timing.

export const REFUND_STATUSES = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

/** WeChat refuses refunds of payments older than a year, and more than 50 refunds of one payment. */
export const REFUND_WINDOW_MS = 365 * 24 * 3600_000;
export const MAX_REFUNDS_PER_PAYMENT = 50;

/** Statuses a WeChat result may still move a refund out of. */
export const REFUND_OPEN: readonly RefundStatus[] = ['pending', 'requires_action'];

/**
 * A refund_status from a refund notify or refundquery, as the status it moves the refund to.
 * CHANGE (the bank refused the money back; WeChat asks for manual handling) keeps the amount reserved.
 */
export function refundStatusFromWechat(
  status: string | undefined,
): 'succeeded' | 'failed' | 'requires_action' | undefined {
  switch (status) {
    case 'SUCCESS':
      return 'succeeded';
    case 'REFUNDCLOSE':
      return 'failed';
    case 'CHANGE':
      return 'requires_action';
    default:
      return undefined;
  }
}

/** The event type that records reaching `status`. */
export function refundEventType(status: RefundStatus): string {
  return status === 'requires_action' ? 'refund.updated' : `refund.${status}`;
}

/** Resending a refund whose outcome is unknown (same out_refund_no): 10 s, 20 s, 40 s … up to 1 h. */
export function refundResendDelayMs(attempts: number): number {
  return Math.min(10_000 * 2 ** Math.max(0, attempts - 1), 3600_000);
}

/** refundquery for a refund WeChat accepted but has not notified: 1, 5, 30, 60 min, then every 6 h. */
export const REFUND_QUERY_SCHEDULE_SECONDS = [60, 300, 1800, 3600] as const;
export function refundQueryDelayMs(queryCount: number): number {
  const schedule = REFUND_QUERY_SCHEDULE_SECONDS;
  return (queryCount < schedule.length ? schedule[queryCount]! : 6 * 3600) * 1000;
}
