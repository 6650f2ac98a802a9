// Refunds: create (reserving the amount on the intent with one conditional UPDATE), send to WeChat with a stored
// out_refund_no, retrieve, list, cancel while WeChat has not accepted it, and apply WeChat's verdict.
import {
  BusinessError,
  ProtocolError,
  type RefundQueryReply,
  raisedBeforeSending,
  UNKNOWN_OUTCOME_CODES,
  WechatPayError,
} from '@wxpay/sdk';
import type { Db, IntentRow } from '../db/schema.js';
import type { RefundRow } from '../db/schema-refunds-webhooks.js';
import { type AuthContext, loadAccount, type ServiceContext } from './context.js';
import { ApiError, notFound } from './errors.js';
import { recordEventAbout } from './events.js';
import { linkToIdempotencyKey } from './idempotency.js';
import { randomToken } from './ids.js';
import { type ListParams, type ListResult, paginate } from './pagination.js';
import {
  MAX_REFUNDS_PER_PAYMENT,
  REFUND_OPEN,
  REFUND_WINDOW_MS,
  type RefundReason,
  refundQueryDelayMs,
  refundResendDelayMs,
  refundStatusFromWechat,
} from './refund-state.js';
import {
  markFailedRefundSucceeded,
  recordRefundEvents,
  recordRefundPayload,
  settleRefund,
} from './refund-transitions.js';
import { type RefundView, refundView } from './refund-view.js';
import { wasPaid } from './state.js';
import { wechatCallLeaseMs } from './wechat-lease.js';
import { wechatText } from './wechat-text.js';

export interface CreateRefundInput {
  payment_intent: string;
  amount?: number;
  reason?: RefundReason;
  metadata?: Record<string, string>;
}

/** Longer than any WeChat call, retries included, so a send in flight is never raced by a resend or a cancel. */
function sendLeaseMs(ctx: ServiceContext): number {
  return wechatCallLeaseMs({ timeoutMs: ctx.config.wechatTimeoutMs });
}

export function refundNotifyUrl(ctx: ServiceContext, accountId: string): string {
  return `${ctx.publicUrl()}/notify/wechatpay/${accountId}/refund`;
}

async function loadRefund(ctx: ServiceContext, auth: AuthContext, id: string): Promise<RefundRow> {
  const row = await ctx.db
    .selectFrom('refunds')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!row) throw notFound('refund', id);
  return row;
}

