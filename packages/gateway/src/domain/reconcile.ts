// Asking WeChat for the truth: orderquery (the 主动查询 of the seed flow) and closeorder.
import { BusinessError, type OrderQueryReply } from '@wxpay/sdk';
import type { IntentRow } from '../db/schema.js';
import { loadAccount, type ServiceContext } from './context.js';
import { ApiError } from './errors.js';
import { recordEventAbout } from './events.js';
import { isOpen } from './state.js';
import {
  confirmLeaseFree,
  markIntentCanceled,
  markIntentSucceeded,
  markPaymentFailed,
  neverOrdered,
  type PayloadKind,
  recordPayload,
} from './transitions.js';
import { wechatCallLeaseMs } from './wechat-lease.js';
import { wechatText } from './wechat-text.js';

async function reload(ctx: ServiceContext, id: string): Promise<IntentRow> {
  return ctx.db.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Does a paid-order reply (notify, query, micropay) describe exactly this intent's amount and currency? */
export function amountMatches(intent: IntentRow, fields: { total_fee?: string; fee_type?: string }): boolean {
  return fields.total_fee === String(intent.amount) && (fields.fee_type || 'CNY') === intent.currency;
}

/** Alerts that WeChat reported a paid order with another amount or currency than the intent; changes nothing. */
export async function recordAmountMismatch(
  ctx: ServiceContext,
  intent: IntentRow,
  source: 'orderquery' | 'micropay',
  reply: { total_fee?: string; fee_type?: string },
): Promise<void> {
  await recordEventAbout(
    ctx.db,
    intent,
    'payment_intent.notify_rejected',
    { reason: 'amount_mismatch', source, total_fee: reply.total_fee, fee_type: reply.fee_type },
    ctx.now(),
  );
  ctx.log.warn(
    { intent: intent.id, source },
    'WeChat reports another amount or currency than the intent; refused',
  );
}

/** Calls orderquery and applies a final trade_state; returns the intent as it now is. */
export async function queryIntent(ctx: ServiceContext, intent: IntentRow): Promise<IntentRow> {
  return (await queryOrder(ctx, intent)).intent;
}

/**
 * queryIntent, also telling what WeChat answered: the order's trade_state (undefined if the reply had none), or
 * ORDERNOTEXIST when WeChat has no such order.
 */
export async function queryOrder(
  ctx: ServiceContext,
  intent: IntentRow,
): Promise<{ intent: IntentRow; tradeState: string | undefined }> {
  const account = await loadAccount(ctx, intent.account_id);
  const client = ctx.wechat(account, intent.livemode === 1);
  let reply: OrderQueryReply;
  try {
    reply = await client.orderQuery({ out_trade_no: intent.out_trade_no });
  } catch (error) {
    if (error instanceof BusinessError && error.errCode === 'ORDERNOTEXIST') {
      await recordPayload(ctx.db, intent.id, 'query', error.rawBody ?? error.message, ctx.now());
      return { intent, tradeState: 'ORDERNOTEXIST' };
    }
    throw error;
  }
  const payload = { kind: 'query' as const, body: wechatText(reply) };
  switch (reply.trade_state) {
    case 'SUCCESS':
    case 'REFUND':
      if (!amountMatches(intent, reply)) {
        await recordPayload(ctx.db, intent.id, 'query', payload.body, ctx.now());
        await recordAmountMismatch(ctx, intent, 'orderquery', reply);
        break;
      }
      await markIntentSucceeded(ctx, intent, reply, payload);
      break;
    case 'PAYERROR':
      await markPaymentFailed(
        ctx,
        intent,
        { code: 'PAYERROR', message: reply.trade_state_desc ?? 'payment failed' },
        payload,
      );
      break;
    case 'CLOSED':
    case 'REVOKED':
      await markIntentCanceled(ctx, intent, intent.cancellation_reason ?? 'closed', payload);
      break;
    default:
      await recordPayload(ctx.db, intent.id, 'query', payload.body, ctx.now());
  }
  return { intent: await reload(ctx, intent.id), tradeState: reply.trade_state };
}

/** Refused while a confirm's order call may still reach WeChat: what that call does is not known yet. */
function orderCallInFlight(intent: IntentRow, retryAt: number, now: number): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    'lock_timeout',
    `An order for PaymentIntent ${intent.id} may still reach WeChat from a confirm's call; ` +
      `retry in ${Math.max(1, Math.ceil((retryAt - now) / 1000))} s`,
  );
}

/**
 * When the last order call (unifiedorder or micropay) of the intent can no longer reach WeChat: the end of a confirm
 * lease still held, else a whole lease after the row last changed. Every confirm changes the row (`updated`) when
 * it takes the lease, before it calls; a confirm whose call failed releases the lease at once, although an
 * attempt it gave up on may still be processed by WeChat, which the lease's margin covers.
 */
function lastOrderCallEnds(ctx: ServiceContext, intent: IntentRow): number {
  const window = wechatCallLeaseMs({ timeoutMs: ctx.config.wechatTimeoutMs });
  return Math.max(intent.confirming_until ?? 0, intent.updated + window);
}

