// WeChat's retired sandbox mode (仿真测试系统): every endpoint again under /sandboxnew, signed (MD5 only) with
// the sandbox sign key getsignkey hands out instead of the production key.
import { createHash } from 'node:crypto';
import type { EndpointDef } from './endpoints/types.js';
import type { Merchant } from './merchants.js';

export const SANDBOXNEW_PREFIX = '/sandboxnew';

/** Which of a merchant's keys signs a call, its reply and the notifies of what the call created. */
export type KeyRealm = 'production' | 'sandboxnew';

/** What a sandboxnew call signed with anything but the sandbox key is told. */
export const SANDBOXNEW_SIGN_ERROR = '签名错误，sandboxnew的请求须用getsignkey返回的sandbox_signkey签名';
export const SANDBOXNEW_SIGN_TYPE_ERROR = '签名类型错误，sandboxnew仅支持MD5';

/** The sandbox sign key: derived from the production key, so a client that caches it keeps working across restarts. */
export function sandboxSignKey(merchant: Merchant): string {
  return createHash('md5').update(`sandbox-signkey:${merchant.key}`).digest('hex');
}

export function signingKey(merchant: Merchant, realm: KeyRealm): string {
  return realm === 'sandboxnew' ? sandboxSignKey(merchant) : merchant.key;
}

export interface WireRoute {
  path: string;
  def: EndpointDef;
  realm: KeyRealm;
}

/**
 * Every path WeChat's side answers: each endpoint at its own path and again under /sandboxnew —
 * except getsignkey, which already lives there and is signed with the production key.
 */
export function wireRoutes(table: readonly EndpointDef[]): WireRoute[] {
  return table.flatMap((def): WireRoute[] => {
    const production: WireRoute = { path: def.path, def, realm: 'production' };
    if (def.path.startsWith(`${SANDBOXNEW_PREFIX}/`)) return [production];
    return [production, { path: `${SANDBOXNEW_PREFIX}${def.path}`, def, realm: 'sandboxnew' }];
  });
}
