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

/** WeChat's answers that mean there is nothing (more) to close. */
const NOTHING_TO_CLOSE: ReadonlySet<string> = new Set(['ORDERCLOSED', 'ORDERNOTEXIST', 'ORDERREVERSED']);

/** Closes every retired order whose close is due, oldest first; returns how many this process tried. */
export async function closeRetiredOrders(
  ctx: ServiceContext,
  options: { limit?: number } = {},
): Promise<number> {
  const due = await ctx.db
    .selectFrom('payment_intent_retired_orders')
    .selectAll()
    .where('close_at', '<=', ctx.now())
    .orderBy('close_at', 'asc')
    .limit(options.limit ?? 50)
    .execute();
  let tried = 0;
  for (const row of due) {
    // Claimed by moving its due time past this call's lease (from now: earlier calls may have been slow), on
    // condition nobody moved it first. A process that dies mid-call leaves it to be taken again after the lease.
    const lease = ctx.now() + wechatCallLeaseMs({ timeoutMs: ctx.config.wechatTimeoutMs });
    const claimed = await ctx.db
      .updateTable('payment_intent_retired_orders')
      .set({ close_at: lease })
      .where('out_trade_no', '=', row.out_trade_no)
      .where('close_at', '=', row.close_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    tried++;
    await closeRetiredOrder(ctx, row, lease);
  }
  return tried;
}

/** One claimed close. Whatever goes wrong is a failed try: backed off, and given up after MAX_CLOSE_FAILURES. */
async function closeRetiredOrder(ctx: ServiceContext, row: Retired, lease: number): Promise<void> {
  // Only while this caller's claim stands.
  const settle = (closeAt: number | null, failures: number) =>
    ctx.db
      .updateTable('payment_intent_retired_orders')
      .set({ close_at: closeAt, close_failures: failures })
      .where('out_trade_no', '=', row.out_trade_no)
      .where('close_at', '=', lease)
      .execute();
  try {
    if (await tryClose(ctx, row)) await settle(null, row.close_failures);
    return;
  } catch (error) {
    const failures = row.close_failures + 1;
    const given = failures >= MAX_CLOSE_FAILURES;
    await settle(given ? null : ctx.now() + retiredCloseBackoffMs(failures), failures);
    ctx.log.warn(
      { intent: row.intent_id, out_trade_no: row.out_trade_no, failures, err: (error as Error).message },
      given
        ? 'closeorder of a given-up order kept failing; no longer tried (a notify saying it was paid is still alerted)'
        : 'closeorder of a given-up order failed; tried again later',
    );
  }
}

/** Calls closeorder; true when nothing is left to close. Throws for a try to be made again. */
async function tryClose(ctx: ServiceContext, row: Retired): Promise<boolean> {
  const intent = await ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', row.intent_id)
    .executeTakeFirstOrThrow();
  const client = ctx.wechat(await loadAccount(ctx, intent.account_id), intent.livemode === 1);
  try {
    const reply = await client.closeOrder({ out_trade_no: row.out_trade_no });
    await recordPayload(ctx.db, intent.id, 'close', wechatText(reply), ctx.now());
    return true;
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
    if (code !== undefined && NOTHING_TO_CLOSE.has(code)) return true;
    if (code !== 'ORDERPAID') throw error;
  }
  // Paid after all, after WeChat said it failed: recorded on the retired order and alerted, never applied.
  const paid = await client.orderQuery({ out_trade_no: row.out_trade_no });
  await recordPayload(ctx.db, intent.id, 'query', wechatText(paid), ctx.now());
  if (paid.trade_state !== 'SUCCESS' && paid.trade_state !== 'REFUND')
    throw new Error(`closeorder answered ORDERPAID but orderquery says ${paid.trade_state ?? 'nothing'}`);
  await alertRetiredOrderPaid(ctx, intent, row.out_trade_no, paid, 'close');
  return true;
}
