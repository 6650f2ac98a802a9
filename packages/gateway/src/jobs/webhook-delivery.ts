// The webhook job: fan out new events and send due deliveries (see domain/webhook-deliveries.ts).
import type { ServiceContext } from '../domain/context.js';
import { type DeliveryOptions, deliverWebhooks } from '../domain/webhook-deliveries.js';
import { runRefundSync } from './refund-sync.js';

export function runWebhookDeliveries(ctx: ServiceContext, options: DeliveryOptions = {}) {
  return deliverWebhooks(ctx, options);
}

/** One pass of the refund and webhook jobs, as the worker loop runs them: refund resends/queries, then webhooks. */
export async function runRefundAndWebhookJobs(ctx: ServiceContext) {
  const refunds = await runRefundSync(ctx);
  const webhooks = await runWebhookDeliveries(ctx);
  return { refunds, webhooks };
}
