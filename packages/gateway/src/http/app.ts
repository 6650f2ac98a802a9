// The fastify application: plugins per resource, auth and idempotency on /v1, errors in one shape, OpenAPI.
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import { randomToken } from '../domain/ids.js';
import { runInRequest } from '../domain/request-context.js';
import { installAuth } from './auth.js';
import { baasRoutes } from './baas.js';
import { checkoutPageRoutes } from './checkout-page.js';
import { checkoutSessionRoutes } from './checkout-sessions.js';
import { compatRoutes } from './compat.js';
import { dashboardRoutes } from './dashboard.js';
import { installErrorHandling } from './errors.js';
import { eventRoutes } from './events.js';
import { installIdempotency } from './idempotency.js';
import { notifyRoutes } from './notify.js';
import { paymentIntentRoutes } from './payment-intents.js';
import { payoutRoutes } from './payouts.js';
import { qrRoutes } from './qr.js';
import { refundAndWebhookRoutes } from './refunds-webhooks.js';
import { ErrorBody } from './schemas.js';
import { installValidation } from './validation.js';

export async function buildApp(
  ctx: ServiceContext,
  logger: FastifyServerOptions['logger'] = false,
): Promise<FastifyInstance> {
  const app = Fastify({
    logger,
    bodyLimit: 256 * 1024,
    genReqId: () => `req_${randomToken(24)}`,
  });
  // Every request runs in its own context, so the events it writes name it; the id is also a header to quote.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('request-id', request.id);
    runInRequest({ id: request.id }, done);
  });
  installErrorHandling(app);
  // Unknown parameters are refused (naming them), not silently dropped; bodies are not coerced.
  installValidation(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'wxpay gateway',
        version: '0.1.0',
        description: 'A Stripe-style JSON API over WeChat Pay',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          basic: { type: 'http', scheme: 'basic' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
  });
  app.addSchema(ErrorBody);
  app.get('/openapi.json', { schema: { hide: true } as object }, async () => app.swagger());

  await app.register(async (v1) => {
    installAuth(v1, ctx);
    installIdempotency(v1, ctx);
    await paymentIntentRoutes(v1, ctx);
    await eventRoutes(v1, ctx);
    await payoutRoutes(v1, ctx);
    await v1.register(async (baas) => baasRoutes(baas, ctx));
    await checkoutSessionRoutes(v1, ctx);
  });
  await app.register(async (scope) => notifyRoutes(scope, ctx));
  await app.register(async (scope) => qrRoutes(scope, ctx));
  await refundAndWebhookRoutes(app, ctx);
  await app.register(async (scope) => checkoutPageRoutes(scope, ctx));
  await app.register(async (scope) => dashboardRoutes(scope, ctx));
  await app.register(async (scope) => compatRoutes(scope, ctx));
  return app;
}
