// Webhook delivery from the events outbox: fan events out to matching endpoints, claim due deliveries with a
// lease that covers one attempt, POST the signed event, record every attempt, retry with backoff for 3 days.
// At least once, and never by two workers at the same time.
import { performance } from 'node:perf_hooks';
import { signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from '@wxpay/sdk';
import { type ExpressionBuilder, PostgresAdapter } from 'kysely';
import { request } from 'undici';
import type { Database, Db, EventRow } from '../db/schema.js';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../db/schema-refunds-webhooks.js';
import type { AuthContext, ServiceContext } from './context.js';
import { notFound } from './errors.js';
import { randomToken } from './ids.js';
import { toUnixSeconds } from './time.js';
import { disableFailingEndpoint, endpointWants, loadEndpoint, signingSecrets } from './webhook-endpoints.js';
import { nextWebhookAttemptAt, WEBHOOK_RETRY_WINDOW_MS, WEBHOOK_TIMEOUT_MS } from './webhook-schedule.js';
import { LEASE_MARGIN_MS } from './wechat-lease.js';

/** Events older than this are not fanned out any more (nor listed as undelivered). */
export const FANOUT_LOOKBACK_MS = 30 * 24 * 3600_000;
/**
 * How far behind a pass the fan-out cursor stays: an event is written with the time its transaction began, and
 * gateway processes' clocks may differ, so one created a little before a pass can still commit after it.
 */
export const FANOUT_LAG_MS = 3600_000;
/**
 * How often a pass reads the whole lookback instead of starting at the cursor: an event written by a process whose
 * clock is more than FANOUT_LAG_MS behind the worker's (or jumped back) can fall behind the cursor, and is then
 * delayed by up to this much, never dropped.
 */
export const FANOUT_SWEEP_EVERY_MS = 3600_000;
const RESPONSE_KEPT_BYTES = 1024;

export interface DeliveryOptions {
  limit?: number;
  /** Per-attempt timeout; 10 s by default. */
  timeoutMs?: number;
  /** Jitter source, for tests. */
  random?: () => number;
  /** How many deliveries are sent at once. */
  concurrency?: number;
}

/** The JSON a receiver gets; its id is stable across retries so receivers can drop duplicates. */
export function eventPayload(event: EventRow) {
  return {
    id: event.id,
    object: 'event' as const,
    type: event.type,
    created: toUnixSeconds(event.created),
    livemode: event.livemode === 1,
    data: { object: JSON.parse(event.data) as unknown },
    request: { id: event.request_id ?? null, idempotency_key: event.idempotency_key ?? null },
  };
}

function enabledEndpoints(ctx: ServiceContext, accountId: string, livemode: number) {
  return ctx.db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('livemode', '=', livemode)
    .where('status', '=', 'enabled')
    .execute();
}

async function matchingEndpoints(ctx: ServiceContext, event: EventRow): Promise<WebhookEndpointRow[]> {
  const endpoints = await enabledEndpoints(ctx, event.account_id, event.livemode);
  return endpoints.filter((e) => endpointWants(JSON.parse(e.enabled_events) as string[], event.type));
}

function newDelivery(event: EventRow, endpointId: string, now: number): WebhookDeliveryRow {
  return {
    id: `wd_${randomToken(24)}`,
    event_id: event.id,
    endpoint_id: endpointId,
    account_id: event.account_id,
    livemode: event.livemode,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    lease_until: null,
    window_start: now,
    created: now,
    updated: now,
  };
}

/**
 * Creates the deliveries of events not yet fanned out, for the endpoints enabled then (and created no later than
 * the event). The marker row makes this exactly once per event even with several workers.
 *
 * Each pass reads the events from the cursor on, account by account along the (account, mode, created) index,
 * so its cost follows the events of the last hour or so, not the whole 30-day outbox. After a pass that saw
 * everything due, the cursor moves to an hour (FANOUT_LAG_MS) before that pass; after a pass cut short by its
 * limit, to the last event it marked. It only ever moves forward. Once every FANOUT_SWEEP_EVERY_MS a pass starts
 * at the lookback instead (the `sweep` row records when one last saw everything), so no event is ever left behind.
 */
export async function fanOutEvents(
  ctx: ServiceContext,
  options: { limit?: number; accountsPerQuery?: number } = {},
): Promise<number> {
  const now = ctx.now();
  const limit = options.limit ?? 500;
  const marks = await ctx.db.selectFrom('webhook_fanout_cursor').select(['id', 'fanned_below']).execute();
  const mark = (id: string) => marks.find((m) => m.id === id)?.fanned_below ?? 0;
  const sweeping = now - mark('sweep') >= FANOUT_SWEEP_EVERY_MS;
  const from = Math.max(sweeping ? 0 : mark('events'), now - FANOUT_LOOKBACK_MS);
  const accounts = (await ctx.db.selectFrom('accounts').select('id').execute()).map((a) => a.id);
  // Accounts are read in groups, so that no query binds more parameters than the database allows. Each group
  // yields its first `limit` events; the first `limit` of them all include every event before the last one.
  const perQuery = options.accountsPerQuery ?? 500;
  const groups: string[][] = [];
  for (let i = 0; i < accounts.length; i += perQuery) groups.push(accounts.slice(i, i + perQuery));
  const found = await Promise.all(
    groups.map((group) =>
      ctx.db
        .selectFrom('events')
        .selectAll()
        .where('account_id', 'in', group)
        .where('livemode', 'in', [0, 1])
        .where('created', '>=', from)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('event_fanouts')
                .select('event_id')
                .whereRef('event_fanouts.event_id', '=', 'events.id'),
            ),
          ),
        )
        .orderBy('created')
        .orderBy('id')
        .limit(limit)
        .execute(),
    ),
  );
  const events = found
    .flat()
    .sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit);
  const advance = (to: number) =>
    ctx.db
      .updateTable('webhook_fanout_cursor')
      .set({ fanned_below: to })
      .where('id', '=', 'events')
      .where('fanned_below', '<', to)
      .execute();
  // A sweep that saw everything up to now is done until the next is due.
  const swept = () =>
    ctx.db
      .insertInto('webhook_fanout_cursor')
      .values({ id: 'sweep', fanned_below: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ fanned_below: now }))
      .execute();
  if (events.length === 0) {
    await advance(now - FANOUT_LAG_MS);
    if (sweeping) await swept();
    return 0;
  }
  const endpointsOf = new Map<string, Promise<WebhookEndpointRow[]>>();
  const wanted = new Map<string, WebhookEndpointRow[]>();
  for (const event of events) {
    const scope = `${event.account_id}:${event.livemode}`;
    if (!endpointsOf.has(scope))
      endpointsOf.set(scope, enabledEndpoints(ctx, event.account_id, event.livemode));
    const endpoints = (await endpointsOf.get(scope)!).filter(
      (e) =>
        e.created <= event.created && endpointWants(JSON.parse(e.enabled_events) as string[], event.type),
    );
    wanted.set(event.id, endpoints);
  }
  // One transaction per batch (one commit, not one per event); only the events this worker marked get deliveries.
  const created = await ctx.db.transaction().execute(async (trx) => {
    const marked = await trx
      .insertInto('event_fanouts')
      .values(events.map((e) => ({ event_id: e.id, created: now })))
      .onConflict((oc) => oc.doNothing())
      .returning('event_id')
      .execute();
    const mine = new Set(marked.map((m) => m.event_id));
    const rows = events
      .filter((e) => mine.has(e.id))
      .flatMap((e) => (wanted.get(e.id) ?? []).map((endpoint) => newDelivery(e, endpoint.id, now)));
    for (let i = 0; i < rows.length; i += 500) {
      await trx
        .insertInto('webhook_deliveries')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    return rows.length;
  });
  // Every event this pass read is now marked (by this worker or by another that got there first).
  await advance(
    events.length < limit ? now - FANOUT_LAG_MS : Math.min(events.at(-1)!.created, now - FANOUT_LAG_MS),
  );
  if (sweeping && events.length < limit) await swept();
  return created;
}

