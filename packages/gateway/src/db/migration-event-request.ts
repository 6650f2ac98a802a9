// Migration 008: events.request_id and events.idempotency_key, the API request that caused each event.
import type { Kysely, Migration } from 'kysely';

export const eventRequestMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('events').addColumn('request_id', 'varchar(64)').execute();
    await db.schema.alterTable('events').addColumn('idempotency_key', 'varchar(255)').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('events').dropColumn('idempotency_key').execute();
    await db.schema.alterTable('events').dropColumn('request_id').execute();
  },
};
