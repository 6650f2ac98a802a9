// Every raw WeChat reply a payout got (send, resend, query), oldest first, for the dashboard's payout detail.
import type { AuthContext, ServiceContext } from './context.js';
import type { PayoutKind } from './payout-state.js';
import { retrievePayout } from './payouts.js';

/** The payout kind an id belongs to, from its prefix (rp_, tr_, cpn_); undefined for anything else. */
export function payoutKindOf(id: string): PayoutKind | undefined {
  if (id.startsWith('rp_')) return 'redpack';
  if (id.startsWith('tr_')) return 'transfer';
  if (id.startsWith('cpn_')) return 'coupon';
  return undefined;
}

export async function payoutWithReplies(
  ctx: ServiceContext,
  auth: AuthContext,
  kind: PayoutKind,
  id: string,
) {
  const row = await retrievePayout(ctx, auth, kind, id);
  const replies = await ctx.db
    .selectFrom('payout_replies')
    .select(['id', 'kind', 'body', 'created'])
    .where('payout_id', '=', row.id)
    .orderBy('created', 'asc')
    .orderBy('id', 'asc')
    .execute();
  return { row, replies };
}
