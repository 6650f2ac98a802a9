// The /v1/refunds routes: validate at the edge, call one domain function, answer its result.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import { REFUND_REASONS } from '../domain/refund-state.js';
import { cancelRefund, createRefund, listRefunds, retrieveRefund } from '../domain/refunds.js';
import { requireAuth } from './auth.js';
import { createdRange, errorResponses, ListQuery, MAX_MINOR_UNITS } from './schemas.js';

const IntentId = Type.String({ pattern: '^pi_[0-9A-Za-z]{1,60}$' });
const IdParams = Type.Object({ id: Type.String({ pattern: '^re_[0-9A-Za-z]{1,60}$' }) });
const Refund = Type.Object(
  { id: Type.String(), object: Type.Literal('refund') },
  { additionalProperties: true },
);
const ok = { 200: Refund, ...errorResponses };

export async function refundRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/v1/refunds',
    {
      schema: {
        tags: ['refunds'],
        summary: 'Refund a succeeded PaymentIntent, in full (no amount) or in part',
        body: Type.Object(
          {
            payment_intent: IntentId,
            amount: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: MAX_MINOR_UNITS,
                description: 'Minor units; default: what remains',
              }),
            ),
            reason: Type.Optional(Type.Union(REFUND_REASONS.map((s) => Type.Literal(s)))),
            metadata: Type.Optional(
              Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), {
                maxProperties: 50,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: ok,
      },
      config: { idempotency: { creates: 're', answer: (auth, id) => retrieveRefund(ctx, auth, id) } },
    },
    (request) => createRefund(ctx, requireAuth(request), request.body),
  );

  r.get(
    '/v1/refunds',
    {
      schema: {
        tags: ['refunds'],
        summary: 'List refunds, newest first',
        querystring: Type.Object(
          { ...ListQuery, payment_intent: Type.Optional(IntentId) },
          { additionalProperties: false },
        ),
      },
    },
    (request) => {
      const q = request.query;
      return listRefunds(ctx, requireAuth(request), {
        limit: q.limit,
        starting_after: q.starting_after,
        ending_before: q.ending_before,
        payment_intent: q.payment_intent,
        created: createdRange(q),
      });
    },
  );

  r.get(
    '/v1/refunds/:id',
    { schema: { tags: ['refunds'], summary: 'Retrieve a refund', params: IdParams, response: ok } },
    (request) => retrieveRefund(ctx, requireAuth(request), request.params.id),
  );

  r.post(
    '/v1/refunds/:id/cancel',
    {
      schema: {
        tags: ['refunds'],
        summary: 'Cancel a refund WeChat has not accepted yet',
        params: IdParams,
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: ok,
      },
      config: { idempotency: 'rerun' },
    },
    (request) => cancelRefund(ctx, requireAuth(request), request.params.id),
  );
}
