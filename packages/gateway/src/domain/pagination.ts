// Keyset pagination shared by every list: newest first, by (created, id), with starting_after / ending_before.
import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely';
import type { Database, Db } from '../db/schema.js';
import type { AuthContext } from './context.js';
import { ApiError } from './errors.js';

export interface CreatedRange {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface ListParams {
  limit?: number;
  starting_after?: string;
  ending_before?: string;
  /** Unix seconds. */
  created?: CreatedRange;
}

export interface ListResult<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

type PagedTable = 'events' | 'payment_intents' | 'payouts' | 'refunds' | 'webhook_endpoints';
type Row = Record<string, unknown> & { id: string; created: number };
// The tables differ in their other columns; filters are written against the one being listed.
// biome-ignore lint/suspicious/noExplicitAny: shared over two tables with different columns
type AnyQuery = SelectQueryBuilder<Database, any, any>;

export async function paginate<T>(
  db: Db,
  table: PagedTable,
  auth: AuthContext,
  params: ListParams,
  filter: (query: AnyQuery) => AnyQuery,
  view: (row: Row) => T,
): Promise<ListResult<T>> {
  const limit = params.limit ?? 10;
  if (params.starting_after && params.ending_before) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'parameter_invalid',
      'Pass starting_after or ending_before, not both',
      'ending_before',
    );
  }
  const scoped = (q: AnyQuery) =>
    q.where('account_id', '=', auth.accountId).where('livemode', '=', auth.livemode ? 1 : 0);
  let query = filter(scoped(db.selectFrom(table).selectAll() as AnyQuery));
  const created = params.created ?? {};
  if (created.gt !== undefined) query = query.where('created', '>=', (created.gt + 1) * 1000);
  if (created.gte !== undefined) query = query.where('created', '>=', created.gte * 1000);
  if (created.lt !== undefined) query = query.where('created', '<', created.lt * 1000);
  if (created.lte !== undefined) query = query.where('created', '<', (created.lte + 1) * 1000);

  const cursorId = params.starting_after ?? params.ending_before;
  const forward = params.ending_before === undefined;
  if (cursorId !== undefined) {
    const cursor = (await scoped(db.selectFrom(table).select(['id', 'created']) as AnyQuery)
      .where('id', '=', cursorId)
      .executeTakeFirst()) as Row | undefined;
    if (!cursor) {
      throw new ApiError(
        400,
        'invalid_request_error',
        'resource_missing',
        `No such object: '${cursorId}'`,
        forward ? 'starting_after' : 'ending_before',
      );
    }
    const op = forward ? '<' : '>';
    // The plain range bound lets SQLite walk the (account, mode, created, id) index in order; with only the OR it
    // merges two index searches and sorts everything past the cursor (seconds for a deep page at 1M rows).
    query = query.where('created', forward ? '<=' : '>=', cursor.created);
    // biome-ignore lint/suspicious/noExplicitAny: see AnyQuery
    query = query.where((eb: ExpressionBuilder<Database, any>) =>
      eb.or([
        eb('created', op, cursor.created),
        eb.and([eb('created', '=', cursor.created), eb('id', op, cursor.id)]),
      ]),
    );
  }
  const direction = forward ? 'desc' : 'asc';
  const rows = (await query
    .orderBy('created', direction)
    .orderBy('id', direction)
    .limit(limit + 1)
    .execute()) as Row[];
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  if (!forward) page.reverse();
  return {
    object: 'list',
    data: page.map(view),
    has_more: hasMore,
    url: `/v1/${table}`,
  };
}
