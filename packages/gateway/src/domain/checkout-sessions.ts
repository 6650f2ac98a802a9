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
import {
  cancelIntent,
  confirmIntent,
  createIntent,
  stillWanted,
  type TerminalType,
} from './payment-intents.js';
import { queryIntent } from './reconcile.js';
import { createRefund } from './refunds.js';
import { isOpen, prepayOutlived } from './state.js';
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

/** The open statuses a session cancels its intents from; a `processing` one waits for WeChat's answer. */
const CANCELABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

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
    settle_tried_at: null,
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

/**
 * A conditional change of the session from the status it was read with (`row.status`) to `to`, with its event in
 * one transaction; undefined if another process won, or (expiring) if an intent of it is paid or still payable.
 * `expired` → `complete` is a payment WeChat confirmed after the session was expired: it also writes
 * checkout.session.completed_after_expiry, so that a merchant who acted on the expiry learns of it.
 */
async function closeSession(
  ctx: ServiceContext,
  row: SessionRow,
  to: 'complete' | 'expired',
  paidIntent?: string,
): Promise<SessionRow | undefined> {
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    let update = trx
      .updateTable('checkout_sessions')
      .set({
        status: to,
        updated: now,
        ...(to === 'complete' ? { completed_at: now, payment_intent: paidIntent ?? row.payment_intent } : {}),
      })
      .where('id', '=', row.id)
      .where('status', '=', row.status);
    // The caller settled the intents first; this guards against a notify or a new order in the meantime. An
    // order whose close WeChat defers (its 5-minute rule) was queried unpaid and is being closed.
    if (to === 'expired')
      update = update.where(({ exists, not, selectFrom }) =>
        not(
          exists(
            selectFrom('checkout_session_intents as csi')
              .innerJoin('payment_intents as pi', 'pi.id', 'csi.intent_id')
              .select('pi.id')
              .where('csi.session_id', '=', row.id)
              .where((eb) =>
                eb.or([
                  eb('pi.status', 'in', ['succeeded', 'processing']),
                  eb.and([eb('pi.status', 'in', CANCELABLE), eb('pi.close_at', 'is', null)]),
                ]),
              ),
          ),
        ),
      );
    const result = await update.executeTakeFirst();
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
    if (row.status === 'expired')
      await recordEventAbout(
        trx,
        row,
        'checkout.session.completed_after_expiry',
        {
          checkout_session: row.id,
          payment_intent: updated.payment_intent,
          amount: updated.amount,
          currency: updated.currency,
        },
        now,
      );
    return updated;
  });
}

/**
 * Cancels the session's open intents except `keep`, so the payer cannot pay twice. An order older than WeChat's
 * 5 minutes is closed there (after an orderquery, so a paid one ends succeeded); a younger one's close is
 * scheduled. Returns the intents WeChat did not answer for; the close job and the next pass retry them.
 */
async function cancelOpenIntents(ctx: ServiceContext, row: SessionRow, keep?: string): Promise<Set<string>> {
  const auth = { accountId: row.account_id, livemode: row.livemode === 1 };
  const unanswered = new Set<string>();
  for (const intent of await sessionIntents(ctx, row.id)) {
    if (intent.id === keep || !CANCELABLE.includes(intent.status)) continue;
    try {
      await cancelIntent(ctx, auth, intent.id, 'abandoned');
    } catch (error) {
      // Also the refusal of an intent the close found paid: the status read afterwards tells them apart.
      unanswered.add(intent.id);
      ctx.log.warn(
        { intent: intent.id, err: (error as Error).message },
        'canceling a checkout intent failed',
      );
    }
  }
  return unanswered;
}

/** What closing a session's orders found out. */
interface Settlement {
  /** An intent WeChat confirmed paid: the session completes with it. */
  paid?: IntentRow;
  /** WeChat's answer for an order is still awaited: being confirmed, not answered, or being placed. */
  unknown: boolean;
  /** An order WeChat says is unpaid but will not close yet (its 5-minute rule); its close is scheduled. */
  closing: boolean;
}

/**
 * Closes (or schedules the close of) every open order of the session and asks WeChat about each one whose close
 * must wait, so that a payment made before the session ends is found before the session is expired.
 */
