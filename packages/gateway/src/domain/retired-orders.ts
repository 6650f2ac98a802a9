// Order numbers an intent gives up. WeChat refuses a second order on the out_trade_no of one that failed
// (OUT_TRADE_NO_USED), so a failed payment confirmed again is ordered under a number of its own: the intent's
// row holds its current number, and every number it gave up is kept in payment_intent_retired_orders, so that a
// notify naming one still finds its intent.
import { insertRow } from '../db/insert-row.js';
import type { Db, IntentRow } from '../db/schema.js';
import type { ServiceContext } from './context.js';
import { recordEventAbout } from './events.js';
import type { PaidOrder } from './transitions.js';

/**
 * The number after `current`: the intent's first number is 24 characters of its id (letters and digits only),
 * the next ones add `_2`, `_3`…, so they stay unique, within WeChat's 32 characters and its alphabet.
 */
export function nextOrderNumber(current: string): string {
  const numbered = /^([0-9A-Za-z]+)_(\d+)$/.exec(current);
  return numbered ? `${numbered[1]}_${Number(numbered[2]) + 1}` : `${current}_2`;
}

const CLOSE_MARGIN_MS = 10_000;

/**
 * Keeps the number `intent` gives up, with what WeChat last said of its order; in the confirm's transaction. Its
 * order is to be closed at WeChat (closeRetiredOrders) as soon as WeChat's minimum age for a close (`closeDelayMs`)
 * allows, so that it cannot be paid as well as the one that replaces it.
 */
export async function retireOrder(
  db: Db,
  intent: IntentRow,
  tradeState: string,
  now: number,
  closeDelayMs: number,
): Promise<void> {
  await insertRow(db, 'payment_intent_retired_orders', {
    out_trade_no: intent.out_trade_no,
    intent_id: intent.id,
    account_id: intent.account_id,
    trade_type: intent.trade_type,
    ordered_at: intent.ordered_at,
    trade_state: tradeState,
    retired: now,
    transaction_id: null,
    // A few seconds past WeChat's minimum: the order time is stored before the call that placed the order.
    close_at: Math.max(now, (intent.ordered_at ?? now) + closeDelayMs + CLOSE_MARGIN_MS),
    close_failures: 0,
  });
}

/** The intent that gave up `outTradeNo`, if one of the account's did. */
export function intentOfRetiredOrder(
  db: Db,
  accountId: string,
  outTradeNo: string,
): Promise<IntentRow | undefined> {
  return db
    .selectFrom('payment_intent_retired_orders')
    .innerJoin('payment_intents', 'payment_intents.id', 'payment_intent_retired_orders.intent_id')
    .selectAll('payment_intents')
    .where('payment_intent_retired_orders.account_id', '=', accountId)
    .where('payment_intent_retired_orders.out_trade_no', '=', outTradeNo)
    .executeTakeFirst();
}

/**
 * WeChat reports paid an order the intent gave up after WeChat had said it failed. Nothing about the intent
 * changes; the payment is recorded on the retired order, once, with a payment_intent.wechat_status_conflict alert
 * saying whether the order that replaced it was paid too (the payer paid twice: refund one) or not (the payer paid
 * through the old order: fulfil, or refund it), either in WeChat's merchant platform.
 */
export async function alertRetiredOrderPaid(
  ctx: ServiceContext,
  intent: IntentRow,
  outTradeNo: string,
  paid: PaidOrder,
  source: string,
): Promise<void> {
  const now = ctx.now();
  const alerted = await ctx.db.transaction().execute(async (trx) => {
    const recorded = await trx
      .updateTable('payment_intent_retired_orders')
      .set({ transaction_id: paid.transaction_id ?? '' })
      .where('out_trade_no', '=', outTradeNo)
      .where('intent_id', '=', intent.id)
      .where('transaction_id', 'is', null)
      .executeTakeFirst();
    if (Number(recorded.numUpdatedRows) !== 1) return false;
    const current = await trx
      .selectFrom('payment_intents')
      .select(['status', 'out_trade_no'])
      .where('id', '=', intent.id)
      .executeTakeFirstOrThrow();
    await recordEventAbout(
      trx,
      intent,
      'payment_intent.wechat_status_conflict',
      {
        // Whether the payer paid twice: succeeded means the order that replaced this one was paid as well.
        status: current.status,
        out_trade_no: current.out_trade_no,
        wechat_trade_state: paid.trade_state ?? 'SUCCESS',
        retired_out_trade_no: outTradeNo,
        transaction_id: paid.transaction_id,
        total_fee: paid.total_fee,
        fee_type: paid.fee_type ?? 'CNY',
        source,
      },
      now,
    );
    return true;
  });
  if (alerted)
    ctx.log.warn(
      { intent: intent.id, out_trade_no: outTradeNo, source },
      'WeChat reports paid an order this intent gave up after it failed',
    );
}
