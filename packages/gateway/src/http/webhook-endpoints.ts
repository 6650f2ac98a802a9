// The /v1/webhook_endpoints routes, and the delivery log and redelivery of /v1/events/:id.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import { listEndpointDeliveries, listEventDeliveries, retryEvent } from '../domain/webhook-deliveries.js';
import {
  createdWebhookEndpoint,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  retrieveWebhookEndpoint,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../domain/webhook-endpoints.js';
import { requireAuth } from './auth.js';
import { createdRange, errorResponses, ListQuery } from './schemas.js';

const Url = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 });
const EnabledEvents = Type.Array(Type.String({ pattern: '^(\\*|[a-z_]+(\\.[a-z_]+)+)$', maxLength: 100 }), {
  minItems: 1,
  maxItems: 100,
});
const Metadata = Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), {
  maxProperties: 50,
});
const IdParams = Type.Object({ id: Type.String({ pattern: '^we_[0-9A-Za-z]{1,60}$' }) });
const EventParams = Type.Object({ id: Type.String({ pattern: '^evt_[0-9A-Za-z]{1,60}$' }) });
const Endpoint = Type.Object(
  { id: Type.String(), object: Type.Literal('webhook_endpoint') },
  { additionalProperties: true },
);
const ok = { 200: Endpoint, ...errorResponses };
const LimitQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) },
  { additionalProperties: false },
);

export async function webhookEndpointRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/v1/webhook_endpoints',
    {
      schema: {
        tags: ['webhook_endpoints'],
        summary: 'Create a webhook endpoint; the answer carries its secret, shown only this once',
        body: Type.Object(
          {
            url: Url,
            enabled_events: EnabledEvents,
            description: Type.Optional(Type.String({ maxLength: 500 })),
            metadata: Type.Optional(Metadata),
          },
          { additionalProperties: false },
        ),
        response: ok,
      },
      config: { idempotency: { creates: 'we', answer: (auth, id) => createdWebhookEndpoint(ctx, auth, id) } },
    },
    (request) => createWebhookEndpoint(ctx, requireAuth(request), request.body),
  );

  r.get(
    '/v1/webhook_endpoints',
    {
      schema: {
        tags: ['webhook_endpoints'],
        summary: 'List webhook endpoints, newest first',
        querystring: Type.Object({ ...ListQuery }, { additionalProperties: false }),
      },
    },
    (request) => {
      const q = request.query;
      return listWebhookEndpoints(ctx, requireAuth(request), {
        limit: q.limit,
        starting_after: q.starting_after,
        ending_before: q.ending_before,
        created: createdRange(q),
      });
    },
  );

  r.get(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        tags: ['webhook_endpoints'],
        summary: 'Retrieve a webhook endpoint',
        params: IdParams,
        response: ok,
      },
    },
    (request) => retrieveWebhookEndpoint(ctx, requireAuth(request), request.params.id),
  );

  r.post(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        tags: ['webhook_endpoints'],
        summary: 'Update a webhook endpoint (url, enabled_events, disabled, description, metadata)',
        params: IdParams,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            enabled_events: Type.Optional(EnabledEvents),
            disabled: Type.Optional(Type.Boolean()),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            metadata: Type.Optional(Metadata),
          },
          { additionalProperties: false },
        ),
        response: ok,
      },
      config: { idempotency: 'rerun' },
    },
    (request) => updateWebhookEndpoint(ctx, requireAuth(request), request.params.id, request.body),
  );

  r.delete(
    '/v1/webhook_endpoints/:id',
    { schema: { tags: ['webhook_endpoints'], summary: 'Delete a webhook endpoint', params: IdParams } },
    (request) => deleteWebhookEndpoint(ctx, requireAuth(request), request.params.id),
  );

  r.post(
    '/v1/webhook_endpoints/:id/rotate_secret',
    {
      schema: {
        tags: ['webhook_endpoints'],
        summary:
          'Roll the signing secret; the old one keeps signing for 24 h; the new one is shown only this once',
        params: IdParams,
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: ok,
      },
      config: { idempotency: 'rerun' },
    },
    (request) => rotateWebhookSecret(ctx, requireAuth(request), request.params.id),
  );

  r.get(
    '/v1/webhook_endpoints/:id/deliveries',
    {
      schema: {
        tags: ['webhook_endpoints'],
        summary:
          "An endpoint's deliveries with every attempt (time, status code, latency, first 1 KB of the answer)",
        params: IdParams,
        querystring: LimitQuery,
      },
    },
    (request) => listEndpointDeliveries(ctx, requireAuth(request), request.params.id, request.query.limit),
  );

  r.get(
    '/v1/events/:id/deliveries',
    {
      schema: {
        tags: ['events'],
        summary: "An event's deliveries with every attempt",
        params: EventParams,
        querystring: LimitQuery,
      },
    },
    (request) => listEventDeliveries(ctx, requireAuth(request), request.params.id, request.query.limit),
  );

  r.post(
    '/v1/events/:id/retry',
    {
      schema: {
        tags: ['events'],
        summary: 'Redeliver an event now to every enabled endpoint that takes it',
        params: EventParams,
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
      },
      config: { idempotency: 'rerun' },
    },
    (request) => retryEvent(ctx, requireAuth(request), request.params.id),
  );
}
