// What every service function receives: the database, the configuration, WeChat clients and the clock.
import { type MerchantIdentity, WechatPay } from '@wxpay/sdk';
import type { GatewayConfig } from '../config.js';
import type { AccountRow, Db } from '../db/schema.js';
import { ApiError } from './errors.js';
import { currentRequest } from './request-context.js';

export interface ServiceContext {
  db: Db;
  config: GatewayConfig;
  now(): number;
  /** The gateway's public base URL (notify_url, QR links). */
  publicUrl(): string;
  /** A WeChat client for an account in test (sandbox) or live mode. */
  wechat(account: AccountRow, livemode: boolean): WechatPay;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface AuthContext {
  accountId: string;
  livemode: boolean;
  /** The API key that authenticated the request, when there was one. */
  apiKeyId?: string;
}

/** Builds the client factory; clients are kept per account and mode for keep-alive, never as a source of truth. */
export function wechatClients(config: GatewayConfig) {
  const cache = new Map<string, WechatPay>();
  const factory = (account: AccountRow, livemode: boolean): WechatPay => {
    const cacheKey = `${account.id}:${livemode ? 'live' : 'test'}:${account.mch_key.length}:${account.sign_type}`;
    let client = cache.get(cacheKey);
    if (!client) {
      const endpoint = livemode ? config.liveWechat : config.testWechat;
      if (!endpoint) {
        throw new ApiError(
          400,
          'invalid_request_error',
          'test_mode_not_configured',
          'Test mode has no sandbox to talk to: set WXPAY_SANDBOX_URL (and WXPAY_SANDBOX_CA), or run `wxpay dev`. ' +
            'A test key never reaches the real WeChat.',
        );
      }
      client = new WechatPay({
        ...merchantIdentity(account),
        signType: account.sign_type === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'MD5',
        baseUrl: endpoint.baseUrl,
        ca: endpoint.ca,
        timeoutMs: config.wechatTimeoutMs,
        clientCert: account.cert_p12
          ? {
              pfx: Buffer.from(account.cert_p12, 'base64'),
              passphrase: account.cert_passphrase ?? account.mch_id,
            }
          : undefined,
      });
      cache.set(cacheKey, client);
    }
    return client;
  };
  return {
    factory,
    close: async () => {
      await Promise.all([...cache.values()].map((c) => c.close()));
      cache.clear();
    },
  };
}

/** The merchant an account's WeChat messages must name and be signed for. */
export function merchantIdentity(account: AccountRow): MerchantIdentity {
  return { appid: account.appid, mchId: account.mch_id, key: account.mch_key };
}

/** The account, or undefined; notify routes use it, since an unknown account there is not an auth failure. */
export function findAccount(ctx: ServiceContext, accountId: string): Promise<AccountRow | undefined> {
  return ctx.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
}

export async function loadAccount(ctx: ServiceContext, accountId: string): Promise<AccountRow> {
  // The request's own account was read with its API key (accounts are never changed by a request).
  const known = currentRequest()?.account;
  const account = known?.id === accountId ? known : await findAccount(ctx, accountId);
  if (!account)
    throw new ApiError(
      401,
      'authentication_error',
      'account_missing',
      'The account of this key no longer exists',
    );
  return account;
}
