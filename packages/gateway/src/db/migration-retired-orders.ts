// Migration 014: the order numbers an intent has given up. WeChat refuses a second order on the out_trade_no of a
// failed one (OUT_TRADE_NO_USED), so a failed payment confirmed again is ordered under a number of its own; the
// intent keeps its current number on its row, and each number it gave up is kept here, so that a late notify
// naming one still finds its intent.
import type { Kysely, Migration } from 'kysely';

export const retiredOrdersMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('payment_intent_retired_orders')
      .addColumn('out_trade_no', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('intent_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('trade_type', 'varchar(16)')
      .addColumn('ordered_at', 'bigint')
      .addColumn('trade_state', 'varchar(32)', (c) => c.notNull())
      .addColumn('retired', 'bigint', (c) => c.notNull())
      .addColumn('transaction_id', 'varchar(64)')
      .execute();
    await db.schema
      .createIndex('payment_intent_retired_orders_intent')
      .on('payment_intent_retired_orders')
      .column('intent_id')
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('payment_intent_retired_orders').execute();
  },
};
