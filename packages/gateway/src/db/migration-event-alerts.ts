// Migration 011: the alert events of each account (see domain/alerts.ts), recorded beside the event in its
// transaction, so the dashboard reads the newest alerts from their own index instead of searching an account's
// events, nearly none of which are alerts. Ordinary events cost nothing more to write.
import type { Kysely, Migration } from 'kysely';

export const eventAlertsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('event_alerts')
      .addColumn('event_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('event_alerts_account_created')
      .on('event_alerts')
      .columns(['account_id', 'livemode', 'created', 'event_id'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('event_alerts').execute();
  },
};
