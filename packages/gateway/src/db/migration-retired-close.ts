// Migration 017: closing the orders payments give up. WeChat's guidance for a failed payment paid again under a
// new number is to close the original number, so that it cannot be paid as well: each retired order now carries
// when its close is due (null once done), and how many tries failed.
import { type Kysely, type Migration, sql } from 'kysely';

export const retiredCloseMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('payment_intent_retired_orders').addColumn('close_at', 'bigint').execute();
    await db.schema
      .alterTable('payment_intent_retired_orders')
      .addColumn('close_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // Orders given up before this migration are closed too (WeChat's answer for one already closed counts as done).
    await sql`update payment_intent_retired_orders set close_at = coalesce(ordered_at, retired) + 310000
      where transaction_id is null`.execute(db);
    await db.schema
      .createIndex('payment_intent_retired_orders_close')
      .on('payment_intent_retired_orders')
      .column('close_at')
      .where('close_at', 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('payment_intent_retired_orders_close').execute();
    await db.schema.alterTable('payment_intent_retired_orders').dropColumn('close_failures').execute();
    await db.schema.alterTable('payment_intent_retired_orders').dropColumn('close_at').execute();
  },
};
