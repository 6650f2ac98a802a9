// Migration 004_checkout: checkout sessions, the intents they created, and dashboard logins.
import type { Kysely, Migration } from 'kysely';

export const checkoutMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('checkout_sessions')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('description', 'varchar(500)', (c) => c.notNull())
      .addColumn('line_items', 'text', (c) => c.notNull())
      .addColumn('success_url', 'varchar(2000)', (c) => c.notNull())
      .addColumn('cancel_url', 'varchar(2000)', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('payment_intent', 'varchar(64)')
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('checkout_sessions_status_expires')
      .on('checkout_sessions')
      .columns(['status', 'expires_at'])
      .execute();
    await db.schema
      .createTable('checkout_session_intents')
      .addColumn('intent_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('session_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('checkout_session_intents_session')
      .on('checkout_session_intents')
      .columns(['session_id', 'created'])
      .execute();
    await db.schema
      .createTable('dashboard_sessions')
      .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of ['dashboard_sessions', 'checkout_session_intents', 'checkout_sessions']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};
