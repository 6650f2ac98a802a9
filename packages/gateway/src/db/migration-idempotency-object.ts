// Migration 009: idempotency_keys.object_id, the object a keyed request created, recorded in the creating
// transaction so that a retry after a crash answers it instead of creating another.
import type { Kysely, Migration } from 'kysely';

export const idempotencyObjectMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('idempotency_keys').addColumn('object_id', 'varchar(64)').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('idempotency_keys').dropColumn('object_id').execute();
  },
};
