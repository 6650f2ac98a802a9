// Migration 013: the `deal` view again, now reporting status 1 (paid) for a canceled intent that WeChat reports
// paid (dealViewQuery's canceledButPaidIsPaid; migration 005 keeps building the view it built). SQLite has no
// CREATE OR REPLACE VIEW, so the view is dropped and created in one migration.
import type { Kysely, Migration } from 'kysely';
import { dealViewQuery, viewDialectOf } from './migration-deal-view.js';

export const dealViewPaidMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropView('deal').execute();
    await db.schema
      .createView('deal')
      .as(dealViewQuery(db, viewDialectOf(db), true))
      .execute();
  },
  async down() {
    // Left as it is: the view of migration 005 differed only in that status.
  },
};
