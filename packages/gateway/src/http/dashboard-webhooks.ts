// Dashboard routes for webhooks: endpoints, an endpoint's deliveries with attempt logs, and "retry" (redeliver an event).
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import { ApiError } from '../domain/errors.js';
import { listEndpointDeliveries, retryEvent } from '../domain/webhook-deliveries.js';
import { listWebhookEndpoints, retrieveWebhookEndpoint } from '../domain/webhook-endpoints.js';
import { webhookEndpointsView, webhookEndpointView } from '../web/dashboard/webhooks-view.js';
import type { DashboardKit } from './dashboard-kit.js';

export async function dashboardWebhookRoutes(
  app: FastifyInstance,
  ctx: ServiceContext,
  kit: DashboardKit,
): Promise<void> {
  app.get('/dashboard/webhooks', (request, reply) =>
    kit.page(request, reply, 'webhooks', 'Webhooks', async (login) =>
      webhookEndpointsView((await listWebhookEndpoints(ctx, login, { limit: 100 })).data),
    ),
  );

  app.get<{ Params: { id: string }; Querystring: { message?: string } }>(
    '/dashboard/webhooks/:id',
    (request, reply) =>
      kit.page(request, reply, 'webhooks', 'Webhook endpoint', async (login) => {
        try {
          const endpoint = await retrieveWebhookEndpoint(ctx, login, request.params.id);
          const deliveries = await listEndpointDeliveries(ctx, login, endpoint.id, 50);
          return webhookEndpointView(endpoint, deliveries.data, login.csrfToken, request.query.message);
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) {
            reply.code(404);
            return '<h1>No such webhook endpoint</h1>';
          }
          throw error;
        }
      }),
  );

  app.post<{ Params: { id: string } }>('/dashboard/events/:id/retry', async (request, reply) => {
    const checked = await kit.post(request, reply);
    if (!checked) return { error: 'forbidden' };
    const { login, form } = checked;
    const back = (message: string) =>
      reply.redirect(
        form.endpoint
          ? `/dashboard/webhooks/${encodeURIComponent(form.endpoint)}?message=${encodeURIComponent(message)}`
          : '/dashboard/webhooks',
        303,
      );
    try {
      await retryEvent(ctx, login, request.params.id);
      return back(`Event ${request.params.id} will be redelivered now.`);
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) return back(error.message);
      throw error;
    }
  });
}