/**
 * How long a worker holds a delivery for one attempt: the POST's timeout, plus room for the database writes
 * around it and for clocks that differ between processes. A killed worker's deliveries come back after it.
 */
function attemptLeaseEnd(now: number, timeoutMs: number): number {
  return now + timeoutMs + LEASE_MARGIN_MS;
}

/**
 * Claims up to `limit` due deliveries: `UPDATE … SET lease_until WHERE id IN (due) AND the lease is free
 * RETURNING *`. Two workers never get the same delivery while its lease runs; a killed worker's deliveries come
 * back when it ends.
 *
 * While a worker holds a delivery, its next_attempt_at is the lease end too (when it is retried if the worker
 * dies). A retry asked for during an attempt moves it earlier; the worker sees that when it records the attempt,
 * and leaves the delivery due instead of applying the attempt's result (see recordAttempt and retryEvent).
 *
 * On PostgreSQL the due rows are first locked with `FOR UPDATE SKIP LOCKED` in the same
 * transaction: as a subquery of the UPDATE, PostgreSQL may run that SELECT again for every row it joins (a nested
 * loop semi-join), each run skipping the rows already updated, and so take every due delivery, not `limit`.
 */
async function claimDue(
  ctx: ServiceContext,
  limit: number,
  timeoutMs: number,
): Promise<WebhookDeliveryRow[]> {
  const now = ctx.now();
  const leaseEnd = attemptLeaseEnd(now, timeoutMs);
  const leaseFree = (eb: ExpressionBuilder<Database, 'webhook_deliveries'>) =>
    eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]);
  const due = (db: Db) =>
    db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where(leaseFree)
      .orderBy('next_attempt_at')
      .limit(limit);
  const take = (db: Db, ids: ReturnType<typeof due> | string[]) =>
    db
      .updateTable('webhook_deliveries')
      .set({ lease_until: leaseEnd, next_attempt_at: leaseEnd })
      .where('id', 'in', ids)
      .where('status', '=', 'pending')
      .where(leaseFree)
      .returningAll()
      .execute();
  if (!(ctx.db.getExecutor().adapter instanceof PostgresAdapter)) return take(ctx.db, due(ctx.db));
  return ctx.db.transaction().execute(async (trx) => {
    const ids = (await due(trx).forUpdate().skipLocked().execute()).map((r) => r.id);
    return ids.length === 0 ? [] : take(trx, ids);
  });
}

