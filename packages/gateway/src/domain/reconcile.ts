// Asking WeChat for the truth: orderquery (the 主动查询 of the seed flow) and closeorder.
import { BusinessError, type OrderQueryReply } from '@wxpay/sdk';
import type { IntentRow } from '../db/schema.js';
import { loadAccount, type ServiceContext } from './context.js';
import { recordEventAbout } from './events.js';
import { isOpen } from './state.js';
import { markIntentCanceled, markIntentSucceeded, markPaymentFailed, recordPayload } from './transitions.js';
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
      await markIntentSucceeded(ctx, intent, reply.transaction_id, payload);
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

/**
 * Closes the order at WeChat and cancels the intent. It queries first, so that an order paid in the
 * meantime ends as succeeded and not as canceled.
 */
export async function closeIntent(
  ctx: ServiceContext,
  intent: IntentRow,
  reason: string,
): Promise<IntentRow> {
  if (intent.ordered_at === null) {
    await markIntentCanceled(ctx, intent, reason);
    return reload(ctx, intent.id);
  }
  const queried = await queryIntent(ctx, intent);
  if (!isOpen(queried.status)) return queried;
  const account = await loadAccount(ctx, intent.account_id);
  const client = ctx.wechat(account, intent.livemode === 1);
  try {
    const reply = await client.closeOrder({ out_trade_no: intent.out_trade_no });
    await markIntentCanceled(ctx, queried, reason, { kind: 'close', body: wechatText(reply) });
  } catch (error) {
    if (error instanceof BusinessError && error.errCode === 'ORDERPAID') {
      await recordPayload(ctx.db, intent.id, 'close', error.rawBody ?? error.message, ctx.now());
      return queryIntent(ctx, queried);
    }
    if (error instanceof BusinessError && error.errCode === 'ORDERCLOSED') {
      await markIntentCanceled(ctx, queried, reason, { kind: 'close', body: error.rawBody ?? error.message });
    } else {
      throw error;
    }
  }
  return reload(ctx, intent.id);
}
