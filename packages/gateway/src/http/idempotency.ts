// Idempotency-Key on POST, with Stripe's semantics: same key and body replays, another body or a concurrent duplicate is a 409.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import { ApiError } from '../domain/errors.js';
import { currentRequest } from '../domain/request-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey: string | undefined;
  }
}

function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

export function installIdempotency(app: FastifyInstance, ctx: ServiceContext): void {
  app.decorateRequest('idempotencyKey', undefined);
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
        created: ctx.now(),
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) {
      request.idempotencyKey = key;
      const info = currentRequest();
      if (info) info.idempotency_key = key;
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
    if (existing.state !== 'done') {
      throw new ApiError(
        409,
        'idempotency_error',
        'idempotency_key_in_use',
        'A request with this Idempotency-Key is still in progress; retry once it has finished.',
        'Idempotency-Key',
      );
    }
    return reply
      .code(existing.response_status ?? 200)
      .header('idempotent-replayed', 'true')
      .type('application/json; charset=utf-8')
      .send(existing.response_body);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey;
    if (!key || !request.auth) return payload;
    request.idempotencyKey = undefined;
    const where = ctx.db
      .updateTable('idempotency_keys')
      .where('account_id', '=', request.auth.accountId)
      .where('livemode', '=', request.auth.livemode ? 1 : 0)
      .where('key', '=', key);
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