interface AttemptResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

/** POSTs the signed body once; never throws. */
async function post(url: string, body: string, signature: string, timeoutMs: number): Promise<AttemptResult> {
  const started = performance.now();
  try {
    const response = await request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'wxpay-webhooks/1.0',
        [WEBHOOK_SIGNATURE_HEADER]: signature,
      },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    for await (const chunk of response.body) {
      chunks.push(chunk as Buffer);
      kept += (chunk as Buffer).length;
      if (kept >= RESPONSE_KEPT_BYTES) break;
    }
    if (kept >= RESPONSE_KEPT_BYTES) response.body.destroy();
    return {
      statusCode: response.statusCode,
      durationMs: Math.round(performance.now() - started),
      error: null,
      responseBody: Buffer.concat(chunks).subarray(0, RESPONSE_KEPT_BYTES).toString('utf8'),
    };
  } catch (error) {
    const err = error as Error & { code?: string };
    const timedOut =
      err.name === 'TimeoutError' || err.name === 'AbortError' || /timeout/i.test(err.code ?? '');
    return {
      statusCode: null,
      durationMs: Math.round(performance.now() - started),
      error: timedOut
        ? `timeout after ${timeoutMs} ms`
        : `${err.code ?? err.name}: ${err.message}`.slice(0, 500),
      responseBody: null,
    };
  }
}

/** Ends this worker's hold on a delivery it did not send; a worker whose lease was taken over changes nothing. */
async function release(db: Db, now: number, held: WebhookDeliveryRow, set: Partial<WebhookDeliveryRow>) {
  await db
    .updateTable('webhook_deliveries')
    .set({ ...set, lease_until: null, updated: now })
    .where('id', '=', held.id)
    .where('lease_until', '=', held.lease_until)
    .execute();
}

/**
 * Right before a POST: extends this worker's lease to cover the attempt, if it still holds the delivery (fenced on
 * the lease it got). Returns the delivery as it is now, or undefined when another worker has taken it over (or it
 * was canceled): then it is not sent. A retry asked for since the claim is answered by this attempt.
 */
async function holdForAttempt(
  ctx: ServiceContext,
  claimed: WebhookDeliveryRow,
  timeoutMs: number,
): Promise<WebhookDeliveryRow | undefined> {
  const leaseEnd = attemptLeaseEnd(ctx.now(), timeoutMs);
  return ctx.db
    .updateTable('webhook_deliveries')
    .set({ lease_until: leaseEnd, next_attempt_at: leaseEnd })
    .where('id', '=', claimed.id)
    .where('status', '=', 'pending')
    .where('lease_until', '=', claimed.lease_until)
    .returningAll()
    .executeTakeFirst();
}

/**
 * What became of an attempt's result: applied to the delivery; not applied because a retry was asked for during
 * the attempt (the delivery stays due); or not applied because another worker took the delivery over.
 */
type AttemptOutcome = 'applied' | 'retry_pending' | 'taken_over';

/**
 * Counts the attempt (its row is written in the same transaction) and ends this worker's hold on the delivery,
 * applying `result` only if it still holds it and no retry was asked for meanwhile.
 */
