// Dashboard logins: a secret key is exchanged for a random session token (stored hashed) with its CSRF token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { authenticate } from './accounts.js';
import type { AuthContext, ServiceContext } from './context.js';
import { randomToken } from './ids.js';

export const DASHBOARD_SESSION_MS = 12 * 3600_000;

export interface DashboardLogin extends AuthContext {
  csrfToken: string;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Logs in with a secret key; undefined when the key is not valid. Returns the cookie value (shown only here). */
export async function startDashboardSession(
  ctx: ServiceContext,
  secretKey: string,
): Promise<{ token: string; login: DashboardLogin } | undefined> {
  const auth = await authenticate(ctx.db, secretKey.trim());
  if (!auth) return undefined;
  const token = randomToken(43);
  const csrfToken = randomToken(32);
  const now = ctx.now();
  await ctx.db
    .insertInto('dashboard_sessions')
    .values({
      token_hash: hash(token),
      account_id: auth.accountId,
      livemode: auth.livemode ? 1 : 0,
      csrf_token: csrfToken,
      expires_at: now + DASHBOARD_SESSION_MS,
      created: now,
      api_key_id: auth.apiKeyId ?? null,
    })
    .execute();
  return { token, login: { ...auth, csrfToken } };
}

export async function findDashboardSession(
  ctx: ServiceContext,
  token: string | undefined,
): Promise<DashboardLogin | undefined> {
  if (!token || !/^[0-9A-Za-z]{43}$/.test(token)) return undefined;
  const row = await ctx.db
    .selectFrom('dashboard_sessions')
    .selectAll()
    .where('token_hash', '=', hash(token))
    .where('expires_at', '>', ctx.now())
    .executeTakeFirst();
  return row
    ? {
        accountId: row.account_id,
        livemode: row.livemode === 1,
        csrfToken: row.csrf_token,
        apiKeyId: row.api_key_id ?? undefined,
      }
    : undefined;
}

export async function endDashboardSession(ctx: ServiceContext, token: string): Promise<void> {
  await ctx.db.deleteFrom('dashboard_sessions').where('token_hash', '=', hash(token)).execute();
}

/**
 * Constant-time comparison of a submitted CSRF token with the expected one. Both are hashed first, so any text
 * (of any length, in any characters) compares as two equal-length digests.
 */
export function csrfMatches(expected: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(submitted), digest(expected));
}
