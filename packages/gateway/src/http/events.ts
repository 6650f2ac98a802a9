// GET /v1/events: the outbox, newest first.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import { listEvents } from '../domain/events.js';
import { requireAuth } from './auth.js';
import { createdRange, ListQuery } from './schemas.js';

export async function eventRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List events, newest first',
        querystring: Type.Object(
          {
            ...ListQuery,
            type: Type.Optional(Type.String({ pattern: '^[a-z_]+\\.[a-z_.]+$', maxLength: 100 })),
            object_id: Type.Optional(Type.String({ maxLength: 64 })),
            delivery_success: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request) => {
      const q = request.query;
      return listEvents(ctx.db, requireAuth(request), {
        limit: q.limit,
        starting_after: q.starting_after,
        ending_before: q.ending_before,
        type: q.type,
        object_id: q.object_id,
        delivery_success: q.delivery_success,
        created: createdRange(q),
      });
    },
  );
}
