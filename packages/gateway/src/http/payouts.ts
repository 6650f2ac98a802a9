// The /v1 payout routes: red packets, transfers, coupons and coupon stocks. Thin: validate, call, map.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PayoutRow } from '../db/schema-payouts.js';
import type { ServiceContext } from '../domain/context.js';
import { SCENE_IDS } from '../domain/payout-rules.js';
import { PAYOUT_ID_PREFIX } from '../domain/payout-sending.js';
import { type PayoutKind, REDPACK_STATUSES, TRANSFER_STATUSES } from '../domain/payout-state.js';
import { couponView, redpackView, transferView } from '../domain/payout-view.js';
import {
  createCoupon,
  createRedpack,
  createTransfer,
  listPayouts,
  retrieveCoupon,
  retrieveCouponStock,
  retrievePayout,
} from '../domain/payouts.js';
import { requireAuth } from './auth.js';
import type { IdempotencyRule } from './idempotency.js';
import { errorResponses, MAX_MINOR_UNITS } from './schemas.js';

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

export const RedpackBody = Type.Object(
  {
    type: Type.Union([Type.Literal('normal'), Type.Literal('fission')]),
    re_openid: Text(32),
    send_name: Text(32),
    total_amount: Type.Integer({ maximum: MAX_MINOR_UNITS, description: 'Fen' }),
    total_num: Type.Integer(),
    wishing: Text(128),
    act_name: Text(32),
    remark: Text(256),
    scene_id: Type.Optional(Type.Union(SCENE_IDS.map((s) => Type.Literal(s)))),
    risk_info: Type.Optional(Text(128)),
    consume_mch_id: Type.Optional(Type.String({ pattern: '^\\d{6,32}$' })),
    amt_type: Type.Optional(Type.Literal('ALL_RAND')),
  },
  { additionalProperties: false },
);

const TransferBody = Type.Object(
  {
    openid: Text(64),
    amount: Type.Integer({ maximum: MAX_MINOR_UNITS, description: 'Fen' }),
    description: Text(100),
    check_name: Type.Union([Type.Literal('NO_CHECK'), Type.Literal('FORCE_CHECK')]),
    re_user_name: Type.Optional(Text(64)),
  },
  { additionalProperties: false },
);

const CouponBody = Type.Object(
  { coupon_stock_id: Text(64), openid: Text(64) },
  { additionalProperties: false },
);

const Obj = Type.Object({ id: Type.String(), object: Type.String() }, { additionalProperties: true });
const ok = { 200: Obj, ...errorResponses };
const ListQuery = (statuses: readonly string[]) =>
  Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
      starting_after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      status: Type.Optional(Type.Union(statuses.map((s) => Type.Literal(s)))),
    },
    { additionalProperties: false },
  );
const idParams = (prefix: string) =>
  Type.Object({ id: Type.String({ pattern: `^${prefix}_[0-9A-Za-z]{1,60}$` }) });

/** The server's own IPv4, which sendredpack wants as client_ip. */
export function serverIp(request: FastifyRequest): string {
  const local = (request.socket.localAddress ?? '').replace(/^::ffff:/, '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(local) ? local : '127.0.0.1';
}

/** A payout route's Idempotency-Key rule: a retry after a crash answers the recorded payout through `view`. */
export function answeredAs(
  ctx: ServiceContext,
  kind: PayoutKind,
  view: (row: PayoutRow) => unknown,
): IdempotencyRule {
  return {
    creates: PAYOUT_ID_PREFIX[kind],
    answer: async (auth, id) => view(await retrievePayout(ctx, auth, kind, id)),
  };
}

export async function payoutRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const resources: [
    string,
    PayoutKind,
    readonly string[],
    (row: PayoutRow) => { id: string; object: string },
  ][] = [
    ['redpacks', 'redpack', REDPACK_STATUSES, redpackView],
    ['transfers', 'transfer', TRANSFER_STATUSES, transferView],
  ];
  for (const [path, kind, statuses, view] of resources) {
    r.get(
      `/v1/${path}`,
      {
        schema: {
          tags: ['payouts'],
          summary: `List ${path}, newest first`,
          querystring: ListQuery(statuses),
        },
      },
      async (request) => {
        const q = request.query;
        const page = await listPayouts(
          ctx,
          requireAuth(request),
          kind,
          { limit: q.limit ?? 10, starting_after: q.starting_after, status: q.status },
          (row) => view(row),
        );
        return { ...page, url: `/v1/${path}` };
      },
    );
    r.get(
      `/v1/${path}/:id`,
      {
        schema: {
          tags: ['payouts'],
          summary: `Retrieve a ${kind}`,
          params: idParams(PAYOUT_ID_PREFIX[kind]),
          response: ok,
        },
      },
      async (request) => view(await retrievePayout(ctx, requireAuth(request), kind, request.params.id)),
    );
  }

  r.post(
    '/v1/redpacks',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Send a red packet (normal or fission)',
        body: RedpackBody,
        response: ok,
      },
      config: { idempotency: answeredAs(ctx, 'redpack', redpackView) },
    },
    async (request) =>
      redpackView(
        await createRedpack(ctx, requireAuth(request), { ...request.body, client_ip: serverIp(request) }),
      ),
  );
  r.post(
    '/v1/transfers',
    {
      schema: {
        tags: ['payouts'],
        summary: "Transfer to a user's WeChat balance",
        body: TransferBody,
        response: ok,
      },
      config: { idempotency: answeredAs(ctx, 'transfer', transferView) },
    },
    async (request) =>
      transferView(
        await createTransfer(ctx, requireAuth(request), {
          ...request.body,
          spbill_create_ip: serverIp(request),
        }),
      ),
  );
  r.post(
    '/v1/coupons',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Send a coupon of a stock to a user',
        body: CouponBody,
        response: ok,
      },
      config: { idempotency: answeredAs(ctx, 'coupon', couponView) },
    },
    async (request) => couponView(await createCoupon(ctx, requireAuth(request), request.body)),
  );
  r.get(
    '/v1/coupons/:id',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Query a coupon at WeChat (querycouponsinfo)',
        params: Type.Object({ id: Text(64) }),
        querystring: Type.Object({ openid: Text(64), stock_id: Text(64) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const reply = await retrieveCoupon(ctx, requireAuth(request), {
        coupon_id: request.params.id,
        openid: request.query.openid,
        stock_id: request.query.stock_id,
      });
      return { id: request.params.id, object: 'coupon_info', ...reply };
    },
  );
  r.get(
    '/v1/coupon_stocks/:id',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Query a coupon stock at WeChat (query_coupon_stock)',
        params: Type.Object({ id: Text(64) }),
      },
    },
    async (request) => {
      const reply = await retrieveCouponStock(ctx, requireAuth(request), request.params.id);
      return { id: request.params.id, object: 'coupon_stock', ...reply };
    },
  );
}
