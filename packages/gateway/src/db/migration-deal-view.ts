// Migration 005: compat_deals (the old service's merchant/product ids per order) and the view `deal` with the
// columns of the Thinkjs + MySQL service's table, read over the gateway's own tables.
import {
  type Kysely,
  type Migration,
  MysqlAdapter,
  PostgresAdapter,
  type RawBuilder,
  SqliteAdapter,
  sql,
} from 'kysely';

type ViewDialect = 'sqlite' | 'postgres' | 'mysql';

export function viewDialectOf(db: Kysely<unknown>): ViewDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  throw new Error(`the deal view has no SQL for the adapter ${adapter.constructor.name}`);
}

/**
 * The only dialect-specific pieces, chosen when the migration runs: yuan as a double, and epoch milliseconds
 * as a date-time. Everything else is plain SQL (CASE, scalar subqueries with ORDER BY … LIMIT 1), quoted by
 * Kysely for the dialect at hand.
 */
const DIALECT_SQL: Record<
  ViewDialect,
  {
    yuan(fen: RawBuilder<unknown>): RawBuilder<number>;
    dateTime(ms: RawBuilder<unknown>): RawBuilder<unknown>;
  }
> = {
  sqlite: {
    yuan: (fen) => sql`CAST(${fen} AS REAL) / 100`,
    dateTime: (ms) => sql`datetime(${ms} / 1000, 'unixepoch')`,
  },
  postgres: {
    yuan: (fen) => sql`CAST(${fen} AS DOUBLE PRECISION) / 100`,
    dateTime: (ms) => sql`to_timestamp(${ms} / 1000.0)`,
  },
  mysql: {
    yuan: (fen) => sql`CAST(${fen} AS DOUBLE) / 100`,
    dateTime: (ms) => sql`FROM_UNIXTIME(${ms} / 1000)`,
  },
};

export function dealViewQuery(
  // biome-ignore lint/suspicious/noExplicitAny: the view is built before the typed schema exists
  db: Kysely<any>,
  dialect: ViewDialect,
  /** Migration 013 on: a canceled intent WeChat reports paid (transaction_id recorded) is status 1. */
  canceledButPaidIsPaid: boolean,
) {
  const d = DIALECT_SQL[dialect];
  const latest = (kind: string) =>
    db
      .selectFrom('wechat_payloads as p')
      .select('p.body')
      .whereRef('p.intent_id', '=', 'pi.id')
      .where('p.kind', '=', sql.lit(kind))
      .orderBy('p.created', 'desc')
      .orderBy('p.id', 'desc')
      .limit(sql.lit(1));
  return db
    .selectFrom('compat_deals as cd')
    .innerJoin('payment_intents as pi', 'pi.id', 'cd.intent_id')
    .select((eb) => [
      'cd.order_id as order_id',
      'cd.product_id as product_id',
      'cd.merchant_id as merchant_id',
      'pi.wechat_transaction_id as transaction_id',
      d.yuan(sql.ref('pi.amount')).as('price'),
      d.yuan(sql.ref('pi.amount')).as('price_last'),
      // Paid is what WeChat says of the money: a canceled intent WeChat reports paid (its transaction_id recorded,
      // and alerted as payment_intent.wechat_status_conflict) is paid, as the old service's status would say.
      eb
        .case()
        .when(
          eb.or([
            eb('pi.status', '=', sql.lit('succeeded')),
            ...(canceledButPaidIsPaid ? [eb('pi.wechat_transaction_id', 'is not', null)] : []),
          ]),
        )
        .then(sql.lit(1))
        .when('pi.status', '=', sql.lit('canceled'))
        .then(sql.lit(2))
        .else(sql.lit(0))
        .end()
        .as('status'),
      sql.lit(0).as('mode'),
      latest('prepay').as('prepayBack'),
      latest('notify').as('payBack'),
      latest('query').as('queryBack'),
      d.dateTime(sql.ref('pi.created')).as('create_at'),
      d.dateTime(sql.ref('pi.updated')).as('update_at'),
    ]);
}

export const dealViewMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('compat_deals')
      .addColumn('intent_id', 'varchar(64)', (c) => c.primaryKey().references('payment_intents.id'))
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('order_id', 'varchar(45)', (c) => c.notNull())
      .addColumn('merchant_id', 'bigint', (c) => c.notNull())
      .addColumn('product_id', 'bigint', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('compat_deals_order')
      .on('compat_deals')
      .columns(['account_id', 'order_id'])
      .unique()
      .execute();
    await db.schema
      .createView('deal')
      .as(dealViewQuery(db, viewDialectOf(db), false))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropView('deal').ifExists().execute();
    await db.schema.dropTable('compat_deals').ifExists().execute();
  },
};
