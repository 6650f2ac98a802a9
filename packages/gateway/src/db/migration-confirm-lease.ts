// Migration 007: payment_intents.confirming_until, the lease one confirm holds while it calls WeChat, so that a
// concurrent confirm of the same intent is refused instead of sending a second unifiedorder / micropay.
import type { Kysely, Migration } from 'kysely';

export const confirmLeaseMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('payment_intents').addColumn('confirming_until', 'bigint').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('payment_intents').dropColumn('confirming_until').execute();
  },
};
