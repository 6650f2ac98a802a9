// Finding payments by the numbers WeChat and merchants know them by: out_trade_no (商户单号, also one a payment
// gave up after it failed) and WeChat's transaction_id (交易单号). Each lookup reads one indexed column, then keeps
// the rows of the account in its mode: WeChat's numbers are unique per merchant, not across the accounts and modes
// kept here. (An OR over several columns, or the account's columns first, lets SQLite scan the whole account.)
import type { Db } from '../db/schema.js';
import type { AuthContext } from './context.js';

type Owned = { id: string; account_id: string; livemode: number };

function ownedBy(auth: AuthContext): (row: { account_id: string; livemode: number }) => boolean {
  const livemode = auth.livemode ? 1 : 0;
  return (row) => row.account_id === auth.accountId && row.livemode === livemode;
}

/** The ids of the account's payments whose order is, or was, `outTradeNo`. */
export async function intentsByOrderNumber(db: Db, auth: AuthContext, outTradeNo: string): Promise<string[]> {
  const current: Owned[] = await db
    .selectFrom('payment_intents')
    .select(['id', 'account_id', 'livemode'])
    .where('out_trade_no', '=', outTradeNo)
    .execute();
  const retired: Owned[] = await db
    .selectFrom('payment_intent_retired_orders as r')
    .innerJoin('payment_intents as p', 'p.id', 'r.intent_id')
    .select(['p.id', 'p.account_id', 'p.livemode'])
    .where('r.out_trade_no', '=', outTradeNo)
    .execute();
  return [...current, ...retired].filter(ownedBy(auth)).map((row) => row.id);
}

/**
 * The ids of the account's payments WeChat paid under `transactionId`: on their order, or on one they gave up
 * (a late payment WeChat reported after it had said that order failed).
 */
export async function intentsByTransaction(
  db: Db,
  auth: AuthContext,
  transactionId: string,
): Promise<string[]> {
  const paid: Owned[] = await db
    .selectFrom('payment_intents')
    .select(['id', 'account_id', 'livemode'])
    .where('wechat_transaction_id', '=', transactionId)
    .execute();
  const paidOnRetired: Owned[] = await db
    .selectFrom('payment_intent_retired_orders as r')
    .innerJoin('payment_intents as p', 'p.id', 'r.intent_id')
    .select(['p.id', 'p.account_id', 'p.livemode'])
    .where('r.transaction_id', '=', transactionId)
    .execute();
  return [...paid, ...paidOnRetired].filter(ownedBy(auth)).map((row) => row.id);
}

/** The refund's payment, for a refund id, out_refund_no or WeChat refund_id of the account's. */
export async function intentByRefund(
  db: Db,
  auth: AuthContext,
  reference: string,
): Promise<string | undefined> {
  const ours = ownedBy(auth);
  for (const column of ['id', 'out_refund_no', 'wechat_refund_id'] as const) {
    const refunds = await db
      .selectFrom('refunds')
      .select(['payment_intent', 'account_id', 'livemode'])
      .where(column, '=', reference)
      .execute();
    const refund = refunds.find(ours);
    if (refund) return refund.payment_intent;
  }
  return undefined;
}
