// Migration 016: payment_intents by WeChat's transaction_id (交易单号), the number a payer reads off their WeChat
// bill, for the dashboard's Find. Partial: only paid intents carry one, so creating an intent writes no more.
import type { Kysely, Migration } from 'kysely';

export const transactionIndexMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('payment_intents_transaction')
      .on('payment_intents')
      .column('wechat_transaction_id')
      .where('wechat_transaction_id', 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('payment_intents_transaction').execute();
  },
};
