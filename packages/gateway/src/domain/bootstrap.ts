// The account for the merchant named in the configuration: created on first start of `wxpay serve`, and
// brought in line with the configuration on every later start.
import type { Updateable } from 'kysely';
import type { MerchantConfig } from '../config.js';
import type { AccountsTable, Db } from '../db/schema.js';
import { createAccount, createApiKey } from './accounts.js';

export interface MerchantAccount {
  accountId: string;
  /** Present only when the account was created now: the keys are shown this once. */
  newKeys?: { test: string; live: string };
  /** The settings taken from a changed configuration (names only, never values), when the account existed. */
  updated?: string[];
}

/**
 * Finds the account for the configured mch_id, or creates it with a test and a live key. An existing account
 * takes the configuration's appid, key, sign type and client certificate: the configuration is where a merchant
 * puts a reset APIv2 key or a renewed certificate, and a stale copy in the database would fail every signature.
 */
export async function ensureMerchantAccount(db: Db, merchant: MerchantConfig): Promise<MerchantAccount> {
  const existing = await db
    .selectFrom('accounts')
    .selectAll()
    .where('mch_id', '=', merchant.mchId)
    .orderBy('created')
    .executeTakeFirst();
  if (existing) {
    const wanted = {
      appid: merchant.appid,
      mch_key: merchant.key,
      sign_type: merchant.signType,
      cert_p12: merchant.pfx ? merchant.pfx.toString('base64') : null,
      cert_passphrase: merchant.passphrase ?? null,
    };
    const names: Record<keyof typeof wanted, string> = {
      appid: 'appid',
      mch_key: 'key',
      sign_type: 'sign type',
      cert_p12: 'client certificate',
      cert_passphrase: 'certificate passphrase',
    };
    const changes: Updateable<AccountsTable> = {};
    const updated: string[] = [];
    for (const column of Object.keys(wanted) as (keyof typeof wanted)[]) {
      if (existing[column] === wanted[column]) continue;
      Object.assign(changes, { [column]: wanted[column] });
      updated.push(names[column]);
    }
    if (updated.length > 0)
      await db.updateTable('accounts').set(changes).where('id', '=', existing.id).execute();
    return { accountId: existing.id, updated };
  }
  const { id } = await createAccount(db, {
    appid: merchant.appid,
    mchId: merchant.mchId,
    key: merchant.key,
    signType: merchant.signType,
    pfx: merchant.pfx,
    passphrase: merchant.passphrase,
  });
  return {
    accountId: id,
    newKeys: { test: await createApiKey(db, id, false), live: await createApiKey(db, id, true) },
  };
}
