// Idempotency-Key on POST, with Stripe's semantics: same key and body replays, another body or a concurrent
// duplicate is a 409. A key whose request died without answering is recovered (see domain/idempotency.ts).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotencyKeysTable } from '../db/schema.js';
import type { AuthContext, ServiceContext } from '../domain/context.js';
import { ApiError } from '../domain/errors.js';
import { abandonedAfterMs, keyInUse } from '../domain/idempotency.js';
import { currentRequest } from '../domain/request-context.js';

/**
 * What a retry does with a key whose request died without answering, declared by every POST route that takes
 * an Idempotency-Key (a route without one is refused when it is added, so a new route cannot fall back to running
 * twice):
 * - a route that creates an object names the id prefix it records on the key and how to answer that object as the
 *   route does; the retry answers the recorded object, or, if none was recorded, runs the request;
 * - `rerun`: the route changes an existing object conditionally, so running it again is safe.
 */
export type IdempotencyRule =
  | { creates: string; answer: (auth: AuthContext, id: string) => Promise<unknown> }
  | 'rerun';

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotency?: IdempotencyRule;
  }
}

/** Answers with a kept response, marked as replayed. */
function replay(reply: FastifyReply, status: number, body: string | null) {
  return reply
    .code(status)
    .header('idempotent-replayed', 'true')
    .type('application/json; charset=utf-8')
    .send(body);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The Idempotency-Key this request holds, and the key's `created` when it claimed it. */
    idempotencyClaim: { key: string; claimed: number } | undefined;
  }
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

/** The creating route's rule, or undefined for a route that changes an existing object. */
function createsOf(request: FastifyRequest): Exclude<IdempotencyRule, 'rerun'> | undefined {
  const rule = request.routeOptions.config.idempotency;
  return rule === 'rerun' ? undefined : rule;
}

export function installIdempotency(app: FastifyInstance, ctx: ServiceContext): void {
  app.decorateRequest('idempotencyClaim', undefined);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('POST') && !route.config?.idempotency) {
      throw new Error(
        `POST ${route.url} takes an Idempotency-Key but does not say how a retry after a crash is answered: ` +
          "declare config.idempotency ({ creates, answer } or 'rerun').",
      );
    }
  });
  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined || !request.auth) return;
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
      throw new ApiError(
        400,
        'invalid_request_error',
        'parameter_invalid',
        'Idempotency-Key must be 1 to 255 characters',
        'Idempotency-Key',
      );
    }
    const { accountId, livemode } = request.auth;
    const hash = requestHash(request.method, request.url.split('?')[0] ?? '', request.body);
    const now = ctx.now();
    const inserted = await ctx.db
      .insertInto('idempotency_keys')
      .values({
        account_id: accountId,
        livemode: livemode ? 1 : 0,
        key,
        request_hash: hash,
        state: 'in_progress',
        response_status: null,
        response_body: null,
        created: now,
        object_id: null,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) {
      holdKey(request, key, now);
      return;
    }
    const existing = await ctx.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('livemode', '=', livemode ? 1 : 0)
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    if (existing.request_hash !== hash) {
      throw new ApiError(
        409,
        'idempotency_error',
        'idempotency_key_reused',
        'Keys for idempotent requests can only be used with the same parameters they were first used with.',
        'Idempotency-Key',
      );
    }
    if (existing.state !== 'done') return recoverAbandoned(request, reply, existing, key, now);
    return replay(reply, existing.response_status ?? 200, existing.response_body);
  });
  /** This request holds the key (claimed at `claimed`): its events name it, its object is recorded on it. */
  function holdKey(request: FastifyRequest, key: string, claimed: number): void {
    const auth = request.auth!;
    request.idempotencyClaim = { key, claimed };
    const info = currentRequest();
    if (!info) return;
    info.idempotency = {
      accountId: auth.accountId,
      livemode: auth.livemode,
      key,
      claimed,
      creates: createsOf(request)?.creates ?? null,
      linked: false,
    };
  }

  /** The key is in progress: still running, or abandoned by a request that died (domain/idempotency.ts). */
  async function recoverAbandoned(
    request: FastifyRequest,
    reply: FastifyReply,
    existing: IdempotencyKeysTable,
    key: string,
    now: number,
  ) {
    const window = abandonedAfterMs(ctx.config);
    if (now - existing.created < window) {
      throw keyInUse(
        ` If it never answers (its process stopped), a retry after ${Math.ceil(window / 1000)} s recovers it.`,
      );
    }
    const auth = request.auth!;
    const row = ctx.db
      .updateTable('idempotency_keys')
      .where('account_id', '=', auth.accountId)
      .where('livemode', '=', auth.livemode ? 1 : 0)
      .where('key', '=', key)
      .where('state', '=', 'in_progress')
      .where('created', '=', existing.created);
    const creates = createsOf(request);
    if (existing.object_id && creates && existing.object_id.startsWith(`${creates.creates}_`)) {
      // The dead request had created its object: answer it as it is now, and keep that answer.
      const body = JSON.stringify(await creates.answer(auth, existing.object_id));
      await row.set({ state: 'done', response_status: 200, response_body: body }).execute();
      return replay(reply, 200, body);
    }
    // Nothing was created: take the key over (one retry wins) and run the request.
    const taken = await row.set({ created: now }).where('object_id', 'is', null).executeTakeFirst();
    if (Number(taken.numUpdatedRows) !== 1) throw keyInUse();
    holdKey(request, key, now);
  }

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (!claim || !request.auth) return payload;
    request.idempotencyClaim = undefined;
    const where = ctx.db
      .updateTable('idempotency_keys')
      .where('account_id', '=', request.auth.accountId)
      .where('livemode', '=', request.auth.livemode ? 1 : 0)
      .where('key', '=', claim.key)
      // Fenced by the claim: a request whose key was taken over leaves the new holder's answer alone.
      .where('created', '=', claim.claimed);
    // Every answer is kept, 5xx included, as Stripe does: a create that failed half way may already
    // have stored a record that a worker will finish (a payout in `sending`, say), so a retry with the
    // same key must not run the operation a second time.
    await where
      .set({
        state: 'done',
        response_status: reply.statusCode,
        response_body: typeof payload === 'string' ? payload : String(payload),
      })
      .execute();
    return payload;
  });
}
