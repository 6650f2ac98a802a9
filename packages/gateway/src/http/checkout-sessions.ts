// The /v1/checkout/sessions routes: create, retrieve, expire.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { createSession, EXPIRES_IN, expireSession, retrieveSession } from '../domain/checkout-sessions.js';
import type { ServiceContext } from '../domain/context.js';
import { requireAuth } from './auth.js';
import { errorResponses, MAX_MINOR_UNITS } from './schemas.js';

const LineItem = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    quantity: Type.Integer({ minimum: 1, maximum: 10_000 }),
    amount: Type.Integer({ minimum: 1, maximum: MAX_MINOR_UNITS, description: 'Unit amount in minor units' }),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    amount: Type.Integer({ maximum: MAX_MINOR_UNITS, description: 'Minor units (fen, cents)' }),
    currency: Type.String({ pattern: '^[A-Za-z]{3}$' }),
    description: Type.String({ minLength: 1, maxLength: 500 }),
    line_items: Type.Optional(Type.Array(LineItem, { minItems: 1, maxItems: 100 })),
    success_url: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'May contain {CHECKOUT_SESSION_ID}',
    }),
    cancel_url: Type.String({ minLength: 1, maxLength: 2000 }),
    expires_in: Type.Optional(
      Type.Integer({
        minimum: EXPIRES_IN.min,
        maximum: EXPIRES_IN.max,
        description: 'Seconds; default 7200',
      }),
    ),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), { maxProperties: 50 }),
    ),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ pattern: '^cs_(test|live)_[0-9A-Za-z]{1,60}$' }) });

const Session = Type.Object(
  { id: Type.String(), object: Type.Literal('checkout.session') },
  { additionalProperties: true },
);
const ok = { 200: Session, ...errorResponses };

export async function checkoutSessionRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/v1/checkout/sessions',
    {
      schema: {
        tags: ['checkout'],
        summary: 'Create a Checkout Session (a hosted payment page at `url`)',
        body: CreateBody,
        response: ok,
      },
      config: { idempotency: { creates: 'cs', answer: (auth, id) => retrieveSession(ctx, auth, id) } },
    },
    (request) => createSession(ctx, requireAuth(request), request.body),
  );

  r.get(
    '/v1/checkout/sessions/:id',
    {
      schema: { tags: ['checkout'], summary: 'Retrieve a Checkout Session', params: IdParams, response: ok },
    },
    (request) => retrieveSession(ctx, requireAuth(request), request.params.id),
  );

  r.post(
    '/v1/checkout/sessions/:id/expire',
    {
      schema: {
        tags: ['checkout'],
        summary: 'Expire an open Checkout Session; its open intents are canceled',
        params: IdParams,
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: ok,
      },
      config: { idempotency: 'rerun' },
    },
    (request) => expireSession(ctx, requireAuth(request), request.params.id),
  );
}
