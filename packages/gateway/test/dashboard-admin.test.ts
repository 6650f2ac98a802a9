// API-key revocation (migration 006) and the CSRF check of the dashboard's new forms (API keys, webhook retry).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { authenticate, createApiKeyRecord, hashApiKey } from '../src/domain/accounts.ts';
import { revokeApiKey } from '../src/domain/api-keys.ts';
import { listPayments } from '../src/domain/dashboard-queries.ts';
import { findDashboardSession, startDashboardSession } from '../src/domain/dashboard-sessions.ts';
import type { ApiError } from '../src/domain/errors.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type Harness, startHarness } from './support/harness.ts';
import { sqlitePlans } from './support/query-plan.ts';

for (const kind of DATABASE_KINDS) {
  describe(`API keys and dashboard forms on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
    });
    after(async () => h?.close());

    const auth = () => ({ accountId: h.accountId, livemode: false });
    const keyIdOf = async (secret: string) =>
      (
        await h.gateway.ctx.db
          .selectFrom('api_keys')
          .select('id')
          .where('key_hash', '=', hashApiKey(secret))
          .executeTakeFirstOrThrow()
      ).id;
    const call = (secret: string) =>
      fetch(`${h.url}/v1/payment_intents?limit=1`, { headers: { authorization: `Bearer ${secret}` } });
    const form = (path: string, token: string | undefined, fields: Record<string, string>) =>
      fetch(h.url + path, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(token ? { cookie: `wxpay_dashboard=${token}` } : {}),
        },
        body: new URLSearchParams(fields).toString(),
      });

    test('a revoked key gets 401 and the dashboard sessions it opened end; revoking twice is a 400', async () => {
      const db = h.gateway.ctx.db;
      const { id, secret } = await createApiKeyRecord(db, h.accountId, false, h.clock.now);
      assert.equal((await call(secret)).status, 200);
      const session = await startDashboardSession(h.gateway.ctx, secret);
      assert.ok(session);
      assert.equal(session.login.apiKeyId, id);
      await revokeApiKey(h.gateway.ctx, auth(), id);
      const refused = await call(secret);
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'api_key_invalid');
      assert.equal(await authenticate(db, secret), undefined);
      assert.equal(await findDashboardSession(h.gateway.ctx, session.token), undefined);
      assert.equal(await startDashboardSession(h.gateway.ctx, secret), undefined);
      await assert.rejects(revokeApiKey(h.gateway.ctx, auth(), id), (e: ApiError) => e.status === 400);
      // Another account's key is not found, and keeps working.
      const otherId = await keyIdOf(h.otherKey);
      await assert.rejects(revokeApiKey(h.gateway.ctx, auth(), otherId), (e: ApiError) => e.status === 404);
      assert.equal((await call(h.otherKey)).status, 200);
      assert.equal((await call(h.key)).status, 200);
    });

    test('the API-key and retry forms refuse a POST without the session CSRF token, and change nothing', async () => {
      const session = await startDashboardSession(h.gateway.ctx, h.key);
      assert.ok(session);
      const { id: victim, secret } = await createApiKeyRecord(h.gateway.ctx.db, h.accountId, false);
      const count = async () => (await h.gateway.ctx.db.selectFrom('api_keys').select('id').execute()).length;
      const before = await count();
      const event = (await h.api('GET', '/v1/events?limit=1')).body.data[0]?.id ?? 'evt_missing';
      const forms: [string, Record<string, string>][] = [
        ['/dashboard/api_keys', {}],
        [`/dashboard/api_keys/${victim}/revoke`, { confirm: 'yes' }],
        [`/dashboard/events/${event}/retry`, {}],
      ];
      for (const [path, fields] of forms) {
        assert.equal((await form(path, session.token, fields)).status, 403, `${path} without a token`);
        const wrong: Record<string, string> = {
          ...fields,
          _csrf: 'x'.repeat(session.login.csrfToken.length),
        };
        assert.equal((await form(path, session.token, wrong)).status, 403, `${path} with a wrong token`);
        const right: Record<string, string> = { ...fields, _csrf: session.login.csrfToken };
        assert.equal((await form(path, undefined, right)).status, 401, `${path} without the session`);
      }
      assert.equal(await count(), before);
      assert.equal((await call(secret)).status, 200);

      const created = await form('/dashboard/api_keys', session.token, { _csrf: session.login.csrfToken });
      assert.equal(created.status, 200);
      assert.match(await created.text(), /data-testid="new-api-key">sk_test_[0-9A-Za-z]{32}</);
      assert.equal(await count(), before + 1);
      const revoked = await form(`/dashboard/api_keys/${victim}/revoke`, session.token, {
        _csrf: session.login.csrfToken,
        confirm: 'yes',
      });
      assert.equal(revoked.status, 303);
      assert.equal((await call(secret)).status, 401);
    });

    test("the session's own key is revoked only with the second confirmation, which logs out", async () => {
      const { secret } = await createApiKeyRecord(h.gateway.ctx.db, h.accountId, false);
      const session = await startDashboardSession(h.gateway.ctx, secret);
      assert.ok(session?.login.apiKeyId);
      const path = `/dashboard/api_keys/${session.login.apiKeyId}/revoke`;
      const once = await form(path, session.token, { _csrf: session.login.csrfToken, confirm: 'yes' });
      assert.equal(once.status, 303);
      assert.match(once.headers.get('location') ?? '', /message=.*opened%20this%20session/);
      assert.equal((await call(secret)).status, 200);
      const twice = await form(path, session.token, {
        _csrf: session.login.csrfToken,
        confirm: 'yes',
        confirm_current: 'yes',
      });
      assert.equal(twice.status, 303);
      assert.equal(twice.headers.get('location'), '/dashboard/login');
      assert.match(twice.headers.get('set-cookie') ?? '', /wxpay_dashboard=;.*Max-Age=0/);
      assert.equal((await call(secret)).status, 401);
      assert.equal(await findDashboardSession(h.gateway.ctx, session.token), undefined);
    });
  });
}

describe('the dashboard list on SQLite', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('sqlite');
  });
  after(async () => h?.close());

  test('a deep keyset page walks the account/created index in order, with no sort of the rows past the cursor', async () => {
    const first = await h.api('POST', '/v1/payment_intents', { amount: 100, currency: 'CNY' });
    await h.api('POST', '/v1/payment_intents', { amount: 200, currency: 'CNY' });
    const auth = { accountId: h.accountId, livemode: false };
    // With statistics (as a long-lived database has them) SQLite otherwise prefers an OR of two searches and a sort.
    await sql`ANALYZE`.execute(h.gateway.ctx.db);
    for (const filters of [
      {},
      { starting_after: first.body.id },
      { status: 'succeeded', ending_before: first.body.id },
    ]) {
      const plans = await sqlitePlans(h.gateway.ctx.db, (db) =>
        listPayments({ ...h.gateway.ctx, db }, auth, filters),
      );
      const text = plans.at(-1)!;
      assert.match(text, /USING INDEX payment_intents_account_created/, JSON.stringify(filters));
      assert.doesNotMatch(text, /TEMP B-TREE|MULTI-INDEX/, `${JSON.stringify(filters)}: ${text}`);
      // A cursor page starts at the cursor in the index instead of walking down to it from the newest row.
      if (Object.keys(filters).length)
        assert.match(text, /created[<>]\?/, `${JSON.stringify(filters)}: ${text}`);
    }
  });
});