function reloadRefund(ctx: ServiceContext, id: string): Promise<RefundRow> {
  return ctx.db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

function refused(code: string, message: string, param?: string): ApiError {
  return new ApiError(400, 'invalid_request_error', code, message, param);
}

/** Why the conditional reservation matched no row, read afterwards only to explain the refusal. */
function refusalFor(intent: IntentRow, amount: number, now: number): ApiError {
  if (!wasPaid(intent.status, intent.wechat_transaction_id))
    return refused(
      'payment_intent_unexpected_state',
      `Only a paid PaymentIntent can be refunded (succeeded, or canceled but reported paid by WeChat); this one has a status of ${intent.status}.`,
      'payment_intent',
    );
  if ((intent.ordered_at ?? intent.created) < now - REFUND_WINDOW_MS)
    return refused(
      'charge_expired_for_refund',
      'WeChat refunds payments for 365 days only.',
      'payment_intent',
    );
  if (intent.refund_count >= MAX_REFUNDS_PER_PAYMENT)
    return refused(
      'refund_limit_exceeded',
      `A payment can be refunded at most ${MAX_REFUNDS_PER_PAYMENT} times.`,
      'payment_intent',
    );
  if (intent.amount_refunded >= intent.amount)
    return refused(
      'charge_already_refunded',
      'This PaymentIntent has already been fully refunded.',
      'payment_intent',
    );
  return refused(
    'amount_too_large',
    `Refund amount (${amount}) is greater than the unrefunded amount (${intent.amount - intent.amount_refunded}).`,
    'amount',
  );
}

export async function createRefund(
  ctx: ServiceContext,
  auth: AuthContext,
  input: CreateRefundInput,
  /** More to write in the transaction that creates the refund (an event about why it was made). */
  alsoInTransaction?: (trx: Db, refund: RefundRow) => Promise<unknown>,
): Promise<RefundView> {
  const intent = await ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', input.payment_intent)
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!intent) throw notFound('payment_intent', input.payment_intent, 'payment_intent');
  const now = ctx.now();
  // Without an amount, what remains now; the reservation below is what actually guards the total.
  const amount = input.amount ?? intent.amount - intent.amount_refunded;
  if (amount <= 0) throw refusalFor(intent, 1, now);
  const id = `re_${randomToken(24)}`;
  const row: RefundRow = {
    id,
    account_id: auth.accountId,
    livemode: auth.livemode ? 1 : 0,
    payment_intent: intent.id,
    amount,
    currency: intent.currency,
    status: 'pending',
    reason: input.reason ?? null,
    metadata: JSON.stringify(input.metadata ?? {}),
    // 24 characters of the id: unique, and stored with the row before WeChat ever sees the refund.
    out_refund_no: id.slice(3),
    submitted: 0,
    wechat_refund_id: null,
    failure_reason: null,
    next_attempt_at: now,
    attempts: 0,
    sending_until: null,
    next_query_at: null,
    query_count: 0,
    created: now,
    updated: now,
  };
  const reserved = await ctx.db.transaction().execute(async (trx) => {
    // The one guard against over-refunding, concurrent requests included: never read-then-write.
    const result = await trx
      .updateTable('payment_intents')
      .set((eb) => ({
        amount_refunded: eb('amount_refunded', '+', amount),
        refund_count: eb('refund_count', '+', 1),
        updated: now,
      }))
      .where('id', '=', intent.id)
      // wasPaid, as SQL.
      .where((eb) =>
        eb.or([
          eb('status', '=', 'succeeded'),
          eb.and([eb('status', '=', 'canceled'), eb('wechat_transaction_id', 'is not', null)]),
        ]),
      )
      .where((eb) => eb(eb('amount_refunded', '+', amount), '<=', eb.ref('amount')))
      .where('refund_count', '<', MAX_REFUNDS_PER_PAYMENT)
      .where((eb) => eb(eb.fn.coalesce('ordered_at', 'created'), '>=', now - REFUND_WINDOW_MS))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await trx.insertInto('refunds').values(row).execute();
    await linkToIdempotencyKey(trx, id);
    await recordRefundEvents(trx, row, 'refund.created', now);
    await alsoInTransaction?.(trx, row);
    return true;
  });
  if (!reserved) {
    const current = await ctx.db
      .selectFrom('payment_intents')
      .selectAll()
      .where('id', '=', intent.id)
      .executeTakeFirstOrThrow();
    throw refusalFor(current, amount, now);
  }
  return refundView(await sendRefund(ctx, row));
}

/**
 * Sends (or resends, with the same out_refund_no) a refund WeChat has not accepted yet. An unknown outcome
 * (timeout, SYSTEMERROR, unverifiable reply) or rate limiting leaves it pending for the worker; a refusal fails
 * it only when no earlier try of its out_refund_no may have landed (see afterFailedSend).
 */
export async function sendRefund(ctx: ServiceContext, refund: RefundRow): Promise<RefundRow> {
  const now = ctx.now();
  const attempts = refund.attempts + 1;
  const leaseUntil = now + sendLeaseMs(ctx);
  const claim = await ctx.db
    .updateTable('refunds')
    .set({
      attempts,
      sending_until: leaseUntil,
      next_attempt_at: now + refundResendDelayMs(attempts),
      updated: now,
    })
    .where('id', '=', refund.id)
    .where('status', '=', 'pending')
    .where('submitted', '=', 0)
    // A stale row (another process sent it since it was read) must not be sent as if it had fewer attempts:
    // whether an earlier attempt may have landed is read from `attempts`.
    .where('attempts', '=', refund.attempts)
    .where((eb) => eb.or([eb('sending_until', 'is', null), eb('sending_until', '<', now)]))
    .executeTakeFirst();
  if (Number(claim.numUpdatedRows) !== 1) return reloadRefund(ctx, refund.id);
  // The lease this call holds (a refundquery after a refusal takes a fresh one). Released at the end only while
  // it is still this call's: a call that outlived it must not free the lease of the process that took over.
  const lease = { until: leaseUntil };
  try {
    const intent = await ctx.db
      .selectFrom('payment_intents')
      .selectAll()
      .where('id', '=', refund.payment_intent)
      .executeTakeFirstOrThrow();
    const account = await loadAccount(ctx, refund.account_id);
    const client = ctx.wechat(account, refund.livemode === 1);
    try {
      const reply = await client.refund({
        out_trade_no: intent.out_trade_no,
        out_refund_no: refund.out_refund_no,
        total_fee: intent.amount,
        refund_fee: refund.amount,
        ...(intent.currency === 'CNY' ? {} : { refund_fee_type: intent.currency as 'CNY' }),
        ...(refund.reason ? { refund_desc: refund.reason } : {}),
        notify_url: refundNotifyUrl(ctx, refund.account_id),
      });
      await recordRefundPayload(ctx.db, refund, 'refund', wechatText(reply), ctx.now());
      await markAccepted(ctx, refund.id, reply.refund_id ?? null);
    } catch (error) {
      if (!(error instanceof WechatPayError)) throw error;
      await recordRefundPayload(
        ctx.db,
        refund,
        'refund',
        error.rawBody ?? `${error.code}: ${error.message}`,
        ctx.now(),
      );
      await afterFailedSend(ctx, refund, error, lease);
    }
  } finally {
    await ctx.db
      .updateTable('refunds')
      .set({ sending_until: null })
      .where('id', '=', refund.id)
      .where('sending_until', '=', lease.until)
      .execute();
  }
  return reloadRefund(ctx, refund.id);
}