async function settleIntents(ctx: ServiceContext, row: SessionRow): Promise<Settlement> {
  const unanswered = await cancelOpenIntents(ctx, row);
  const now = ctx.now();
  const settlement: Settlement = { unknown: false, closing: false };
  for (const intent of await sessionIntents(ctx, row.id)) {
    if (intent.status === 'succeeded') return { ...settlement, paid: intent };
    if (!isOpen(intent.status)) continue;
    const beingPlaced = intent.confirming_until !== null && intent.confirming_until > now;
    if (
      intent.status === 'processing' ||
      beingPlaced ||
      unanswered.has(intent.id) ||
      intent.close_at === null
    ) {
      settlement.unknown = true;
      continue;
    }
    try {
      const queried = await queryIntent(ctx, intent);
      if (queried.status === 'succeeded') return { ...settlement, paid: queried };
      if (isOpen(queried.status)) settlement.closing = true;
    } catch (error) {
      settlement.unknown = true;
      ctx.log.warn({ intent: intent.id, err: (error as Error).message }, 'querying a checkout intent failed');
    }
  }
  return settlement;
}

/** Completes the session with `paid` (conditionally), cancels its other orders and refunds a second payment. */
async function completeSession(ctx: ServiceContext, row: SessionRow, paid: IntentRow): Promise<SessionRow> {
  const done = await closeSession(ctx, row, 'complete', paid.id);
  if (done) {
    await cancelOpenIntents(ctx, done, paid.id);
    if (row.status === 'expired')
      ctx.log.warn(
        { session: row.id, intent: paid.id },
        'an expired checkout session was paid; it is completed with that payment',
      );
  }
  const current = done ?? (await reloadSession(ctx, row.id));
  await refundDuplicatePayments(ctx, current);
  return current;
}

/**
 * Brings a session up to date from what the database knows: complete when one of its intents is succeeded (a
 * payment made before the deadline wins: an intent's time_expire is never later than its session's), also when
 * the session was expired before WeChat confirmed that payment. Expiring takes WeChat's word on every order, so
 * it is left to settleSession (the job) and expireSession. Returns the row as it now is.
 */
export async function syncSession(ctx: ServiceContext, row: SessionRow): Promise<SessionRow> {
  if (row.status === 'complete') return row;
  const intents = await sessionIntents(ctx, row.id);
  // An intent already refunded at all, of an expired session, was dealt with by the merchant.
  const paid = intents.find(
    (i) => i.status === 'succeeded' && (row.status === 'open' || i.refund_count === 0),
  );
  return paid ? completeSession(ctx, row, paid) : row;
}

/**
 * syncSession, then, past the deadline, settles the session's orders at WeChat: complete if one turns out paid,
 * expired once every one is closed unpaid. Until WeChat has answered for each (a close it defers under its
 * 5-minute rule, an orderquery it did not answer, a payment being confirmed) the session stays open, no new order
 * is placed, and the job's next pass tries again.
 */
