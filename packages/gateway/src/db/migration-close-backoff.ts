// Migration 012: fair order for the close job and the checkout job. An intent whose close failed waits, longer
// after each failure, behind the others (payment_intents.next_close_at, close_failures); an overdue checkout
// session the job could not settle yet goes behind the ones it has not tried (checkout_sessions.settle_tried_at).
// The indexes let each due query read only due rows, in the order they are run.
import type { Kysely, Migration } from 'kysely';

export const closeBackoffMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('payment_intents').addColumn('next_close_at', 'bigint').execute();
    await db.schema
      .alterTable('payment_intents')
      .addColumn('close_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // Expired, never failed (next_close_at is null), oldest first; and failed ones by their retry time. It takes
    // over from (status, expires_at), which only the close job read: one index less to write per intent.
    await db.schema
      .createIndex('payment_intents_close_expires')
      .on('payment_intents')
      .columns(['status', 'next_close_at', 'expires_at'])
      .execute();
    await db.schema.dropIndex('payment_intents_expires').execute();
    // Canceled within WeChat's 5 minutes, never failed, by the time their close was scheduled for. Partial: the
    // few intents with a scheduled close are all it holds, so other intents' writes never touch it.
    await db.schema
      .createIndex('payment_intents_close_scheduled')
      .on('payment_intents')
      .columns(['status', 'next_close_at', 'close_at'])
      .where('close_at', 'is not', null)
      .execute();
    await db.schema.alterTable('checkout_sessions').addColumn('settle_tried_at', 'bigint').execute();
    await db.schema
      .createIndex('checkout_sessions_settle')
      .on('checkout_sessions')
      .columns(['status', 'settle_tried_at', 'expires_at'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('checkout_sessions_settle').execute();
    await db.schema.alterTable('checkout_sessions').dropColumn('settle_tried_at').execute();
    await db.schema.dropIndex('payment_intents_close_scheduled').execute();
    await db.schema.dropIndex('payment_intents_close_expires').execute();
    await db.schema
      .createIndex('payment_intents_expires')
      .on('payment_intents')
      .columns(['status', 'expires_at'])
      .execute();
    await db.schema.alterTable('payment_intents').dropColumn('close_failures').execute();
    await db.schema.alterTable('payment_intents').dropColumn('next_close_at').execute();
  },
};
