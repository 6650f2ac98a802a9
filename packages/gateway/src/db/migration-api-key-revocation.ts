// Migration 006: API keys can be revoked, and a dashboard session remembers which key opened it.
import type { Kysely, Migration } from 'kysely';

export const apiKeyRevocationMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // When the key was revoked (epoch ms); null while it works. authenticate() refuses revoked keys.
    await db.schema.alterTable('api_keys').addColumn('revoked', 'bigint').execute();
    // So revoking a key can end the sessions it opened, and the dashboard knows the current session's key.
    await db.schema.alterTable('dashboard_sessions').addColumn('api_key_id', 'varchar(64)').execute();
    await db.schema
      .createIndex('api_keys_account_created')
      .on('api_keys')
      .columns(['account_id', 'livemode', 'created', 'id'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('api_keys_account_created').ifExists().execute();
    await db.schema.alterTable('dashboard_sessions').dropColumn('api_key_id').execute();
    await db.schema.alterTable('api_keys').dropColumn('revoked').execute();
  },
};
