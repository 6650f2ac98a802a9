// Migration 002: refund totals on payment intents, the refunds table, webhook endpoints, deliveries and attempts.
import type { Kysely, Migration } from 'kysely';

export const refundsWebhooksMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // Refund totals live on the intent so one conditional UPDATE can enforce "sum ≤ paid" and "≤ 50 refunds".
    await db.schema
      .alterTable('payment_intents')
      .addColumn('amount_refunded', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('payment_intents')
      .addColumn('refund_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('refunds')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('payment_intent', 'varchar(64)', (c) => c.notNull().references('payment_intents.id'))
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('status', 'varchar(32)', (c) => c.notNull())
      .addColumn('reason', 'varchar(64)')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('out_refund_no', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('submitted', 'integer', (c) => c.notNull())
      .addColumn('wechat_refund_id', 'varchar(64)')
      .addColumn('failure_reason', 'varchar(200)')
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('sending_until', 'bigint')
      .addColumn('next_query_at', 'bigint')
      .addColumn('query_count', 'integer', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('refunds_account_created')
      .on('refunds')
      .columns(['account_id', 'livemode', 'created', 'id'])
      .execute();
    await db.schema.createIndex('refunds_intent').on('refunds').columns(['payment_intent']).execute();
    await db.schema
      .createIndex('refunds_due')
      .on('refunds')
      .columns(['status', 'next_attempt_at', 'next_query_at'])
      .execute();
    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('url', 'varchar(2000)', (c) => c.notNull())
      .addColumn('description', 'varchar(500)')
      .addColumn('enabled_events', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('secret', 'varchar(128)', (c) => c.notNull())
      .addColumn('previous_secret', 'varchar(128)')
      .addColumn('previous_secret_expires_at', 'bigint')
      .addColumn('failing_since', 'bigint')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('webhook_endpoints_account_created')
      .on('webhook_endpoints')
      .columns(['account_id', 'livemode', 'created', 'id'])
      .execute();
    await db.schema
      .createTable('event_fanouts')
      .addColumn('event_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('endpoint_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_until', 'bigint')
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('webhook_deliveries_event_endpoint', ['event_id', 'endpoint_id'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_due')
      .on('webhook_deliveries')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createTable('webhook_attempts')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('delivery_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('endpoint_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('attempted_at', 'bigint', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('error', 'varchar(500)')
      .addColumn('response_body', 'text')
      .execute();
    await db.schema
      .createIndex('webhook_attempts_event')
      .on('webhook_attempts')
      .columns(['event_id', 'attempted_at'])
      .execute();
    await db.schema
      .createIndex('webhook_attempts_endpoint')
      .on('webhook_attempts')
      .columns(['endpoint_id', 'attempted_at'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of [
      'webhook_attempts',
      'webhook_deliveries',
      'event_fanouts',
      'webhook_endpoints',
      'refunds',
    ]) {
      await db.schema.dropTable(table).ifExists().execute();
    }
    await db.schema.alterTable('payment_intents').dropColumn('refund_count').execute();
    await db.schema.alterTable('payment_intents').dropColumn('amount_refunded').execute();
  },
};
