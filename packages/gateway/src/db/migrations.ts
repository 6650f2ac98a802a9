// Schema migrations, kept in code so they run on start and through `wxpay migrate` on every dialect.
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { apiKeyRevocationMigration } from './migration-api-key-revocation.js';
import { checkoutMigration } from './migration-checkout.js';
import { closeBackoffMigration } from './migration-close-backoff.js';
import { confirmLeaseMigration } from './migration-confirm-lease.js';
import { dealViewMigration } from './migration-deal-view.js';
import { dealViewPaidMigration } from './migration-deal-view-paid.js';
import { eventAlertsMigration } from './migration-event-alerts.js';
import { eventRequestMigration } from './migration-event-request.js';
import { fanoutCursorMigration } from './migration-fanout-cursor.js';
import { idempotencyObjectMigration } from './migration-idempotency-object.js';
import { payoutsMigration } from './migration-payouts.js';
import { prepayAtMigration } from './migration-prepay-at.js';
import { refundsWebhooksMigration } from './migration-refunds-webhooks.js';
import { retiredCloseMigration } from './migration-retired-close.js';
import { retiredOrdersMigration } from './migration-retired-orders.js';
import { transactionIndexMigration } from './migration-transaction-index.js';

const migrations: Record<string, Migration> = {
  '001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('appid', 'varchar(64)', (c) => c.notNull())
        .addColumn('mch_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('mch_key', 'varchar(64)', (c) => c.notNull())
        .addColumn('sign_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('cert_p12', 'text')
        .addColumn('cert_passphrase', 'varchar(200)')
        .addColumn('created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
        .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('redacted', 'varchar(64)', (c) => c.notNull())
        .addColumn('livemode', 'integer', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('payment_intents')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id'))
        .addColumn('livemode', 'integer', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('out_trade_no', 'varchar(32)', (c) => c.notNull().unique())
        .addColumn('terminal_type', 'varchar(32)')
        .addColumn('trade_type', 'varchar(16)')
        .addColumn('description', 'varchar(500)')
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('return_url', 'varchar(2000)')
        .addColumn('client_ip', 'varchar(64)')
        .addColumn('os_type', 'varchar(32)')
        .addColumn('openid', 'varchar(128)')
        .addColumn('next_action', 'text')
        .addColumn('payment_failed', 'text')
        .addColumn('client_result', 'varchar(200)')
        .addColumn('cancellation_reason', 'varchar(64)')
        .addColumn('wechat_prepay_id', 'varchar(128)')
        .addColumn('wechat_transaction_id', 'varchar(64)')
        .addColumn('ordered_at', 'bigint')
        .addColumn('close_at', 'bigint')
        .addColumn('next_query_at', 'bigint')
        .addColumn('query_count', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('payment_intents_account_created')
        .on('payment_intents')
        .columns(['account_id', 'livemode', 'created', 'id'])
        .execute();
      await db.schema
        .createIndex('payment_intents_next_query')
        .on('payment_intents')
        .columns(['next_query_at'])
        .execute();
      await db.schema
        .createIndex('payment_intents_expires')
        .on('payment_intents')
        .columns(['status', 'expires_at'])
        .execute();
      await db.schema
        .createTable('wechat_payloads')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('intent_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('wechat_payloads_intent')
        .on('wechat_payloads')
        .columns(['intent_id', 'created'])
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('livemode', 'integer', (c) => c.notNull())
        .addColumn('type', 'varchar(64)', (c) => c.notNull())
        .addColumn('object_id', 'varchar(64)')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('events_account_created')
        .on('events')
        .columns(['account_id', 'livemode', 'created', 'id'])
        .execute();
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('livemode', 'integer', (c) => c.notNull())
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('request_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'livemode', 'key'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of [
        'idempotency_keys',
        'events',
        'wechat_payloads',
        'payment_intents',
        'api_keys',
        'accounts',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  },
  '002_refunds_webhooks': refundsWebhooksMigration,
  '003_payouts': payoutsMigration,
  '005_deal_view': dealViewMigration,
  '004_checkout': checkoutMigration,
  '006_api_key_revocation': apiKeyRevocationMigration,
  '007_confirm_lease': confirmLeaseMigration,
  '008_event_request': eventRequestMigration,
  '009_idempotency_object': idempotencyObjectMigration,
  '010_fanout_cursor': fanoutCursorMigration,
  '011_event_alerts': eventAlertsMigration,
  '012_close_backoff': closeBackoffMigration,
  '013_deal_view_paid': dealViewPaidMigration,
  '014_retired_orders': retiredOrdersMigration,
  '015_prepay_at': prepayAtMigration,
  '016_transaction_index': transactionIndexMigration,
  '017_retired_close': retiredCloseMigration,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the schema up to date. Safe to call on every start and from several processes. */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function migrate(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The dialect-neutral `now` helper for raw SQL, unused by the core but handy for views later. */