/** WeChat has the refund (its reply or its refundquery said so): from now on only notifies and refundquery. */
async function markAccepted(
  ctx: ServiceContext,
  refundId: string,
  wechatRefundId: string | null,
): Promise<void> {
  const at = ctx.now();
  await ctx.db
    .updateTable('refunds')
    .set({
      submitted: 1,
      wechat_refund_id: wechatRefundId,
      next_attempt_at: null,
      next_query_at: at + refundQueryDelayMs(0),
      updated: at,
    })
    .where('id', '=', refundId)
    // A notify may have settled it already: a settled refund is not scheduled for queries again.
    .where('status', 'in', [...REFUND_OPEN])
    .execute();
}

/**
 * Whether WeChat refused the very try that raised `error`, so that this try did not refund: a business refusal,
 * a return_code FAIL, or an error raised before anything was sent. Rate limiting is no refusal: nothing was
 * processed, and the same request is sent again later.
 */
function thisTryRefused(error: WechatPayError): boolean {
  if (error instanceof BusinessError) return !UNKNOWN_OUTCOME_CODES.has(error.errCode) && !error.rateLimited;
  return error instanceof ProtocolError || raisedBeforeSending(error);
}

/**
 * What a failed send proves. A refusal proves only that the try which got it did not refund, so it fails the
 * refund (and frees its amount) only when no earlier try of the same out_refund_no may have landed. After an
 * earlier gateway attempt, refundquery decides: WeChat's refund is adopted, and REFUNDNOTEXIST fails it. After
 * an earlier try within this very call (the SDK's own resend), that try may still be in flight at WeChat: the
 * refund stays pending, and the worker resends it later. Anything else (a timeout, SYSTEMERROR, a reply that is
 * garbled or does not verify, rate limiting) leaves the refund pending, resent with the same out_refund_no.
 * It decides only while `lease` is still this call's (see settleRefund's heldLease), and moves `lease.until` when
 * it takes a fresh lease for the query.
 */
async function afterFailedSend(
  ctx: ServiceContext,
  refund: RefundRow,
  error: WechatPayError,
  lease: { until: number },
): Promise<void> {
  const reason = (error instanceof BusinessError ? error.errCode : error.code).toLowerCase();
  if (!thisTryRefused(error)) {
    ctx.log.warn(
      { refund: refund.id, code: error.code, earlierAttemptUnknown: error.earlierAttemptUnknown },
      'refund outcome unknown or rate limited; the worker resends it with the same out_refund_no',
    );
    return;
  }
  if (refund.attempts === 0 && !error.earlierAttemptUnknown) {
    await settleRefund(ctx, refund.id, 'failed', { failure_reason: reason }, lease.until);
    return;
  }
  if (error.earlierAttemptUnknown) {
    ctx.log.warn(
      { refund: refund.id, code: error.code },
      'refund refused after a try whose outcome is unknown; left pending, resent later with the same out_refund_no',
    );
    return;
  }
  // The query runs under a fresh send lease, so that no resend or cancel starts meanwhile.
  const extendedUntil = ctx.now() + sendLeaseMs(ctx);
  const extended = await ctx.db
    .updateTable('refunds')
    .set({ sending_until: extendedUntil })
    .where('id', '=', refund.id)
    .where('sending_until', '=', lease.until)
    .executeTakeFirst();
  if (Number(extended.numUpdatedRows) !== 1) return;
  lease.until = extendedUntil;
  let found: Awaited<ReturnType<typeof queryWechatRefund>>;
  try {
    found = await queryWechatRefund(ctx, refund);
  } catch (queryError) {
    ctx.log.warn(
      { refund: refund.id, err: (queryError as Error).message },
      'refund refused after an earlier attempt and refundquery failed; left pending, resent later',
    );
    return;
  }
  if (!found) {
    await settleRefund(ctx, refund.id, 'failed', { failure_reason: reason }, lease.until);
    return;
  }
  if (found.refund_fee !== undefined && found.refund_fee !== String(refund.amount)) {
    ctx.log.warn(
      { refund: refund.id },
      'refundquery reports another refund_fee than the refund; left pending and unchanged',
    );
    return;
  }
  // An earlier attempt landed: WeChat has the refund, whatever this try was told.
  await markAccepted(ctx, refund.id, found.refund_id ?? null);
  await applyWechatRefundStatus(ctx, await reloadRefund(ctx, refund.id), found);
}

