// API keys as the dashboard manages them: list (redacted), create (shown once), revoke (ends its dashboard sessions).
import { createApiKeyRecord } from './accounts.js';
import type { AuthContext, ServiceContext } from './context.js';
import { ApiError } from './errors.js';
import { toUnixSeconds } from './time.js';

export interface ApiKeyView {
  id: string;
  object: 'api_key';
  redacted: string;
  livemode: boolean;
  created: number;
  /** Unix seconds, or null while the key works. */
  revoked: number | null;
}

/** The account's keys in the caller's mode, newest first. The secret is never part of it. */
export async function listApiKeys(ctx: ServiceContext, auth: AuthContext): Promise<ApiKeyView[]> {
  const rows = await ctx.db
    .selectFrom('api_keys')
    .select(['id', 'redacted', 'livemode', 'created', 'revoked'])
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .orderBy('created', 'desc')
    .orderBy('id', 'desc')
    .limit(200)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    object: 'api_key',
    redacted: r.redacted,
    livemode: r.livemode === 1,
    created: toUnixSeconds(r.created),
    revoked: r.revoked === null ? null : toUnixSeconds(r.revoked),
  }));
}

/** A new key in the caller's account and mode; the secret is returned here only. */
export function createAccountApiKey(ctx: ServiceContext, auth: AuthContext) {
  return createApiKeyRecord(ctx.db, auth.accountId, auth.livemode, ctx.now());
}

/**
 * Revokes a key of the caller's account and mode (a conditional UPDATE, so revoking twice is a 400) and ends the
 * dashboard sessions it opened, in one transaction.
 */
export async function revokeApiKey(ctx: ServiceContext, auth: AuthContext, id: string): Promise<void> {
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('api_keys')
      .set({ revoked: now })
      .where('id', '=', id)
      .where('account_id', '=', auth.accountId)
      .where('livemode', '=', auth.livemode ? 1 : 0)
      .where('revoked', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      const exists = await trx
        .selectFrom('api_keys')
        .select('id')
        .where('id', '=', id)
        .where('account_id', '=', auth.accountId)
        .where('livemode', '=', auth.livemode ? 1 : 0)
        .executeTakeFirst();
      if (!exists)
        throw new ApiError(
          404,
          'invalid_request_error',
          'resource_missing',
          `No such API key: '${id}'`,
          'id',
        );
      throw new ApiError(
        400,
        'invalid_request_error',
        'api_key_revoked',
        'That key is already revoked',
        'id',
      );
    }
    await trx.deleteFrom('dashboard_sessions').where('api_key_id', '=', id).execute();
  });
}
