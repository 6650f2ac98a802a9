// The delivery_success filter of the events list: events by whether their webhook deliveries succeeded.
import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * GET /v1/events?delivery_success=false: events with a delivery still pending or failed; true: events delivered to
 * every endpoint they were fanned out to (at least one).
 */
// biome-ignore lint/suspicious/noExplicitAny: applied to the events list query of pagination.ts
export function whereDeliverySuccess<Q extends SelectQueryBuilder<Database, any, any>>(
  query: Q,
  success: boolean,
): Q {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  return query.where((eb: ExpressionBuilder<Database, any>) => {
    const undelivered = eb.exists(
      eb
        .selectFrom('webhook_deliveries')
        .select('webhook_deliveries.id')
        .whereRef('webhook_deliveries.event_id', '=', 'events.id')
        .where('webhook_deliveries.status', 'in', ['pending', 'failed']),
    );
    if (!success) return undelivered;
    const delivered = eb.exists(
      eb
        .selectFrom('webhook_deliveries')
        .select('webhook_deliveries.id')
        .whereRef('webhook_deliveries.event_id', '=', 'events.id')
        .where('webhook_deliveries.status', '=', 'succeeded'),
    );
    return eb.and([delivered, eb.not(undelivered)]);
  }) as Q;
}