/** A refund WeChat holds for manual handling (CHANGE) is queried again this long after each look. */
export const REQUIRES_ACTION_QUERY_DELAY_MS = 6 * 3600_000;

/** A WeChat refund result (notify or refundquery) applied to the refund; a mismatching amount changes nothing. */
export async function applyWechatRefundStatus(
  ctx: ServiceContext,
  refund: RefundRow,
  result: { refund_status?: string; refund_fee?: string; refund_id?: string },
): Promise<'applied' | 'unchanged' | 'mismatch'> {
  if (result.refund_fee !== undefined && result.refund_fee !== String(refund.amount)) return 'mismatch';
  const to = refundStatusFromWechat(result.refund_status);
  if (!to) return 'unchanged';
  const patch = {
    submitted: 1,
    wechat_refund_id: result.refund_id ?? refund.wechat_refund_id,
    ...(to === 'failed' ? { failure_reason: 'refund_closed' } : {}),
    ...(to === 'requires_action'
      ? {
          failure_reason: 'bank_refused_manual_handling',
          next_query_at: ctx.now() + REQUIRES_ACTION_QUERY_DELAY_MS,
        }
      : {}),
  };
  const row = await settleRefund(ctx, refund.id, to, patch);
  if (row) return 'applied';
  const current = await reloadRefund(ctx, refund.id);
  if (to !== 'succeeded' || (current.status !== 'failed' && current.status !== 'canceled'))
    return 'unchanged';
  // WeChat says the money went back to the payer while our record says it did not: the amount was released to
  // the intent and may be refunded again. The merchant is alerted either way.
  const conflict = {
    status: current.status,
    wechat_refund_status: result.refund_status,
    refund_fee: result.refund_fee,
  };
  if (current.status === 'canceled') {
    // Never sent to WeChat (only a refund with no attempt can be canceled): nothing here explains it.
    await alertStatusConflict(ctx, current, conflict);
    return 'unchanged';
  }
  // WeChat reversed its answer (REFUNDCLOSE, or a refusal): the record follows it, and the amount is reserved
  // again, unless the intent's other refunds meanwhile leave less than it unrefunded.
  const corrected = await markFailedRefundSucceeded(
    ctx,
    current.id,
    { submitted: 1, wechat_refund_id: result.refund_id ?? current.wechat_refund_id },
    { ...conflict, corrected: true },
  );
  if (corrected === 'not_failed') return 'unchanged';
  if (corrected !== 'exceeds_unrefunded') {
    ctx.log.warn(
      { refund: current.id },
      'WeChat reports paid back a refund we held as failed; marked succeeded',
    );
    return 'applied';
  }
  // WeChat says more was refunded than the payment's amount allows here: only a person can tell which is right.
  const intent = await ctx.db
    .selectFrom('payment_intents')
    .select(['amount', 'amount_refunded'])
    .where('id', '=', current.payment_intent)
    .executeTakeFirstOrThrow();
  await alertStatusConflict(ctx, current, {
    ...conflict,
    corrected: false,
    reason: 'exceeds_unrefunded_amount',
    unrefunded_amount: intent.amount - intent.amount_refunded,
  });
  return 'unchanged';
}

/** refund.wechat_status_conflict for a refund WeChat reports paid back and whose record is left as it is. */
async function alertStatusConflict(
  ctx: ServiceContext,
  refund: RefundRow,
  data: Record<string, unknown>,
): Promise<void> {
  await ctx.db
    .transaction()
    .execute((trx) => recordEventAbout(trx, refund, 'refund.wechat_status_conflict', data, ctx.now()));
  ctx.log.warn(
    { refund: refund.id, ...data },
    'WeChat reports paid back a refund we hold as not paid; left as it is',
  );
}

