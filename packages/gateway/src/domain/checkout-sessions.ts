// Checkout Sessions: a hosted page's order. It completes only when one of its intents is succeeded — which only
// a verified notify or orderquery does — and never from what the browser says.
import type { Selectable } from 'kysely';
import type { IntentRow } from '../db/schema.js';
import type { CheckoutSessionsTable } from '../db/schema-checkout.js';
import type { AuthContext, ServiceContext } from './context.js';
import { ApiError, notFound } from './errors.js';
import { recordEventAbout } from './events.js';
import { linkToIdempotencyKey } from './idempotency.js';
import { randomToken } from './ids.js';
import { checkAmount, isCurrency } from './money.js';
import { cancelIntent, confirmIntent, createIntent, type TerminalType } from './payment-intents.js';
import { createRefund } from './refunds.js';
import { toUnixSeconds } from './time.js';

export type SessionRow = Selectable<CheckoutSessionsTable>;
export type SessionStatus = 'open' | 'complete' | 'expired';

export interface LineItem {
  name: string;
  quantity: number;
  /** Unit amount in minor units. */
  amount: number;
}

export interface CreateSessionInput {
  amount: number;
  currency: string;
  description: string;
  line_items?: LineItem[];
  success_url: string;
  cancel_url: string;
  /** Seconds, 1800–86400; default 7200. */
  expires_in?: number;
  metadata?: Record<string, string>;
}

export const EXPIRES_IN = { min: 1800, max: 86_400, default: 7200 } as const;

/** The three ways the page takes a payment: QR (desktop), H5 redirect (phone), JSAPI (WeChat's browser). */
export type CheckoutFlow = Extract<TerminalType, 'WEB' | 'WAP' | 'OFFICIAL_ACCOUNT'>;

const PAYABLE = ['requires_action', 'processing'];

/** How far back the job looks for a second payment of a complete session (by the intent's last change). */
const DUPLICATE_WINDOW_MS = 7 * 24 * 3600_000;

export function sessionUrl(ctx: ServiceContext, id: string): string {
  return `${ctx.publicUrl()}/checkout/${id}`;
}

/** success_url with Stripe's `{CHECKOUT_SESSION_ID}` placeholder filled in. */
export function successUrlOf(row: SessionRow): string {
  return row.success_url.replaceAll('{CHECKOUT_SESSION_ID}', row.id);
}

export function sessionView(ctx: ServiceContext, row: SessionRow) {
  return {
    id: row.id,
    object: 'checkout.session' as const,
    url: sessionUrl(ctx, row.id),
    status: row.status as SessionStatus,
    payment_status: row.status === 'complete' ? ('paid' as const) : ('unpaid' as const),
    amount: row.amount,
    currency: row.currency,
    description: row.description,
    line_items: JSON.parse(row.line_items) as LineItem[],
    success_url: row.success_url,
    cancel_url: row.cancel_url,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    payment_intent: row.payment_intent,
    livemode: row.livemode === 1,
    created: toUnixSeconds(row.created),
    expires_at: toUnixSeconds(row.expires_at),
    completed_at: row.completed_at === null ? null : toUnixSeconds(row.completed_at),
  };
}

export type SessionView = ReturnType<typeof sessionView>;

function invalid(param: string, message: string, code = 'parameter_invalid'): ApiError {
  return new ApiError(400, 'invalid_request_error', code, message, param);
}

