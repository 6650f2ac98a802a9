// An Idempotency-Key whose request died without answering: "in progress" until the request could not still be
// running, then recovered. A retry answers the object the dead request created, and never creates a second one;
// if it created nothing, the retry runs it. A request that was only slow is fenced out by the takeover.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import type { ServiceContext } from '../src/domain/context.ts';
import { abandonedAfterMs } from '../src/domain/idempotency.ts';
import { createIntent } from '../src/domain/payment-intents.ts';
import { runInRequest } from '../src/domain/request-context.ts';
import { installIdempotency, requestHash } from '../src/http/idempotency.ts';
import { type ApiCall, apiClient } from './support/api-client.ts';
import { DATABASE_KINDS } from './support/databases.ts';
import { type SandboxGateway, startSandboxGateway } from './support/sandbox-gateway.ts';

const intentBody = {
  amount: 100,
  currency: 'CNY',
  confirm: true,
  payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } },
};

test('a POST route that does not declare how a crashed request is recovered is refused when it is added', async () => {
  const app = Fastify();
  installIdempotency(app, {} as ServiceContext);
  assert.throws(
    () => app.post('/v1/things', async () => ({})),
    /POST \/v1\/things .* declare config\.idempotency/,
  );
  app.post('/v1/things/:id/touch', { config: { idempotency: 'rerun' } }, async () => ({}));
  app.get('/v1/things', async () => ({}));
  await app.ready();
  await app.close();
});

