// Webhook endpoints: create (the secret shown once), retrieve, list, update, delete, rotate the secret.
import type { WebhookEndpointRow } from '../db/schema-refunds-webhooks.js';
import type { AuthContext, ServiceContext } from './context.js';
import { notFound } from './errors.js';
import { recordEventAbout } from './events.js';
import { linkToIdempotencyKey } from './idempotency.js';
import { randomToken } from './ids.js';
import { type ListParams, type ListResult, paginate } from './pagination.js';
import { toUnixSeconds } from './time.js';

/** How long a rotated-out secret keeps signing, so receivers can switch without losing deliveries. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 3600_000;

export interface WebhookEndpointInput {
  url: string;
  enabled_events: string[];
  description?: string;
  metadata?: Record<string, string>;
}

export interface WebhookEndpointUpdate {
  url?: string;
  enabled_events?: string[];
  description?: string;
  metadata?: Record<string, string>;
  disabled?: boolean;
}

function newSecret(): string {
  return `whsec_${randomToken(32)}`;
}

/**
 * The API view. The secret is included only when `withSecret`: in the answer to create (a retry of a create
 * whose answer was lost included) and to rotate. It is never shown again.
 */
export function webhookEndpointView(row: WebhookEndpointRow, withSecret = false) {
  return {
    id: row.id,
    object: 'webhook_endpoint' as const,
    url: row.url,
    description: row.description,
    enabled_events: JSON.parse(row.enabled_events) as string[],
    status: row.status,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    livemode: row.livemode === 1,
    created: toUnixSeconds(row.created),
    /** When the previous secret stops signing (after a rotation). */
    previous_secret_expires_at:
      row.previous_secret_expires_at === null ? null : toUnixSeconds(row.previous_secret_expires_at),
    ...(withSecret ? { secret: row.secret } : {}),
  };
}

export type WebhookEndpointView = ReturnType<typeof webhookEndpointView>;

export async function loadEndpoint(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<WebhookEndpointRow> {
  const row = await ctx.db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!row) throw notFound('webhook_endpoint', id);
  return row;
}

export async function createWebhookEndpoint(
  ctx: ServiceContext,
  auth: AuthContext,
  input: WebhookEndpointInput,
): Promise<WebhookEndpointView> {
  const now = ctx.now();
  const row: WebhookEndpointRow = {
    id: `we_${randomToken(24)}`,
    account_id: auth.accountId,
    livemode: auth.livemode ? 1 : 0,
    url: input.url,
    description: input.description ?? null,
    enabled_events: JSON.stringify([...new Set(input.enabled_events)]),
    status: 'enabled',
    secret: newSecret(),
    previous_secret: null,
    previous_secret_expires_at: null,
    failing_since: null,
    metadata: JSON.stringify(input.metadata ?? {}),
    created: now,
    updated: now,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('webhook_endpoints').values(row).execute();
    await linkToIdempotencyKey(trx, row.id);
  });
  return webhookEndpointView(row, true);
}

export async function retrieveWebhookEndpoint(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<WebhookEndpointView> {
  return webhookEndpointView(await loadEndpoint(ctx, auth, id));
}

export function listWebhookEndpoints(
  ctx: ServiceContext,
  auth: AuthContext,
  params: ListParams,
): Promise<ListResult<WebhookEndpointView>> {
  return paginate(
    ctx.db,
    'webhook_endpoints',
    auth,
    params,
    (q) => q,
    (row) => webhookEndpointView(row as unknown as WebhookEndpointRow),
  );
}

export async function updateWebhookEndpoint(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
  input: WebhookEndpointUpdate,
): Promise<WebhookEndpointView> {
  await loadEndpoint(ctx, auth, id);
  const now = ctx.now();
  await ctx.db
    .updateTable('webhook_endpoints')
    .set({
      ...(input.url !== undefined ? { url: input.url } : {}),
      ...(input.enabled_events !== undefined
        ? { enabled_events: JSON.stringify([...new Set(input.enabled_events)]) }
        : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.metadata !== undefined ? { metadata: JSON.stringify(input.metadata) } : {}),
      // Re-enabling starts a fresh failure window.
      ...(input.disabled !== undefined
        ? {
            status: input.disabled ? 'disabled' : 'enabled',
            ...(input.disabled ? {} : { failing_since: null }),
          }
        : {}),
      updated: now,
    })
    .where('id', '=', id)
    .execute();
  return webhookEndpointView(await loadEndpoint(ctx, auth, id));
}

export async function deleteWebhookEndpoint(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<{ id: string; object: 'webhook_endpoint'; deleted: true }> {
  await loadEndpoint(ctx, auth, id);
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
    // Attempts already made stay visible; what was still to be sent is dropped with the endpoint.
    await trx
      .updateTable('webhook_deliveries')
      .set({ status: 'canceled', lease_until: null, updated: ctx.now() })
      .where('endpoint_id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  });
  return { id, object: 'webhook_endpoint', deleted: true };
}

/** A new secret, shown once; the old one keeps signing alongside it for `overlapMs` (24 h). */
export async function rotateWebhookSecret(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
  overlapMs = SECRET_ROTATION_OVERLAP_MS,
): Promise<WebhookEndpointView> {
  const current = await loadEndpoint(ctx, auth, id);
  const now = ctx.now();
  await ctx.db
    .updateTable('webhook_endpoints')
    .set({
      secret: newSecret(),
      previous_secret: current.secret,
      previous_secret_expires_at: now + overlapMs,
      updated: now,
    })
    .where('id', '=', id)
    .where('secret', '=', current.secret)
    .execute();
  return webhookEndpointView(await loadEndpoint(ctx, auth, id), true);
}

/** The secrets that sign now: the current one, and a rotated-out one until it expires. */
export function signingSecrets(row: WebhookEndpointRow, now: number): string[] {
  const secrets = [row.secret];
  if (row.previous_secret && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now)
    secrets.push(row.previous_secret);
  return secrets;
}

/** Whether an endpoint's enabled_events take an event type ("*" takes all). */
export function endpointWants(enabledEvents: readonly string[], type: string): boolean {
  return enabledEvents.includes('*') || enabledEvents.includes(type);
}

/** Disables an endpoint that has failed for the whole retry window, with its event, in one transaction. */
export async function disableFailingEndpoint(ctx: ServiceContext, row: WebhookEndpointRow): Promise<void> {
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('webhook_endpoints')
      .set({ status: 'disabled', updated: now })
      .where('id', '=', row.id)
      .where('status', '=', 'enabled')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return;
    await recordEventAbout(
      trx,
      row,
      'webhook_endpoint.disabled',
      {
        ...webhookEndpointView({ ...row, status: 'disabled' }),
        disabled_reason: 'failing_for_3_days',
      },
      now,
    );
  });
}

/** The answer a create gave: the endpoint with its secret. For a retry of a create whose answer was lost. */
export async function createdWebhookEndpoint(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<WebhookEndpointView> {
  return webhookEndpointView(await loadEndpoint(ctx, auth, id), true);
}