/** Redirect targets must be http(s): a `javascript:` success_url would run in the checkout page. */
function checkRedirectUrl(param: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(param, `${param} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalid(param, `${param} must be an http or https URL`);
}

export function checkSessionInput(input: CreateSessionInput, ctx: ServiceContext): void {
  const currency = input.currency.toUpperCase();
  if (!isCurrency(currency))
    throw invalid('currency', 'currency must be one of CNY, HKD, USD, EUR, GBP', 'currency_unsupported');
  checkAmount(input.amount, currency, ctx.config.fxUsdPerUnit, ctx.config.maxAmountUsd);
  if (!input.description.trim()) throw invalid('description', 'description must not be blank');
  checkRedirectUrl('success_url', input.success_url);
  checkRedirectUrl('cancel_url', input.cancel_url);
  const expiresIn = input.expires_in ?? EXPIRES_IN.default;
  if (!Number.isInteger(expiresIn) || expiresIn < EXPIRES_IN.min || expiresIn > EXPIRES_IN.max)
    throw invalid('expires_in', `expires_in must be between ${EXPIRES_IN.min} and ${EXPIRES_IN.max} seconds`);
  if (input.line_items) {
    const total = input.line_items.reduce((sum, item) => sum + item.quantity * item.amount, 0);
    if (total !== input.amount)
      throw invalid('line_items', `line_items add up to ${total}, but amount is ${input.amount}`);
  }
}

export async function createSession(
  ctx: ServiceContext,
  auth: AuthContext,
  input: CreateSessionInput,
): Promise<SessionView> {
  checkSessionInput(input, ctx);
  const id = `cs_${auth.livemode ? 'live' : 'test'}_${randomToken(32)}`;
  const now = ctx.now();
  // The intent exists from the start (unconfirmed: WeChat sees nothing until the page picks a flow).
  const intent = await createIntent(ctx, auth, {
    amount: input.amount,
    currency: input.currency,
    description: input.description,
    metadata: { checkout_session: id },
  });
  const row: SessionRow = {
    id,
    account_id: auth.accountId,
    livemode: auth.livemode ? 1 : 0,
    status: 'open',
    amount: input.amount,
    currency: input.currency.toUpperCase(),
    description: input.description,
    line_items: JSON.stringify(input.line_items ?? []),
    success_url: input.success_url,
    cancel_url: input.cancel_url,
    metadata: JSON.stringify(input.metadata ?? {}),
    payment_intent: intent.id,
    expires_at: now + (input.expires_in ?? EXPIRES_IN.default) * 1000,
    completed_at: null,
    created: now,
    updated: now,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('checkout_sessions').values(row).execute();
    await linkToIdempotencyKey(trx, id);
    await trx
      .insertInto('checkout_session_intents')
      .values({ intent_id: intent.id, session_id: id, created: now })
      .execute();
    await trx
      .updateTable('payment_intents')
      .set({ expires_at: Math.min(row.expires_at, toMs(intent.expires_at)) })
      .where('id', '=', intent.id)
      .execute();
  });
  return sessionView(ctx, row);
}

const toMs = (unixSeconds: number) => unixSeconds * 1000;

async function loadSession(ctx: ServiceContext, auth: AuthContext, id: string): Promise<SessionRow> {
  const row = await ctx.db
    .selectFrom('checkout_sessions')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!row) throw notFound('checkout.session', id);
  return row;
}

/** For the hosted page, which knows only the (unguessable) session id. */
export async function loadPublicSession(ctx: ServiceContext, id: string): Promise<SessionRow | undefined> {
  const row = await ctx.db
    .selectFrom('checkout_sessions')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? syncSession(ctx, row) : undefined;
}

export async function retrieveSession(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<SessionView> {
  return sessionView(ctx, await syncSession(ctx, await loadSession(ctx, auth, id)));
}

function sessionIntents(ctx: ServiceContext, sessionId: string): Promise<IntentRow[]> {
  return ctx.db
    .selectFrom('checkout_session_intents as csi')
    .innerJoin('payment_intents as pi', 'pi.id', 'csi.intent_id')
    .selectAll('pi')
    .where('csi.session_id', '=', sessionId)
    .orderBy('csi.created', 'asc')
    .execute();
}

/** A conditional open → `to` change with its event in one transaction; undefined if another process won. */
async function closeSession(
  ctx: ServiceContext,
  row: SessionRow,
  to: 'complete' | 'expired',
  paidIntent?: string,
): Promise<SessionRow | undefined> {
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('checkout_sessions')
      .set({
        status: to,
        updated: now,
        ...(to === 'complete' ? { completed_at: now, payment_intent: paidIntent ?? row.payment_intent } : {}),
      })
      .where('id', '=', row.id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    const updated = await trx
      .selectFrom('checkout_sessions')
      .selectAll()
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    await recordEventAbout(
      trx,
      row,
      to === 'complete' ? 'checkout.session.completed' : 'checkout.session.expired',
      sessionView(ctx, updated),
      now,
    );
    return updated;
  });
}

/** Cancels the session's other open intents, so the payer cannot pay twice. Best effort: the close job retries. */
async function cancelOpenIntents(ctx: ServiceContext, row: SessionRow, keep?: string): Promise<void> {
  const auth = { accountId: row.account_id, livemode: row.livemode === 1 };
  for (const intent of await sessionIntents(ctx, row.id)) {
    if (
      intent.id === keep ||
      !['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)
    )
      continue;
    try {
      await cancelIntent(ctx, auth, intent.id, 'abandoned');
    } catch (error) {
      ctx.log.warn(
        { intent: intent.id, err: (error as Error).message },
        'canceling a checkout intent failed',
      );
    }
  }
}

/**
 * Brings an open session up to date: complete when one of its intents is succeeded (a payment made before the
 * deadline wins), expired when past its deadline. Returns the row as it now is.
 */
export async function syncSession(ctx: ServiceContext, row: SessionRow): Promise<SessionRow> {
  if (row.status !== 'open') return row;
  const intents = await sessionIntents(ctx, row.id);
  const paid = intents.find((i) => i.status === 'succeeded');
  if (paid) {
    const done = await closeSession(ctx, row, 'complete', paid.id);
    if (done) await cancelOpenIntents(ctx, done, paid.id);
    const current = done ?? (await reloadSession(ctx, row.id));
    await refundDuplicatePayments(ctx, current);
    return current;
  }
  if (row.expires_at <= ctx.now() && !intents.some((i) => i.status === 'processing')) {
    const done = await closeSession(ctx, row, 'expired');
    if (done) await cancelOpenIntents(ctx, done);
    return done ?? (await reloadSession(ctx, row.id));
  }
  return row;
}

function reloadSession(ctx: ServiceContext, id: string): Promise<SessionRow> {
  return ctx.db.selectFrom('checkout_sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/**
 * A session is paid once. Another of its intents that also succeeded (the payer paid the desktop QR and the
 * phone's H5 order, say) is refunded in full, reason `duplicate`, with a checkout.session.duplicate_payment_refunded
 * event. The refund's own conditional reservation keeps concurrent runs from refunding more than was paid; an
 * intent already refunded at all, or whose duplicate refund was tried once, is left to the merchant. Returns how many were refunded.
 */
export async function refundDuplicatePayments(ctx: ServiceContext, session: SessionRow): Promise<number> {
  if (session.status !== 'complete' || !session.payment_intent) return 0;
  const auth = { accountId: session.account_id, livemode: session.livemode === 1 };
  let refunded = 0;
  for (const intent of await sessionIntents(ctx, session.id)) {
    if (intent.id === session.payment_intent || intent.status !== 'succeeded' || intent.refund_count > 0)
      continue;
    // One attempt: a duplicate refund WeChat refused is left to the merchant (refund.failed says so).
    const tried = await ctx.db
      .selectFrom('refunds')
      .select('id')
      .where('payment_intent', '=', intent.id)
      .where('reason', '=', 'duplicate')
      .executeTakeFirst();
    if (tried) continue;
    try {
      const kept = session.payment_intent;
      // The event is written with the refund, so that nothing between them can lose it.
      const refund = await createRefund(
        ctx,
        auth,
        {
          payment_intent: intent.id,
          amount: intent.amount,
          reason: 'duplicate',
          metadata: { checkout_session: session.id, kept_payment_intent: kept },
        },
        (trx, created) =>
          recordEventAbout(
            trx,
            session,
            'checkout.session.duplicate_payment_refunded',
            {
              checkout_session: session.id,
              kept_payment_intent: kept,
              payment_intent: intent.id,
              refund: created.id,
              amount: created.amount,
              currency: created.currency,
            },
            created.created,
          ),
      );
      ctx.log.warn(
        { session: session.id, intent: intent.id, refund: refund.id },
        'a checkout session was paid twice; the extra payment is refunded in full',
      );
      refunded++;
    } catch (error) {
      // Another process reserved the refund first, or WeChat refused: the refund records say which.
      ctx.log.warn(
        { session: session.id, intent: intent.id, err: (error as Error).message },
        'refunding a duplicate checkout payment failed',
      );
    }
  }
  return refunded;
}

export async function expireSession(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<SessionView> {
  const row = await syncSession(ctx, await loadSession(ctx, auth, id));
  const refuse = (why: string) =>
    new ApiError(400, 'invalid_request_error', 'checkout_session_unexpected_state', why);
  if (row.status !== 'open')
    throw refuse(`You cannot expire this Checkout Session because it has a status of ${row.status}.`);
  // The payer said ok in WeChat: wait for WeChat's answer rather than race it.
  if ((await sessionIntents(ctx, id)).some((i) => i.status === 'processing'))
    throw refuse('A payment of this Checkout Session is being confirmed; try again shortly.');
  const done = await closeSession(ctx, row, 'expired');
  if (!done) return retrieveSession(ctx, auth, id);
  await cancelOpenIntents(ctx, done);
  return sessionView(ctx, done);
}

export interface PaymentOptions {
  flow: CheckoutFlow;
  clientIp: string;
  /** JSAPI needs the payer's openid. */
  openid?: string;
}

/**
 * The intent the page shows for this flow: the current one if it is already placed at WeChat for this flow and
 * still payable, else a fresh one (a "new QR code"). Only for an open session.
 */
export async function preparePayment(
  ctx: ServiceContext,
  session: SessionRow,
  options: PaymentOptions,
): Promise<IntentRow> {
  const auth = { accountId: session.account_id, livemode: session.livemode === 1 };
  const intents = await sessionIntents(ctx, session.id);
  const current = intents.find((i) => i.id === session.payment_intent);
  if (current && current.terminal_type === options.flow && PAYABLE.includes(current.status)) return current;
  // Never a second live order while one can still be paid: a payment being confirmed is shown as such, and an
  // order of this flow still payable at WeChat (not being canceled) is shown again rather than a new one placed.
  const reusable =
    intents.find((i) => i.status === 'processing') ??
    intents.find(
      (i) =>
        i.terminal_type === options.flow &&
        i.status === 'requires_action' &&
        i.close_at === null &&
        i.cancellation_reason === null,
    );
  if (reusable) {
    await ctx.db
      .updateTable('checkout_sessions')
      .set({ payment_intent: reusable.id, updated: ctx.now() })
      .where('id', '=', session.id)
      .where('status', '=', 'open')
      .execute();
    return reusable;
  }
  let intentId: string;
  if (current && current.status === 'requires_payment_method' && current.ordered_at === null) {
    intentId = current.id;
  } else {
    const now = ctx.now();
    const created = await createIntent(ctx, auth, {
      amount: session.amount,
      currency: session.currency,
      description: session.description,
      metadata: { checkout_session: session.id },
    });
    intentId = created.id;
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('checkout_session_intents')
        .values({ intent_id: intentId, session_id: session.id, created: now })
        .execute();
      await trx
        .updateTable('payment_intents')
        .set({ expires_at: Math.min(session.expires_at, toMs(created.expires_at)) })
        .where('id', '=', intentId)
        .execute();
    });
  }
  try {
    await confirmIntent(ctx, auth, intentId, {
      payment_method_options: {
        wechat_pay: { terminal_type: options.flow, client_ip: options.clientIp, openid: options.openid },
      },
      return_url: sessionUrl(ctx, session.id),
      requestIp: options.clientIp,
    });
  } catch (error) {
    // Another page load of this session is placing the same order right now: show what it placed.
    if (!(error instanceof ApiError && error.status === 409)) throw error;
  }
  await ctx.db
    .updateTable('checkout_sessions')
    .set({ payment_intent: intentId, updated: ctx.now() })
    .where('id', '=', session.id)
    .where('status', '=', 'open')
    .execute();
  return ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', intentId)
    .executeTakeFirstOrThrow();
}

/** What the page shows; derived on the server so the browser never decides that a payment succeeded. */
export type PageState = 'pay' | 'confirming' | 'retry' | 'succeeded' | 'expired';

export function pageStateOf(session: SessionRow, intent: IntentRow | undefined): PageState {
  if (session.status === 'complete') return 'succeeded';
  if (session.status === 'expired') return 'expired';
  if (!intent) return 'pay';
  if (intent.status === 'processing') return 'confirming';
  if (
    intent.status === 'canceled' ||
    (intent.status === 'requires_payment_method' && intent.ordered_at !== null)
  )
    return 'retry';
  return 'pay';
}

export interface PageStatus {
  state: PageState;
  session_status: string;
  intent_status: string | null;
  /** Only once the session is complete. */
  redirect_url: string | null;
}

export async function pageStatus(ctx: ServiceContext, id: string): Promise<PageStatus | undefined> {
  const session = await loadPublicSession(ctx, id);
  if (!session) return undefined;
  const intent = session.payment_intent
    ? await ctx.db
        .selectFrom('payment_intents')
        .selectAll()
        .where('id', '=', session.payment_intent)
        .executeTakeFirst()
    : undefined;
  return {
    state: pageStateOf(session, intent),
    session_status: session.status,
    intent_status: intent?.status ?? null,
    redirect_url: session.status === 'complete' ? successUrlOf(session) : null,
  };
}

/** The job: completes sessions whose intent was paid and expires overdue ones. Returns how many changed. */
export async function runCheckoutSessions(ctx: ServiceContext, limit = 100): Promise<number> {
  const paid = await ctx.db
    .selectFrom('checkout_sessions as s')
    .innerJoin('checkout_session_intents as csi', 'csi.session_id', 's.id')
    .innerJoin('payment_intents as pi', 'pi.id', 'csi.intent_id')
    .selectAll('s')
    .where('s.status', '=', 'open')
    .where('pi.status', '=', 'succeeded')
    .limit(limit)
    .execute();
  const overdue = await ctx.db
    .selectFrom('checkout_sessions')
    .selectAll()
    .where('status', '=', 'open')
    .where('expires_at', '<=', ctx.now())
    .limit(limit)
    .execute();
  // Complete sessions with another intent paid recently and not refunded: the payer paid twice.
  const paidTwice = await ctx.db
    .selectFrom('checkout_sessions as s')
    .innerJoin('checkout_session_intents as csi', 'csi.session_id', 's.id')
    .innerJoin('payment_intents as pi', 'pi.id', 'csi.intent_id')
    .selectAll('s')
    .where('s.status', '=', 'complete')
    .where('pi.status', '=', 'succeeded')
    .where('pi.refund_count', '=', 0)
    .where('pi.updated', '>=', ctx.now() - DUPLICATE_WINDOW_MS)
    .whereRef('pi.id', '!=', 's.payment_intent')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('refunds as r')
            .select('r.id')
            .whereRef('r.payment_intent', '=', 'pi.id')
            .where('r.reason', '=', 'duplicate'),
        ),
      ),
    )
    .limit(limit)
    .execute();
  let changed = 0;
  for (const row of new Map(paidTwice.map((r) => [r.id, r])).values()) {
    try {
      changed += await refundDuplicatePayments(ctx, row);
    } catch (error) {
      ctx.log.warn({ session: row.id, err: (error as Error).message }, 'duplicate payment refund failed');
    }
  }
  const due = new Map([...paid, ...overdue].map((row) => [row.id, row]));
  for (const row of due.values()) {
    try {
      if ((await syncSession(ctx, row)).status !== 'open') changed++;
    } catch (error) {
      ctx.log.warn({ session: row.id, err: (error as Error).message }, 'checkout session sync failed');
    }
  }
  return changed;
}
