// An account for a sandbox merchant, with its client certificate (refunds and payouts need it), and a test key.
import type { Merchant } from '@wxpay/sandbox';
import type { Db } from '../../src/db/schema.ts';
import { createAccount, createApiKey } from '../../src/domain/accounts.ts';

export async function sandboxMerchantAccount(
  db: Db,
  merchant: Merchant,
): Promise<{ accountId: string; key: string }> {
  const { id: accountId } = await createAccount(db, {
    appid: merchant.appid,
    mchId: merchant.mchId,
    key: merchant.key,
    pfx: merchant.pfx,
    passphrase: merchant.passphrase,
  });
  return { accountId, key: await createApiKey(db, accountId, false) };
}