async function recordAttempt(
  db: Db,
  now: number,
  held: WebhookDeliveryRow,
  result: Partial<WebhookDeliveryRow>,
): Promise<AttemptOutcome> {
  const lease = held.lease_until;
  const counting = (set: Partial<WebhookDeliveryRow>) =>
    db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ ...set, attempts: eb('attempts', '+', 1), updated: now }))
      .where('id', '=', held.id);
  const applied = await counting({ ...result, lease_until: null })
    .where('lease_until', '=', lease)
    .where('next_attempt_at', '=', lease)
    .executeTakeFirst();
  if (Number(applied.numUpdatedRows) === 1) return 'applied';
  const released = await counting({ lease_until: null }).where('lease_until', '=', lease).executeTakeFirst();
  if (Number(released.numUpdatedRows) === 1) return 'retry_pending';
  // Another worker holds it now: this attempt still happened, so it is counted; the delivery's state is theirs.
  await counting({}).execute();
  return 'taken_over';
}

async function deliverOne(
  ctx: ServiceContext,
  claimed: WebhookDeliveryRow,
  timeoutMs: number,
  random?: () => number,
) {
  const endpoint = await ctx.db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', claimed.endpoint_id)
    .executeTakeFirst();
  if (endpoint?.status !== 'enabled') {
    // Disabled (or deleted) endpoints receive nothing; what was waiting for them is dropped.
    await release(ctx.db, ctx.now(), claimed, { status: 'canceled' });
    return false;
  }
  const event = await ctx.db
    .selectFrom('events')
    .selectAll()
    .where('id', '=', claimed.event_id)
    .executeTakeFirst();
  if (!event) {
    await release(ctx.db, ctx.now(), claimed, { status: 'canceled' });
    return false;
  }
  const delivery = await holdForAttempt(ctx, claimed, timeoutMs);
  if (!delivery) return false;
  const now = ctx.now();
  const body = JSON.stringify(eventPayload(event));
  const signature = signWebhookPayload(body, signingSecrets(endpoint, now), toUnixSeconds(now));
  const result = await post(endpoint.url, body, signature, timeoutMs);
  const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  const attempts = delivery.attempts + 1;
  const attemptRow = {
    id: `wa_${randomToken(24)}`,
    delivery_id: delivery.id,
    event_id: delivery.event_id,
    endpoint_id: delivery.endpoint_id,
    attempted_at: now,
    status_code: result.statusCode,
    duration_ms: result.durationMs,
    error: result.error ?? (ok ? null : `HTTP ${result.statusCode}`),
    response_body: result.responseBody,
  };
  const next = ok ? null : nextWebhookAttemptAt(attempts, ctx.now(), delivery.window_start, random);
  // The attempt and the delivery's new state commit together.
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('webhook_attempts').values(attemptRow).execute();
    return recordAttempt(
      trx,
      ctx.now(),
      delivery,
      ok ? { status: 'succeeded' } : next === null ? { status: 'failed' } : { next_attempt_at: next },
    );
  });
  if (ok) {
    await ctx.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: null })
      .where('id', '=', endpoint.id)
      .where('failing_since', 'is not', null)
      .execute();
    return true;
  }
  // A late failure from a worker that lost the delivery is older news than the attempts made since.
  if (outcome === 'taken_over') return false;
  const failingSince = endpoint.failing_since ?? now;
  if (endpoint.failing_since === null)
    await ctx.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: now })
      .where('id', '=', endpoint.id)
      .where('failing_since', 'is', null)
      .execute();
  // Failing for 3 days: either for the whole window of a delivery that just gave up, or for 3 days of clock time.
  let gaveUp = false;
  if (next === null && outcome === 'applied') {
    // No success anywhere on this endpoint since this delivery's first attempt of the window.
    const first = await ctx.db
      .selectFrom('webhook_attempts')
      .select((eb) => eb.fn.min('attempted_at').as('at'))
      .where('delivery_id', '=', delivery.id)
      .where('attempted_at', '>=', delivery.window_start)
      .executeTakeFirst();
    gaveUp = failingSince <= Number(first?.at ?? now);
  }
  if (gaveUp || failingSince <= ctx.now() - WEBHOOK_RETRY_WINDOW_MS)
    await disableFailingEndpoint(ctx, endpoint);
  return false;
}

/**
 * One pass: fan out new events, then send due deliveries, up to `limit`. Returns how many deliveries were taken
 * and how many succeeded. They are claimed one batch of `concurrency` at a time, right before the batch is sent,
 * so a pass holds only what it is sending and each lease covers one attempt; other workers send the rest.
 */
