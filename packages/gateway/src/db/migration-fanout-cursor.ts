// Migration 010: where the webhook fan-out starts scanning the events outbox (see domain/webhook-deliveries.ts).
import type { Kysely, Migration } from 'kysely';

export const fanoutCursorMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhook_fanout_cursor')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('fanned_below', 'bigint', (c) => c.notNull())
      .execute();
    await db
      .insertInto('webhook_fanout_cursor' as never)
      .values({ id: 'events', fanned_below: 0 } as never)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('webhook_fanout_cursor').execute();
  },
};