for (const kind of DATABASE_KINDS) {
  describe(`abandoned Idempotency-Keys on ${kind}`, () => {
    let env: SandboxGateway;
    let api: ApiCall;
    let window: number;
    before(async () => {
      env = await startSandboxGateway(kind);
      api = apiClient(env.url, env.key);
      window = abandonedAfterMs(env.gateway.config);
    });
    after(() => env.close());

    const keyRow = (key: string) =>
      env.gateway.ctx.db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('account_id', '=', env.accountId)
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
    /** What a process killed after the creating transaction leaves: the key in progress, no answer. */
    const dieBeforeAnswering = (key: string) =>
      env.gateway.ctx.db
        .updateTable('idempotency_keys')
        .set({ state: 'in_progress', response_status: null, response_body: null })
        .where('account_id', '=', env.accountId)
        .where('key', '=', key)
        .execute();
    /** A key claimed at `created` by a request that has not answered. */
    const claimedKey = (key: string, requestHash: string, created: number) =>
      env.gateway.ctx.db
        .insertInto('idempotency_keys')
        .values({
          account_id: env.accountId,
          livemode: 0,
          key,
          request_hash: requestHash,
          state: 'in_progress',
          response_status: null,
          response_body: null,
          created,
          object_id: null,
        })
        .execute();
    const count = async (table: 'payment_intents' | 'payouts' | 'checkout_sessions' | 'webhook_endpoints') =>
      Number(
        (
          await env.gateway.ctx.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where('account_id', '=', env.accountId)
            .executeTakeFirstOrThrow()
        ).n,
      );

    test('a keyed create records its intent on the key; after a crash a retry answers that intent, not a new one', async () => {
      const key = `crash-after-commit-${Math.random()}`;
      const headers = { 'idempotency-key': key };
      const first = await api('POST', '/v1/payment_intents', intentBody, headers);
      assert.equal(first.status, 200);
      assert.equal((await keyRow(key)).object_id, first.body.id, 'linked in the creating transaction');
      await dieBeforeAnswering(key);
      const intents = await count('payment_intents');

      const early = await api('POST', '/v1/payment_intents', intentBody, headers);
      assert.equal(early.status, 409);
      assert.equal(early.body.error.code, 'idempotency_key_in_use');
      assert.match(early.body.error.message, /a retry after \d+ s recovers it/);

      env.clock.offsetMs += window + 1000;
      const recovered = await api('POST', '/v1/payment_intents', intentBody, headers);
      assert.equal(recovered.status, 200);
      assert.equal(recovered.headers.get('idempotent-replayed'), 'true');
      assert.equal(recovered.body.id, first.body.id);
      assert.equal(recovered.body.status, 'requires_action');
      assert.equal(await count('payment_intents'), intents, 'no second intent');
      // The recovered answer is kept: the next retry replays it.
      assert.equal((await keyRow(key)).state, 'done');
      const again = await api('POST', '/v1/payment_intents', intentBody, headers);
      assert.deepEqual(again.body, recovered.body);
      // Another body under the same key is still refused.
      const other = await api('POST', '/v1/payment_intents', { ...intentBody, amount: 101 }, headers);
      assert.equal(other.body.error.code, 'idempotency_key_reused');
    });

    test('a key whose request died before creating anything is taken over and the request runs', async () => {
      const key = `crash-before-create-${Math.random()}`;
      const now = env.gateway.ctx.now();
      // A request claimed the key and its process died before its creating transaction.
      await claimedKey(key, requestHash('POST', '/v1/payment_intents', intentBody), now);
      const headers = { 'idempotency-key': key };
      assert.equal((await api('POST', '/v1/payment_intents', intentBody, headers)).status, 409);
      env.clock.offsetMs += window + 1000;
      const intents = await count('payment_intents');
      const run = await api('POST', '/v1/payment_intents', intentBody, headers);
      assert.equal(run.status, 200, JSON.stringify(run.body));
      assert.equal(run.headers.get('idempotent-replayed'), null, 'run, not replayed');
      assert.equal(run.body.next_action.type, 'wechat_pay_display_qr_code');
      assert.equal(await count('payment_intents'), intents + 1);
      const row = await keyRow(key);
      assert.equal(row.object_id, run.body.id);
      assert.equal(row.state, 'done');
      assert.ok(row.created > now, 'the takeover claimed the key anew');
      const replay = await api('POST', '/v1/payment_intents', intentBody, headers);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.body.id, run.body.id);
    });

    test('a slow request whose key was taken over cannot create its object: its transaction is rolled back', async () => {
      const key = `fenced-${Math.random()}`;
      const now = env.gateway.ctx.now();
      // The key as a takeover left it: claimed anew at `now`, after the slow request claimed it at `now - 1`.
      await claimedKey(key, 'h', now);
      const intents = await count('payment_intents');
      const auth = { accountId: env.accountId, livemode: false };
      const slow = runInRequest(
        {
          id: 'req_slow',
          idempotency: { ...auth, key, claimed: now - 1, creates: 'pi', linked: false },
        },
        () => createIntent(env.gateway.ctx, auth, { amount: 100, currency: 'CNY' }),
      );
      await assert.rejects(slow, (e: { code?: string; message?: string }) => {
        assert.equal(e.code, 'idempotency_key_in_use');
        assert.match(e.message ?? '', /took the key over; it created nothing/);
        return true;
      });
      assert.equal(
        await count('payment_intents'),
        intents,
        'the insert was rolled back with the refused link',
      );
      assert.equal((await keyRow(key)).object_id, null);
    });

    test('a transfer whose answer was lost is answered from its record after a crash: paid once', async () => {
      const key = `transfer-crash-${Math.random()}`;
      const headers = { 'idempotency-key': key };
      const body = {
        openid: `o${Math.random().toString(36).slice(2, 14)}`,
        amount: 150,
        description: '奖励',
        check_name: 'NO_CHECK',
      };
      const first = await api('POST', '/v1/transfers', body, headers);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal((await keyRow(key)).object_id, first.body.id);
      await dieBeforeAnswering(key);
      const payouts = await count('payouts');
      env.clock.offsetMs += window + 1000;
      const recovered = await api('POST', '/v1/transfers', body, headers);
      assert.equal(recovered.status, 200);
      assert.equal(recovered.body.id, first.body.id);
      assert.equal(recovered.body.status, first.body.status);
      assert.equal(await count('payouts'), payouts, 'no second transfer');
      const merchant = env.sandbox.merchants[0]!;
      const debits = env.sandbox.ledger(merchant.mchId).movements.filter((m) => m.amount === -150);
      assert.equal(debits.length, 1, 'the user was paid once');
    });

    test('a checkout session or webhook endpoint whose answer was lost is answered, not created again', async () => {
      const session = {
        amount: 1234,
        currency: 'CNY',
        description: 'Mugs',
        success_url: 'https://shop.example/ok',
        cancel_url: 'https://shop.example/cart',
      };
      const endpoint = { url: 'https://shop.example/hooks', enabled_events: ['payment_intent.succeeded'] };
      for (const [path, body, table] of [
        ['/v1/checkout/sessions', session, 'checkout_sessions'],
        ['/v1/webhook_endpoints', endpoint, 'webhook_endpoints'],
      ] as const) {
        const headers = { 'idempotency-key': `${table}-crash-${Math.random()}` };
        const first = await api('POST', path, body, headers);
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.equal((await keyRow(headers['idempotency-key'])).object_id, first.body.id, path);
        await dieBeforeAnswering(headers['idempotency-key']);
        const before = await count(table);
        env.clock.offsetMs += window + 1000;
        const recovered = await api('POST', path, body, headers);
        assert.equal(recovered.status, 200, path);
        assert.equal(recovered.headers.get('idempotent-replayed'), 'true', path);
        assert.equal(recovered.body.id, first.body.id, path);
        assert.equal(await count(table), before, `no second ${table}`);
        if (table === 'checkout_sessions') assert.equal(recovered.body.url, first.body.url);
        // The caller never saw the secret: the recovered answer carries it, as the lost one did.
        else assert.equal(recovered.body.secret, first.body.secret);
      }
    });
  });
}
