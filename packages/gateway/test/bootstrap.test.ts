// `wxpay serve`'s account: created from the configuration on first start, and brought in line with it later,
// so that a reset APIv2 key or a renewed certificate in the configuration takes effect on restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MerchantConfig } from '../src/config.ts';
import { ensureMerchantAccount } from '../src/domain/bootstrap.ts';
import { buildGateway, type Gateway } from '../src/index.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.ts';

for (const kind of DATABASE_KINDS) {
  describe(`the configured merchant's account on ${kind}`, () => {
    let database: TestDatabase;
    let gateway: Gateway;
    before(async () => {
      database = await createTestDatabase(kind);
      gateway = await buildGateway({ databaseUrl: database.url });
    });
    after(async () => {
      await gateway.close();
      await database.drop();
    });

    const merchant: MerchantConfig = {
      appid: 'wx2421b1c4370ec43b',
      mchId: '1900000109',
      key: 'a'.repeat(32),
      signType: 'MD5',
      pfx: Buffer.from('first certificate'),
    };
    const row = (id: string) =>
      gateway.ctx.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    test('first start creates it with a test and a live key; an unchanged restart changes nothing', async () => {
      const created = await ensureMerchantAccount(gateway.ctx.db, merchant);
      assert.match(created.newKeys?.test ?? '', /^sk_test_/);
      assert.match(created.newKeys?.live ?? '', /^sk_live_/);
      const again = await ensureMerchantAccount(gateway.ctx.db, merchant);
      assert.deepEqual(again, { accountId: created.accountId, updated: [] });
    });

    test('a reset key and a renewed certificate in the configuration replace the stored ones, named not shown', async () => {
      const { accountId } = await ensureMerchantAccount(gateway.ctx.db, merchant);
      const renewed = { ...merchant, key: 'b'.repeat(32), pfx: Buffer.from('renewed certificate') };
      const result = await ensureMerchantAccount(gateway.ctx.db, renewed);
      assert.deepEqual(result, { accountId, updated: ['key', 'client certificate'] });
      const stored = await row(accountId);
      assert.equal(stored.mch_key, 'b'.repeat(32));
      assert.equal(Buffer.from(stored.cert_p12 ?? '', 'base64').toString(), 'renewed certificate');
      assert.equal(stored.appid, merchant.appid);
      // Only one account for the mch_id, still.
      const accounts = await gateway.ctx.db
        .selectFrom('accounts')
        .select('id')
        .where('mch_id', '=', merchant.mchId)
        .execute();
      assert.equal(accounts.length, 1);
      const hmac = await ensureMerchantAccount(gateway.ctx.db, { ...renewed, signType: 'HMAC-SHA256' });
      assert.deepEqual(hmac.updated, ['sign type']);
    });
  });
}
