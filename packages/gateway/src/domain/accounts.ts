// Accounts (one WeChat merchant each) and their API keys, which are stored hashed.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/schema.js';
import type { AuthContext } from './context.js';
import { newId, randomToken } from './ids.js';
import { currentRequest } from './request-context.js';

export interface NewAccount {
  name?: string;
  appid: string;
  mchId: string;
  key: string;
  signType?: 'MD5' | 'HMAC-SHA256';
  /** The client certificate p12 bytes. */
  pfx?: Buffer;
  passphrase?: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createAccount(db: Db, input: NewAccount, now = Date.now()): Promise<{ id: string }> {
  const id = newId('acct');
  await db
    .insertInto('accounts')
    .values({
      id,
      name: input.name ?? input.mchId,
      appid: input.appid,
      mch_id: input.mchId,
      mch_key: input.key,
      sign_type: input.signType ?? 'MD5',
      cert_p12: input.pfx ? input.pfx.toString('base64') : null,
      cert_passphrase: input.passphrase ?? null,
      created: now,
    })
    .execute();
  return { id };
}

/** Creates a key and returns it in full; this is the only time it is visible. */
export async function createApiKey(
  db: Db,
  accountId: string,
  livemode: boolean,
  now = Date.now(),
): Promise<string> {
  return (await createApiKeyRecord(db, accountId, livemode, now)).secret;
}

/** Like createApiKey, also answering the key's id. */
export async function createApiKeyRecord(
  db: Db,
  accountId: string,
  livemode: boolean,
  now = Date.now(),
): Promise<{ id: string; secret: string }> {
  const secret = `sk_${livemode ? 'live' : 'test'}_${randomToken(32)}`;
  const id = newId('key');
  await db
    .insertInto('api_keys')
    .values({
      id,
      account_id: accountId,
      key_hash: hashApiKey(secret),
      redacted: `${secret.slice(0, 8)}…${secret.slice(-4)}`,
      livemode: livemode ? 1 : 0,
      created: now,
    })
    .execute();
  return { id, secret };
}

/** Resolves a presented key; undefined when unknown or revoked. The lookup is by hash, and the hash is compared again in constant time. */
export async function authenticate(db: Db, secret: string): Promise<AuthContext | undefined> {
  if (!/^sk_(test|live)_[0-9A-Za-z]{8,128}$/.test(secret)) return undefined;
  const hash = hashApiKey(secret);
  // The account comes with the key, in one query: nearly every request goes on to use it.
  const row = await db
    .selectFrom('api_keys as k')
    .innerJoin('accounts as a', 'a.id', 'k.account_id')
    .selectAll('a')
    .select(['k.id as key_id', 'k.livemode as key_livemode', 'k.key_hash', 'k.revoked'])
    .where('k.key_hash', '=', hash)
    .executeTakeFirst();
  if (!row || !timingSafeEqual(Buffer.from(row.key_hash), Buffer.from(hash))) return undefined;
  if (row.revoked !== null) return undefined;
  const { key_id, key_livemode, key_hash: _, revoked: __, ...account } = row;
  const request = currentRequest();
  if (request) request.account = account;
  return { accountId: account.id, livemode: key_livemode === 1, apiKeyId: key_id };
}
