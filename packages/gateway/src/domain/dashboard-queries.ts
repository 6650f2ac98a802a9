// The dashboard's reads: today's totals and the 30-day chart, the filtered payments list, one payment in full.
import { sql } from 'kysely';
import type { IntentRow } from '../db/schema.js';
import type { AuthContext, ServiceContext } from './context.js';
import { type IntentView, intentView } from './intent-view.js';
import { type ListResult, paginate } from './pagination.js';
import { retrieveIntent } from './payment-intents.js';
import { intentByRefund, intentsByOrderNumber, intentsByTransaction } from './payment-references.js';
import { toUnixSeconds } from './time.js';

const DAY_MS = 86_400_000;
/** Days are counted in China Standard Time (UTC+8), as WeChat's bills are. */
const CST_MS = 8 * 3600_000;

export function cstDay(epochMs: number): number {
  return Math.floor((epochMs + CST_MS) / DAY_MS);
}

export function cstDayStart(day: number): number {
  return day * DAY_MS - CST_MS;
}

export interface DayTotal {
  day: number;
  currency: string;
  volume: number;
  count: number;
}

export interface Overview {
  today: { currency: string; volume: number; count: number }[];
  /** 30 days ending today, for the main currency. */
  chart: { day: number; volume: number; count: number }[];
  chartCurrency: string;
}

export async function overview(ctx: ServiceContext, auth: AuthContext): Promise<Overview> {
  const today = cstDay(ctx.now());
  const first = today - 29;
  // Integer division by literals, so both dialects group by the same expression.
  const dayExpr = sql.raw<number>(`(created + ${CST_MS}) / ${DAY_MS}`);
  const rows = await ctx.db
    .selectFrom('payment_intents')
    .select([
      dayExpr.as('day'),
      'currency',
      sql<string>`sum(amount)`.as('volume'),
      sql<string>`count(*)`.as('count'),
    ])
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .where('status', '=', 'succeeded')
    .where('created', '>=', cstDayStart(first))
    .groupBy([dayExpr, 'currency'])
    .execute();
  const totals: DayTotal[] = rows.map((r) => ({
    day: Number(r.day),
    currency: r.currency,
    volume: Number(r.volume),
    count: Number(r.count),
  }));
  const byCurrency = new Map<string, number>();
  for (const t of totals) byCurrency.set(t.currency, (byCurrency.get(t.currency) ?? 0) + t.count);
  const chartCurrency = [...byCurrency.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'CNY';
  const chart = Array.from({ length: 30 }, (_, i) => {
    const day = first + i;
    const t = totals.find((x) => x.day === day && x.currency === chartCurrency);
    return { day, volume: t?.volume ?? 0, count: t?.count ?? 0 };
  });
  return {
    today: totals
      .filter((t) => t.day === today)
      .map(({ currency, volume, count }) => ({ currency, volume, count })),
    chart,
    chartCurrency,
  };
}

export interface PaymentFilters {
  status?: string;
  terminal_type?: string;
  /** Minor units, inclusive. */
  amount_min?: number;
  amount_max?: number;
  /** CST days (see cstDay), inclusive. */
  from_day?: number;
  to_day?: number;
  starting_after?: string;
  ending_before?: string;
  limit?: number;
}

/** Keyset-paginated (created, id) like the API, on the account_created index; filters narrow the scan. */
export function listPayments(
  ctx: ServiceContext,
  auth: AuthContext,
  filters: PaymentFilters,
): Promise<ListResult<IntentView>> {
  return paginate(
    ctx.db,
    'payment_intents',
    auth,
    {
      limit: filters.limit ?? 25,
      starting_after: filters.starting_after,
      ending_before: filters.ending_before,
      created: {
        gte: filters.from_day === undefined ? undefined : toUnixSeconds(cstDayStart(filters.from_day)),
        lt: filters.to_day === undefined ? undefined : toUnixSeconds(cstDayStart(filters.to_day + 1)),
      },
    },
    (query) => {
      let q = query;
      if (filters.status) q = q.where('status', '=', filters.status);
      if (filters.terminal_type) q = q.where('terminal_type', '=', filters.terminal_type);
      if (filters.amount_min !== undefined) q = q.where('amount', '>=', filters.amount_min);
      if (filters.amount_max !== undefined) q = q.where('amount', '<=', filters.amount_max);
      return q;
    },
    (row) => intentView(row as unknown as IntentRow),
  );
}

/**
 * The payment a reference names, as support is given one: its id (pi_…), its out_trade_no (商户单号, current or
 * one it gave up after a failed payment), WeChat's transaction_id (交易单号), or one of its refunds (re_…,
 * out_refund_no or WeChat's refund_id). Only this account's payments in this mode; undefined when none matches.
 */
export async function findPayment(
  ctx: ServiceContext,
  auth: AuthContext,
  reference: string,
): Promise<string | undefined> {
  const ref = reference.trim();
  // Every reference is printable ASCII; anything else names nothing (and PostgreSQL refuses a NUL in text).
  if (!/^[\x21-\x7e]{1,64}$/.test(ref)) return undefined;
  const byId = await ctx.db
    .selectFrom('payment_intents')
    .select('id')
    .where('id', '=', ref)
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (byId) return byId.id;
  const [byOrder] = await intentsByOrderNumber(ctx.db, auth, ref);
  if (byOrder) return byOrder;
  const [byTransaction] = await intentsByTransaction(ctx.db, auth, ref);
  if (byTransaction) return byTransaction;
  return intentByRefund(ctx.db, auth, ref);
}

export interface PaymentDetail {
  intent: IntentView;
  /** Orders the payment gave up after they failed, oldest first, with what WeChat said of each. */
  earlierOrders: { out_trade_no: string; trade_state: string; transaction_id: string | null }[];
  events: { id: string; type: string; created: number }[];
  refunds: { id: string; amount: number; status: string; reason: string | null; created: number }[];
}

export async function paymentDetail(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
): Promise<PaymentDetail> {
  const intent = await retrieveIntent(ctx, auth, id, ['wechat_payloads']);
  const events = await ctx.db
    .selectFrom('events')
    .select(['id', 'type', 'created'])
    .where('account_id', '=', auth.accountId)
    .where('object_id', '=', id)
    .orderBy('created', 'asc')
    .orderBy('id', 'asc')
    .execute();
  const refunds = await ctx.db
    .selectFrom('refunds')
    .select(['id', 'amount', 'status', 'reason', 'created'])
    .where('account_id', '=', auth.accountId)
    .where('payment_intent', '=', id)
    .orderBy('created', 'asc')
    .execute();
  const earlierOrders = await ctx.db
    .selectFrom('payment_intent_retired_orders')
    .select(['out_trade_no', 'trade_state', 'transaction_id'])
    .where('intent_id', '=', id)
    .orderBy('retired', 'asc')
    .execute();
  return { intent, events, refunds, earlierOrders };
}
