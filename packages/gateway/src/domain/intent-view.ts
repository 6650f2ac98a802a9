// The API representation of a PaymentIntent row (secrets and internal columns left out).
import type { IntentRow } from '../db/schema.js';
import { toUnixSeconds } from './time.js';

export interface PayloadView {
  kind: string;
  body: string;
  created: number;
}

export function intentView(row: IntentRow, payloads?: PayloadView[]) {
  return {
    id: row.id,
    object: 'payment_intent' as const,
    amount: row.amount,
    /** Pending and succeeded refunds. */
    amount_refunded: row.amount_refunded,
    refunded: row.amount_refunded > 0 && row.amount_refunded >= row.amount,
    currency: row.currency,
    status: row.status,
    created: toUnixSeconds(row.created),
    livemode: row.livemode === 1,
    description: row.description,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    return_url: row.return_url,
    next_action: row.next_action ? (JSON.parse(row.next_action) as Record<string, unknown>) : null,
    payment_method_types: ['wechat_pay'],
    payment_method_options: {
      wechat_pay: {
        terminal_type: row.terminal_type,
        client_ip: row.client_ip,
        os_type: row.os_type,
        openid: row.openid,
      },
    },
    confirmation_method: 'automatic' as const,
    capture_method: 'automatic' as const,
    payment_failed: row.payment_failed ? (JSON.parse(row.payment_failed) as Record<string, string>) : null,
    client_result: row.client_result,
    cancellation_reason: row.cancellation_reason,
    /** A cancel that waits for WeChat's 5-minute closeorder rule; the intent is canceled when it runs. */
    cancellation_scheduled_at: row.close_at === null ? null : toUnixSeconds(row.close_at),
    expires_at: toUnixSeconds(row.expires_at),
    wechat_pay: {
      out_trade_no: row.out_trade_no,
      trade_type: row.trade_type,
      prepay_id: row.wechat_prepay_id,
      transaction_id: row.wechat_transaction_id,
    },
    ...(payloads ? { wechat_payloads: payloads } : {}),
  };
}

export type IntentView = ReturnType<typeof intentView>;
