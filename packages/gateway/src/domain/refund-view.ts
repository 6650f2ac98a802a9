// The API representation of a refund row.
import type { RefundRow } from '../db/schema-refunds-webhooks.js';
import { toUnixSeconds } from './time.js';

export function refundView(row: RefundRow) {
  return {
    id: row.id,
    object: 'refund' as const,
    amount: row.amount,
    currency: row.currency,
    payment_intent: row.payment_intent,
    status: row.status,
    reason: row.reason,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    failure_reason: row.failure_reason,
    created: toUnixSeconds(row.created),
    livemode: row.livemode === 1,
    wechat_pay: {
      out_refund_no: row.out_refund_no,
      refund_id: row.wechat_refund_id,
      /** false while WeChat has not confirmed receiving the request; the worker resends it with the same out_refund_no. */
      submitted: row.submitted === 1,
    },
  };
}

export type RefundView = ReturnType<typeof refundView>;