/** The numbered fields of a refundquery reply that describe `outRefundNo`. */
export function refundInQueryReply(
  reply: RefundQueryReply,
  outRefundNo: string,
): { refund_status?: string; refund_fee?: string; refund_id?: string } | undefined {
  const count = Number(reply.refund_count ?? 0);
  for (let n = 0; n < count; n++) {
    if (reply[`out_refund_no_${n}`] !== outRefundNo) continue;
    return {
      refund_status: reply[`refund_status_${n}`],
      refund_fee: reply[`refund_fee_${n}`],
      refund_id: reply[`refund_id_${n}`],
    };
  }
  return undefined;
}

/** refundquery by out_refund_no; undefined when WeChat has no such refund (REFUNDNOTEXIST). */
async function queryWechatRefund(
  ctx: ServiceContext,
  refund: RefundRow,
): Promise<{ refund_status?: string; refund_fee?: string; refund_id?: string } | undefined> {
  const account = await loadAccount(ctx, refund.account_id);
  const client = ctx.wechat(account, refund.livemode === 1);
  try {
    const reply = await client.refundQuery({ out_refund_no: refund.out_refund_no });
    await recordRefundPayload(ctx.db, refund, 'refund_query', wechatText(reply), ctx.now());
    return refundInQueryReply(reply, refund.out_refund_no);
  } catch (error) {
    if (error instanceof BusinessError && error.errCode === 'REFUNDNOTEXIST') return undefined;
    throw error;
  }
}

/** The worker's refundquery of a refund WeChat accepted but has not notified. */
export async function queryRefund(ctx: ServiceContext, refund: RefundRow): Promise<RefundRow> {
  const found = await queryWechatRefund(ctx, refund);
  const outcome = found ? await applyWechatRefundStatus(ctx, refund, found) : 'unchanged';
  if (outcome === 'mismatch')
    ctx.log.warn(
      { refund: refund.id },
      'refundquery reports another refund_fee than the refund; left unchanged',
    );
  return reloadRefund(ctx, refund.id);
}

export async function retrieveRefund(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<RefundView> {
  return refundView(await loadRefund(ctx, auth, id));
}

export function listRefunds(
  ctx: ServiceContext,
  auth: AuthContext,
  params: ListParams & { payment_intent?: string },
): Promise<ListResult<RefundView>> {
  return paginate(
    ctx.db,
    'refunds',
    auth,
    params,
    (q) => (params.payment_intent ? q.where('payment_intent', '=', params.payment_intent) : q),
    (row) => refundView(row as unknown as RefundRow),
  );
}

/**
 * Cancels a refund WeChat has not accepted. If it was ever sent, refundquery must first show WeChat has no such
 * refund; the send lease is held meanwhile so the worker cannot resend it in between.
 */
export async function cancelRefund(ctx: ServiceContext, auth: AuthContext, id: string): Promise<RefundView> {
  const refund = await loadRefund(ctx, auth, id);
  const notCancelable = (why: string) =>
    new ApiError(
      400,
      'invalid_request_error',
      'refund_unexpected_state',
      `You cannot cancel this refund: ${why}.`,
    );
  if (refund.status !== 'pending' || refund.submitted === 1)
    throw notCancelable(
      refund.status === 'pending' ? 'WeChat has already accepted it' : `it is ${refund.status}`,
    );
  // Once a request has gone out, WeChat may still act on it even if it says today that it has no such
  // refund (a timed-out request can be processed late). Only a refund that never left is canceled;
  // the others are resent with the same out_refund_no until WeChat decides.
  if (refund.attempts > 0)
    throw notCancelable(
      'it has been sent to WeChat, whose answer is not known yet; it is resent with the same out_refund_no until WeChat decides',
    );
  const now = ctx.now();
  const leaseUntil = now + sendLeaseMs(ctx);
  const claim = await ctx.db
    .updateTable('refunds')
    .set({ sending_until: leaseUntil })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('submitted', '=', 0)
    .where('attempts', '=', 0)
    .where((eb) => eb.or([eb('sending_until', 'is', null), eb('sending_until', '<', now)]))
    .executeTakeFirst();
  if (Number(claim.numUpdatedRows) !== 1)
    throw new ApiError(
      409,
      'invalid_request_error',
      'lock_timeout',
      'This refund is being sent to WeChat; retry',
    );
  try {
    await settleRefund(ctx, id, 'canceled', { failure_reason: null }, leaseUntil);
  } finally {
    await ctx.db
      .updateTable('refunds')
      .set({ sending_until: null })
      .where('id', '=', id)
      .where('sending_until', '=', leaseUntil)
      .execute();
  }
  return refundView(await reloadRefund(ctx, id));
}
