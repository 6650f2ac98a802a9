// Migration 003_payouts: the payouts table (red packets, transfers, coupons) and their raw WeChat replies.
import type { Kysely, Migration } from 'kysely';

export const payoutsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('payouts')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('subtype', 'varchar(16)')
      .addColumn('source', 'varchar(16)', (c) => c.notNull())
      .addColumn('wechat_no', 'varchar(64)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('amount', 'bigint')
      .addColumn('openid', 'varchar(128)', (c) => c.notNull())
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('result', 'text')
      .addColumn('wechat_id', 'varchar(64)')
      .addColumn('detail', 'text')
      .addColumn('hblist', 'text')
      .addColumn('failure_code', 'varchar(64)')
      .addColumn('failure_message', 'varchar(500)')
      .addColumn('superseded_numbers', 'text', (c) => c.notNull())
      .addColumn('raw_result', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .execute();
    // One WeChat number per merchant account: a second record can never reuse (or race) a number.
    await db.schema
      .createIndex('payouts_account_wechat_no')
      .on('payouts')
      .columns(['account_id', 'wechat_no'])
      .unique()
      .execute();
    await db.schema
      .createIndex('payouts_account_kind_created')
      .on('payouts')
      .columns(['account_id', 'livemode', 'kind', 'created', 'id'])
      .execute();
    await db.schema.createIndex('payouts_next_attempt').on('payouts').columns(['next_attempt_at']).execute();
    await db.schema
      .createTable('payout_replies')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('payout_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('payout_replies_payout')
      .on('payout_replies')
      .columns(['payout_id', 'created'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('payout_replies').ifExists().execute();
    await db.schema.dropTable('payouts').ifExists().execute();
  },
};
