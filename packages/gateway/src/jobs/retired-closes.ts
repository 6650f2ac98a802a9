// Closes, at WeChat, the orders payments gave up after they failed (see domain/retired-orders.ts), as WeChat's
// guidance asks of a failed payment paid again under a new number: so that the old one cannot be paid as well.
import { BusinessError, WechatPayError } from '@wxpay/sdk';
import type { RetiredOrdersTable } from '../db/schema.js';
import { loadAccount, type ServiceContext } from '../domain/context.js';
import { alertRetiredOrderPaid } from '../domain/retired-orders.js';
import { recordPayload } from '../domain/transitions.js';
import { wechatCallLeaseMs } from '../domain/wechat-lease.js';
import { wechatText } from '../domain/wechat-text.js';

type Retired = RetiredOrdersTable;

/** Failed closes in a row after which a given-up order is no longer tried (about a day of hourly tries). */
export const MAX_CLOSE_FAILURES = 30;

/** After the n-th failed close in a row, the next try waits this long: 1, 2, 4… minutes, at most an hour. */
export function retiredCloseBackoffMs(failures: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, failures - 1), 3600_000);
}

/** Closes every retired order whose close is due, oldest first; returns how many this process tried. */
export async function closeRetiredOrders(
  ctx: ServiceContext,
  options: { limit?: number } = {},
): Promise<number> {
  const now = ctx.now();
  const due = await ctx.db
    .selectFrom('payment_intent_retired_orders')
    .selectAll()
    .where('close_at', '<=', now)
    .orderBy('close_at', 'asc')
    .limit(options.limit ?? 50)
    .execute();
  let tried = 0;
  for (const row of due) {
    // Claimed by moving its due time past this call's lease, on condition nobody moved it first.
    const lease = now + wechatCallLeaseMs({ timeoutMs: ctx.config.wechatTimeoutMs });
    const claimed = await ctx.db
      .updateTable('payment_intent_retired_orders')
      .set({ close_at: lease })
      .where('out_trade_no', '=', row.out_trade_no)
      .where('close_at', '=', row.close_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    tried++;
    try {
      await closeRetiredOrder(ctx, row, lease);
    } catch (error) {
      ctx.log.warn(
        { out_trade_no: row.out_trade_no, err: (error as Error).message },
        'closing a given-up order failed; tried again later',
      );
    }
  }
  return tried;
}

async function closeRetiredOrder(ctx: ServiceContext, row: Retired, lease: number): Promise<void> {
  const intent = await ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', row.intent_id)
    .executeTakeFirstOrThrow();
  const client = ctx.wechat(await loadAccount(ctx, intent.account_id), intent.livemode === 1);
  const settle = (closeAt: number | null, failures: number) =>
    ctx.db
      .updateTable('payment_intent_retired_orders')
      .set({ close_at: closeAt, close_failures: failures })
      .where('out_trade_no', '=', row.out_trade_no)
      .where('close_at', '=', lease)
      .execute();
  try {
    const reply = await client.closeOrder({ out_trade_no: row.out_trade_no });
    await recordPayload(ctx.db, intent.id, 'close', wechatText(reply), ctx.now());
    await settle(null, row.close_failures);
  } catch (error) {
    if (!(error instanceof WechatPayError)) throw error;
    await recordPayload(
      ctx.db,
      intent.id,
      'close',
      error.rawBody ?? `${error.code}: ${error.message}`,
      ctx.now(),
    );
    const code = error instanceof BusinessError ? error.errCode : undefined;
    if (code === 'ORDERCLOSED' || code === 'ORDERNOTEXIST' || code === 'ORDERREVERSED') {
      await settle(null, row.close_failures);
      return;
    }
    if (code === 'ORDERPAID') {
      // Paid after all, after WeChat said it failed: recorded on the retired order and alerted, never applied.
      const paid = await client.orderQuery({ out_trade_no: row.out_trade_no });
      await recordPayload(ctx.db, intent.id, 'query', wechatText(paid), ctx.now());
      await alertRetiredOrderPaid(ctx, intent, row.out_trade_no, paid, 'close');
      await settle(null, row.close_failures);
      return;
    }
    const failures = row.close_failures + 1;
    if (failures >= MAX_CLOSE_FAILURES) {
      // A day of refusals: WeChat will not close it. A notify saying it was paid is still alerted.
      await settle(null, failures);
      ctx.log.warn(
        { intent: intent.id, out_trade_no: row.out_trade_no, err: error.message },
        'closeorder of a given-up order kept failing; no longer tried',
      );
      return;
    }
    await settle(ctx.now() + retiredCloseBackoffMs(failures), failures);
    ctx.log.warn(
      { intent: intent.id, out_trade_no: row.out_trade_no, err: error.message },
      'closeorder of a given-up order failed; tried again later',
    );
  }
}