/**
 * WeChat answered ORDERNOTEXIST for an intent it never acknowledged an order of (no prepay stored): once no order
 * call can still reach WeChat, nothing can ever be paid on it, so it is canceled without closeorder, on condition
 * that the row is unchanged since it was read (no confirm started meanwhile) and no confirm holds the lease.
 * Returns undefined when that is not known yet (or WeChat contradicts a prepay it gave): the caller goes on as before.
 */
async function cancelAbsentOrder(
  ctx: ServiceContext,
  intent: IntentRow,
  reason: string,
  payload?: { kind: PayloadKind; body: string },
): Promise<IntentRow | undefined> {
  if (intent.wechat_prepay_id !== null) return undefined;
  const now = ctx.now();
  const callsEnd = lastOrderCallEnds(ctx, intent);
  if (callsEnd > now) throw orderCallInFlight(intent, callsEnd, now);
  const canceled = await markIntentCanceled(ctx, intent, reason, payload, (eb) =>
    eb.and([eb('updated', '=', intent.updated), confirmLeaseFree(now)(eb)]),
  );
  if (canceled) return canceled;
  const fresh = await reload(ctx, intent.id);
  if (!isOpen(fresh.status)) return fresh;
  throw changedWhileCanceling(intent);
}

/**
 * Cancels an intent WeChat has no order for, when orderquery says so and no order call can still reach it (see
 * cancelAbsentOrder); undefined otherwise, having applied what orderquery said. For a cancel that WeChat's
 * 5-minute closeorder rule would otherwise defer.
 */
export async function cancelIfNoOrder(
  ctx: ServiceContext,
  intent: IntentRow,
  reason: string,
): Promise<IntentRow | undefined> {
  const now = ctx.now();
  if (intent.wechat_prepay_id !== null || lastOrderCallEnds(ctx, intent) > now) return undefined;
  const queried = await queryOrder(ctx, intent);
  if (queried.tradeState === 'ORDERNOTEXIST') return cancelAbsentOrder(ctx, intent, reason);
  return isOpen(queried.intent.status) ? undefined : queried.intent;
}

/**
 * Closes the order at WeChat and cancels the intent. It queries first, so that an order paid in the meantime
 * ends as succeeded and not as canceled. An intent whose order was never sent is canceled at once, on condition
 * that it still is (a confirm may have stored its order time since `intent` was read); one whose confirm is
 * calling WeChat is refused with a 409.
 */
export async function closeIntent(
  ctx: ServiceContext,
  intent: IntentRow,
  reason: string,
): Promise<IntentRow> {
  let current = intent;
  if (current.ordered_at === null) {
    const canceled = await markIntentCanceled(ctx, current, reason, undefined, neverOrdered(ctx.now()));
    if (canceled) return canceled;
    // A confirm placed the order since `intent` was read: it is closed (or reversed) as any other.
    current = await reload(ctx, intent.id);
    if (!isOpen(current.status)) return current;
  }
  const now = ctx.now();
  if (current.confirming_until !== null && current.confirming_until > now)
    throw orderCallInFlight(current, current.confirming_until, now);
  const queried = await queryOrder(ctx, current);
  if (queried.tradeState === 'ORDERNOTEXIST') {
    const canceled = await cancelAbsentOrder(ctx, current, reason);
    if (canceled) return canceled;
  }
  if (!isOpen(queried.intent.status)) return queried.intent;
  // A confirm gave the order up for a new one meanwhile (a failed payment paid again): closing the old order
  // would not stop the new one, which the payer may be paying.
  if (queried.intent.out_trade_no !== current.out_trade_no) throw changedWhileCanceling(current);
  const account = await loadAccount(ctx, intent.account_id);
  const client = ctx.wechat(account, intent.livemode === 1);
  // Each cancel below is on condition that `current`'s order, the one closed, is still the intent's.
  let canceled: IntentRow | undefined;
  try {
    const reply = await client.closeOrder({ out_trade_no: current.out_trade_no });
    canceled = await markIntentCanceled(ctx, current, reason, { kind: 'close', body: wechatText(reply) });
  } catch (error) {
    if (error instanceof BusinessError && error.errCode === 'ORDERPAID') {
      await recordPayload(ctx.db, intent.id, 'close', error.rawBody ?? error.message, ctx.now());
      return queryIntent(ctx, current);
    }
    if (error instanceof BusinessError && error.errCode === 'ORDERCLOSED') {
      canceled = await markIntentCanceled(ctx, current, reason, {
        kind: 'close',
        body: error.rawBody ?? error.message,
      });
    } else if (error instanceof BusinessError && error.errCode === 'ORDERNOTEXIST') {
      const payload = { kind: 'close' as const, body: error.rawBody ?? error.message };
      const absent = await cancelAbsentOrder(ctx, current, reason, payload);
      if (!absent) throw error;
      return absent;
    } else {
      throw error;
    }
  }
  if (canceled) return canceled;
  const fresh = await reload(ctx, intent.id);
  if (isOpen(fresh.status)) throw changedWhileCanceling(current);
  return fresh;
}

/** Refused: the intent moved on to another order while it was being canceled, so the cancel has to start over. */
function changedWhileCanceling(intent: IntentRow): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    'lock_timeout',
    `PaymentIntent ${intent.id} changed while it was being canceled; retry`,
  );
}
