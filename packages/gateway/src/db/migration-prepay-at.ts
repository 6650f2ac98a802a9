// Migration 015: payment_intents.prepay_at, when WeChat issued the prepay behind next_action. A prepay_id (and its
// code_url) lasts 2 hours whatever the order's time_expire, so an intent that lives longer is confirmed again for
// a fresh one, under the same out_trade_no.
import type { Kysely, Migration } from 'kysely';

export const prepayAtMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('payment_intents').addColumn('prepay_at', 'bigint').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('payment_intents').dropColumn('prepay_at').execute();
  },
};