export async function deliverWebhooks(
  ctx: ServiceContext,
  options: DeliveryOptions = {},
): Promise<{ attempted: number; succeeded: number }> {
  await fanOutEvents(ctx);
  const limit = options.limit ?? 100;
  const concurrency = options.concurrency ?? 16;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  let attempted = 0;
  let succeeded = 0;
  while (attempted < limit) {
    const batch = await claimDue(ctx, Math.min(concurrency, limit - attempted), timeoutMs);
    if (batch.length === 0) break;
    const results = await Promise.all(
      batch.map(async (delivery) => {
        try {
          return await deliverOne(ctx, delivery, timeoutMs, options.random);
        } catch (error) {
          // The lease expires and another pass retries it.
          ctx.log.warn({ delivery: delivery.id, err: (error as Error).message }, 'webhook delivery failed');
          return false;
        }
      }),
    );
    attempted += results.length;
    succeeded += results.filter(Boolean).length;
  }
  return { attempted, succeeded };
}

/** A delivery with its attempts, newest first. */
function deliveryView(delivery: WebhookDeliveryRow, attempts: AttemptRowLike[]) {
  return {
    id: delivery.id,
    object: 'webhook_delivery' as const,
    event: delivery.event_id,
    webhook_endpoint: delivery.endpoint_id,
    status: delivery.status,
    attempt_count: delivery.attempts,
    next_attempt_at: delivery.status === 'pending' ? toUnixSeconds(delivery.next_attempt_at) : null,
    created: toUnixSeconds(delivery.created),
    attempts: attempts
      .filter((a) => a.delivery_id === delivery.id)
      .map((a) => ({
        created: toUnixSeconds(a.attempted_at),
        created_ms: a.attempted_at,
        status_code: a.status_code,
        duration_ms: a.duration_ms,
        error: a.error,
        response_body: a.response_body,
      })),
  };
}

interface AttemptRowLike {
  delivery_id: string;
  attempted_at: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}

export type DeliveryView = ReturnType<typeof deliveryView>;

async function deliveriesWhere(
  ctx: ServiceContext,
  column: 'event_id' | 'endpoint_id',
  value: string,
  limit: number,
): Promise<{ object: 'list'; data: DeliveryView[]; has_more: boolean }> {
  const deliveries = await ctx.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where(column, '=', value)
    .orderBy('created', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = deliveries.slice(0, limit);
  const attempts = page.length
    ? await ctx.db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where(
          'delivery_id',
          'in',
          page.map((d) => d.id),
        )
        .orderBy('attempted_at', 'desc')
        .execute()
    : [];
  return {
    object: 'list',
    data: page.map((d) => deliveryView(d, attempts)),
    has_more: deliveries.length > limit,
  };
}

async function loadEvent(ctx: ServiceContext, auth: AuthContext, id: string): Promise<EventRow> {
  const event = await ctx.db
    .selectFrom('events')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!event) throw notFound('event', id);
  return event;
}

export async function listEventDeliveries(
  ctx: ServiceContext,
  auth: AuthContext,
  eventId: string,
  limit = 20,
) {
  await loadEvent(ctx, auth, eventId);
  return deliveriesWhere(ctx, 'event_id', eventId, limit);
}

export async function listEndpointDeliveries(
  ctx: ServiceContext,
  auth: AuthContext,
  endpointId: string,
  limit = 20,
) {
  await loadEndpoint(ctx, auth, endpointId);
  return deliveriesWhere(ctx, 'endpoint_id', endpointId, limit);
}

/**
 * Redelivers an event now to every enabled endpoint that wants it, with a fresh 3-day window. A delivery a worker
 * is sending right now stays that worker's: it is made due, and is sent again as soon as that attempt ends.
 */
export async function retryEvent(ctx: ServiceContext, auth: AuthContext, eventId: string) {
  const event = await loadEvent(ctx, auth, eventId);
  const now = ctx.now();
  const endpoints = await matchingEndpoints(ctx, event);
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('event_fanouts')
      .values({ event_id: event.id, created: now })
      .onConflict((oc) => oc.doNothing())
      .execute();
    for (const endpoint of endpoints) {
      const reset = await trx
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          status: 'pending',
          // Never equal to the lease: next_attempt_at = lease_until tells its worker that no retry was asked for.
          next_attempt_at: eb
            .case()
            .when('lease_until', '=', now)
            .then(now - 1)
            .else(now)
            .end(),
          window_start: now,
          updated: now,
        }))
        .where('event_id', '=', event.id)
        .where('endpoint_id', '=', endpoint.id)
        .executeTakeFirst();
      if (Number(reset.numUpdatedRows) === 0)
        await trx
          .insertInto('webhook_deliveries')
          .values(newDelivery(event, endpoint.id, now))
          .execute();
    }
  });
  return deliveriesWhere(ctx, 'event_id', eventId, 100);
}