async function settleSession(ctx: ServiceContext, row: SessionRow): Promise<SessionRow> {
  const synced = await syncSession(ctx, row);
  if (synced.status !== 'open' || synced.expires_at > ctx.now()) return synced;
  const settlement = await settleIntents(ctx, synced);
  if (settlement.paid) return completeSession(ctx, synced, settlement.paid);
  if (settlement.unknown || settlement.closing) return synced;
  return (await closeSession(ctx, synced, 'expired')) ?? (await reloadSession(ctx, row.id));
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

/**
 * Expires an open session once WeChat has answered for each of its orders: one found paid completes the session
 * instead (and the request is refused, the session being complete); one whose outcome is unknown refuses the
 * request, the session staying open. An order WeChat says is unpaid but cannot close yet (its 5-minute rule) does
 * not hold the expiry: its close is scheduled, and a payment that still lands completes the session then
 * (checkout.session.completed_after_expiry).
 */
export async function expireSession(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<SessionView> {
  const row = await syncSession(ctx, await loadSession(ctx, auth, id));
  const refuse = (why: string) =>
    new ApiError(400, 'invalid_request_error', 'checkout_session_unexpected_state', why);
  const wrongStatus = (status: string) =>
    refuse(`You cannot expire this Checkout Session because it has a status of ${status}.`);
  if (row.status !== 'open') throw wrongStatus(row.status);
  // The payer said ok in WeChat: wait for WeChat's answer rather than race it.
  if ((await sessionIntents(ctx, id)).some((i) => i.status === 'processing'))
    throw refuse('A payment of this Checkout Session is being confirmed; try again shortly.');
  const settlement = await settleIntents(ctx, row);
  if (settlement.paid) throw wrongStatus((await completeSession(ctx, row, settlement.paid)).status);
  if (settlement.unknown)
    throw refuse('WeChat has not yet said whether this Checkout Session was paid; try again shortly.');
  const done = await closeSession(ctx, row, 'expired');
  if (done) return sessionView(ctx, done);
  // Another process changed it meanwhile: a notify, another expire, or a new order from the page.
  const current = await syncSession(ctx, await reloadSession(ctx, id));
  if (current.status === 'expired') return sessionView(ctx, current);
  if (current.status !== 'open') throw wrongStatus(current.status);
  throw refuse('This Checkout Session changed while it was being expired; try again.');
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
  // Past its deadline the session is only settling the orders it has (settleSession): none is placed.
  if (session.expires_at <= ctx.now()) {
    const shown = current ?? intents[intents.length - 1];
    if (!shown) throw notFound('payment_intent', session.payment_intent ?? '');
    return shown;
  }
  const now = ctx.now();
  // An order the payer can still be shown: one a confirm would not refuse.
  const offered = (i: IntentRow) => stillWanted(i, now);
  if (
    current &&
    current.terminal_type === options.flow &&
    PAYABLE.includes(current.status) &&
    (current.status === 'processing' || offered(current))
  )
    return renewedPrepay(ctx, auth, current);
  // Never a second live order while one can still be paid: a payment being confirmed is shown as such, and an
  // order of this flow still payable at WeChat (not being canceled) is shown again rather than a new one placed.
  const reusable =
    intents.find((i) => i.status === 'processing') ??
    intents.find((i) => i.terminal_type === options.flow && i.status === 'requires_action' && offered(i));
  if (reusable) {
    await ctx.db
      .updateTable('checkout_sessions')
      .set({ payment_intent: reusable.id, updated: ctx.now() })
      .where('id', '=', session.id)
      .where('status', '=', 'open')
      .execute();
    return renewedPrepay(ctx, auth, reusable);
  }
  let intentId: string;
  if (
    current &&
    current.status === 'requires_payment_method' &&
    current.ordered_at === null &&
    offered(current)
  ) {
    intentId = current.id;
  } else {
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

/**
 * The intent to show, its prepay renewed first once WeChat no longer honours it (see prepayOutlived): a
 * confirm of a requires_action intent places the same order again, same out_trade_no and parameters, and WeChat
 * answers a new prepay_id and code_url after 2 hours, or a new mweb_url after an H5 one's 5 minutes. A QR code gets
 * there only for intents that live longer than a prepay (WXPAY_INTENT_TTL_SECONDS above 7200); an H5 page shown
 * again, or its button tapped (payableH5Intent), more than 5 minutes later does.
 */
async function renewedPrepay(ctx: ServiceContext, auth: AuthContext, intent: IntentRow): Promise<IntentRow> {
  if (intent.status !== 'requires_action' || !prepayOutlived(intent.prepay_at, intent.trade_type, ctx.now()))
    return intent;
  try {
    await confirmIntent(ctx, auth, intent.id, {
      payment_method_options: { wechat_pay: { terminal_type: intent.terminal_type as TerminalType } },
    });
  } catch (error) {
    // Another page load of this session is renewing it right now: show what it placed.
    if (!(error instanceof ApiError && error.status === 409)) throw error;
  }
  return ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', intent.id)
    .executeTakeFirstOrThrow();
}

/**
 * The intent the page's H5 button leads to (GET /checkout/:id/h5): the session's current H5 order, its mweb_url
 * renewed first if WeChat no longer honours it (renewedPrepay: same out_trade_no). Undefined when the payer cannot
 * pay it now — the session is closed or past its deadline, the intent is paid, being confirmed, canceled or being
 * canceled, not an H5 one, or another tap is renewing it this moment — and the page itself then shows why (or the
 * renewed redirect). The button never starts a new order (a new out_trade_no): only a page load picks the flow.
 */
export async function payableH5Intent(
  ctx: ServiceContext,
  session: SessionRow,
): Promise<IntentRow | undefined> {
  if (session.status !== 'open' || session.expires_at <= ctx.now() || !session.payment_intent)
    return undefined;
  const intent = await ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', session.payment_intent)
    .executeTakeFirst();
  const payable = (i: IntentRow | undefined): i is IntentRow =>
    i !== undefined &&
    i.terminal_type === 'WAP' &&
    i.status === 'requires_action' &&
    stillWanted(i, ctx.now());
  if (!payable(intent)) return undefined;
  const auth = { accountId: session.account_id, livemode: session.livemode === 1 };
  const shown = await renewedPrepay(ctx, auth, intent);
  // Still outlived: a concurrent tap holds the renewal (its confirm answered 409); the page shows what it places.
  return payable(shown) && !prepayOutlived(shown.prepay_at, shown.trade_type, ctx.now()) ? shown : undefined;
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
  // Past its deadline an open session is waiting for WeChat's word on its orders: it ends complete or expired.
  const settling = session.status === 'open' && session.expires_at <= ctx.now();
  return {
    state: settling ? 'confirming' : pageStateOf(session, intent),
    session_status: session.status,
    intent_status: intent?.status ?? null,
    redirect_url: session.status === 'complete' ? successUrlOf(session) : null,
  };
}

/**
 * Open sessions past their deadline, up to `limit`, each marked as tried now: the longest waiting first, by their
 * deadline if the job never tried them, else by when it last did. A session whose orders WeChat leaves unsettled
 * (an orderquery that keeps failing, a payment being confirmed) so goes behind the others after each pass instead
 * of keeping its place, and two processes running the job at once mostly take different sessions. Both queries
 * read at most `limit` rows, through the (status, settle_tried_at, expires_at) index of migration 012.
 */
async function takeOverdueSessions(ctx: ServiceContext, limit: number): Promise<SessionRow[]> {
  const now = ctx.now();
  const overdue = () =>
    ctx.db
      .selectFrom('checkout_sessions')
      .selectAll()
      .where('status', '=', 'open')
      .where('expires_at', '<=', now)
      .limit(limit);
  const [untried, tried] = await Promise.all([
    overdue().where('settle_tried_at', 'is', null).orderBy('expires_at').execute(),
    overdue().where('settle_tried_at', 'is not', null).orderBy('settle_tried_at').execute(),
  ]);
  const waitingSince = (row: (typeof untried)[number]) => row.settle_tried_at ?? row.expires_at;
  const taken = [...untried, ...tried].sort((a, b) => waitingSince(a) - waitingSince(b)).slice(0, limit);
  if (taken.length > 0)
    await ctx.db
      .updateTable('checkout_sessions')
      .set({ settle_tried_at: now })
      .where(
        'id',
        'in',
        taken.map((row) => row.id),
      )
      .where('status', '=', 'open')
      .execute();
  return taken;
}

/**
 * The job: completes sessions whose intent was paid (expired ones too: WeChat confirmed the payment late), and
 * expires overdue ones whose orders WeChat has settled unpaid. Returns how many changed.
 */
export async function runCheckoutSessions(ctx: ServiceContext, limit = 100): Promise<number> {
  // Sessions with a succeeded intent, joined on the session's intents.
  const withPaidIntent = () =>
    ctx.db
      .selectFrom('checkout_sessions as s')
      .innerJoin('checkout_session_intents as csi', 'csi.session_id', 's.id')
      .innerJoin('payment_intents as pi', 'pi.id', 'csi.intent_id')
      .selectAll('s')
      .where('pi.status', '=', 'succeeded')
      .limit(limit);
  const paid = await withPaidIntent().where('s.status', '=', 'open').execute();
  const paidAfterExpiry = await withPaidIntent()
    .where('s.status', '=', 'expired')
    // A payment confirmed late was made before the deadline: a window after it bounds the scan on the
    // (status, expires_at) index instead of every expired session there ever was.
    .where('s.expires_at', '>=', ctx.now() - DUPLICATE_WINDOW_MS)
    .where('pi.refund_count', '=', 0)
    .execute();
  const overdue = await takeOverdueSessions(ctx, limit);
  // Complete sessions with another intent paid recently and not refunded: the payer paid twice.
  const paidTwice = await withPaidIntent()
    .where('s.status', '=', 'complete')
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
    .execute();
  let changed = 0;
  for (const row of new Map(paidTwice.map((r) => [r.id, r])).values()) {
    try {
      changed += await refundDuplicatePayments(ctx, row);
    } catch (error) {
      ctx.log.warn({ session: row.id, err: (error as Error).message }, 'duplicate payment refund failed');
    }
  }
  const due = new Map([...paid, ...paidAfterExpiry, ...overdue].map((row) => [row.id, row]));
  for (const row of due.values()) {
    try {
      if ((await settleSession(ctx, row)).status !== row.status) changed++;
    } catch (error) {
      ctx.log.warn({ session: row.id, err: (error as Error).message }, 'checkout session sync failed');
    }
  }
  return changed;
}
