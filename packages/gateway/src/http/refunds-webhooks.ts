// Registers the refund and webhook routes: /v1/refunds and /v1/webhook_endpoints (authenticated, idempotent POSTs) and the
// refund notify route (raw body, no API key).
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import { installAuth } from './auth.js';
import { installIdempotency } from './idempotency.js';
import { refundNotifyRoutes } from './refund-notify.js';
import { refundRoutes } from './refunds.js';
import { webhookEndpointRoutes } from './webhook-endpoints.js';

export async function refundAndWebhookRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  await app.register(async (v1) => {
    installAuth(v1, ctx);
    installIdempotency(v1, ctx);
    await refundRoutes(v1, ctx);
    await webhookEndpointRoutes(v1, ctx);
  });
  await app.register(async (scope) => refundNotifyRoutes(scope, ctx));
}
