// Migration 016: payment_intents by WeChat's transaction_id (交易单号), the number a payer reads off their WeChat
// bill (also a late payment of an order a payment gave up), and refunds by WeChat's refund_id, for the dashboard's
// Find and the list API. Partial: only paid intents and orders, and refunds WeChat accepted, carry one, so
// creating any of them writes no more.
import type { Kysely, Migration } from 'kysely';

export const transactionIndexMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('payment_intents_transaction')
      .on('payment_intents')
      .column('wechat_transaction_id')
      .where('wechat_transaction_id', 'is not', null)
      .execute();
    await db.schema
      .createIndex('payment_intent_retired_orders_transaction')
      .on('payment_intent_retired_orders')
      .column('transaction_id')
      .where('transaction_id', 'is not', null)
      .execute();
    await db.schema
      .createIndex('refunds_wechat_refund')
      .on('refunds')
      .column('wechat_refund_id')
      .where('wechat_refund_id', 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('refunds_wechat_refund').execute();
    await db.schema.dropIndex('payment_intent_retired_orders_transaction').execute();
    await db.schema.dropIndex('payment_intents_transaction').execute();
  },
};
