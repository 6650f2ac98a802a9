// The account for the merchant named in the configuration, created on first start of `wxpay serve`.
import type { MerchantConfig } from '../config.js';
import type { Db } from '../db/schema.js';
import { createAccount, createApiKey } from './accounts.js';

export interface MerchantAccount {
  accountId: string;
  /** Present only when the account was created now: the keys are shown this once. */
  newKeys?: { test: string; live: string };
}

/** Finds the account for the configured mch_id, or creates it with a test and a live key. */
export async function ensureMerchantAccount(db: Db, merchant: MerchantConfig): Promise<MerchantAccount> {
  const existing = await db
    .selectFrom('accounts')
    .select('id')
    .where('mch_id', '=', merchant.mchId)
    .orderBy('created')
    .executeTakeFirst();
  if (existing) return { accountId: existing.id };
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
