// Dashboard routes for payouts: the red packet / transfer / coupon lists and one payout with its raw replies.
import type { FastifyInstance } from 'fastify';
import type { PayoutRow } from '../db/schema-payouts.js';
import type { ServiceContext } from '../domain/context.js';
import { ApiError } from '../domain/errors.js';
import { payoutKindOf, payoutWithReplies } from '../domain/payout-replies.js';
import type { PayoutKind } from '../domain/payout-state.js';
import { couponView, redpackView, transferView } from '../domain/payout-view.js';
import { listPayouts } from '../domain/payouts.js';
import { payoutDetailView, payoutsView } from '../web/dashboard/payouts-view.js';
import type { DashboardKit } from './dashboard-kit.js';

const VIEWS = { redpack: redpackView, transfer: transferView, coupon: couponView } as const;
const viewOf = (kind: PayoutKind, row: PayoutRow) => VIEWS[kind](row);

export async function dashboardPayoutRoutes(
  app: FastifyInstance,
  ctx: ServiceContext,
  kit: DashboardKit,
): Promise<void> {
  app.get<{ Querystring: { kind?: string; starting_after?: string } }>(
    '/dashboard/payouts',
    (request, reply) =>
      kit.page(request, reply, 'payouts', 'Payouts', async (login) => {
        const kind: PayoutKind =
          request.query.kind === 'transfer' || request.query.kind === 'coupon'
            ? request.query.kind
            : 'redpack';
        const startingAfter = request.query.starting_after || undefined;
        try {
          const list = await listPayouts(
            ctx,
            login,
            kind,
            { limit: 25, starting_after: startingAfter },
            (row) => viewOf(kind, row),
          );
          return payoutsView({ kind, data: list.data, hasMore: list.has_more, startingAfter });
        } catch (error) {
          if (error instanceof ApiError && error.status < 500)
            return payoutsView({ kind, data: [], hasMore: false, startingAfter: undefined });
          throw error;
        }
      }),
  );

  app.get<{ Params: { id: string } }>('/dashboard/payouts/:id', (request, reply) =>
    kit.page(request, reply, 'payouts', 'Payout', async (login) => {
      const kind = payoutKindOf(request.params.id);
      try {
        if (!kind) throw new ApiError(404, 'invalid_request_error', 'resource_missing', 'No such payout');
        const { row, replies } = await payoutWithReplies(ctx, login, kind, request.params.id);
        return payoutDetailView(viewOf(kind, row), replies);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          reply.code(404);
          return '<h1>No such payout</h1>';
        }
        throw error;
      }
    }),
  );
}
