// The /v1/payment_intents routes: validate at the edge, call one domain function, answer its result.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import {
  cancelIntent,
  confirmIntent,
  createIntent,
  listIntents,
  recordClientResult,
  retrieveIntent,
  TERMINAL_TYPES,
} from '../domain/payment-intents.js';
import { INTENT_STATUSES } from '../domain/state.js';
import { requireAuth } from './auth.js';
import { createdRange, errorResponses, ListQuery, MAX_MINOR_UNITS } from './schemas.js';

const WechatPayOptions = Type.Object(
  {
    terminal_type: Type.Optional(Type.Union(TERMINAL_TYPES.map((t) => Type.Literal(t)))),
    client_ip: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    os_type: Type.Optional(Type.String({ maxLength: 32 })),
    openid: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    app_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

const PaymentMethodData = Type.Object(
  {
    type: Type.Literal('wechat_pay'),
    wechat_pay: Type.Optional(
      Type.Object(
        { payment_code: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const PaymentMethodOptions = Type.Object(
  { wechat_pay: Type.Optional(WechatPayOptions) },
  { additionalProperties: false },
);

const ConfirmBody = Type.Object(
  {
    payment_method_data: Type.Optional(PaymentMethodData),
    payment_method_options: Type.Optional(PaymentMethodOptions),
    return_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    amount: Type.Integer({ maximum: MAX_MINOR_UNITS, description: 'Minor units (fen, cents)' }),
    currency: Type.String({ pattern: '^[A-Za-z]{3}$' }),
    confirm: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), { maxProperties: 50 }),
    ),
    return_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
    payment_method_data: Type.Optional(PaymentMethodData),
    payment_method_options: Type.Optional(PaymentMethodOptions),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ pattern: '^pi_[0-9A-Za-z]{1,60}$' }) });

const PaymentIntent = Type.Object(
  { id: Type.String(), object: Type.Literal('payment_intent') },
  { additionalProperties: true },
);
const ok = { 200: PaymentIntent, ...errorResponses };

export async function paymentIntentRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/v1/payment_intents',
    {
      schema: {
        tags: ['payment_intents'],
        summary: 'Create a PaymentIntent',
        body: CreateBody,
        response: ok,
      },
      config: { idempotency: { creates: 'pi', answer: (auth, id) => retrieveIntent(ctx, auth, id) } },
    },
    (request) => createIntent(ctx, requireAuth(request), { ...request.body, requestIp: request.ip }),
  );

  r.get(
    '/v1/payment_intents',
    {
      schema: {
        tags: ['payment_intents'],
        summary: 'List PaymentIntents, newest first',
        querystring: Type.Object(
          {
            ...ListQuery,
            status: Type.Optional(Type.Union(INTENT_STATUSES.map((s) => Type.Literal(s)))),
            out_trade_no: Type.Optional(
              Type.String({
                pattern: '^[0-9A-Za-z_\\-|*@]{1,32}$',
                description: "The payment's order number, current or one it gave up after a failed payment",
              }),
            ),
            transaction_id: Type.Optional(
              Type.String({ pattern: '^[0-9A-Za-z]{1,64}$', description: "WeChat's transaction_id" }),
            ),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request) => {
      const q = request.query;
      return listIntents(ctx, requireAuth(request), {
        limit: q.limit,
        starting_after: q.starting_after,
        ending_before: q.ending_before,
        status: q.status,
        out_trade_no: q.out_trade_no,
        transaction_id: q.transaction_id,
        created: createdRange(q),
      });
    },
  );

  r.get(
    '/v1/payment_intents/:id',
    {
      schema: {
        tags: ['payment_intents'],
        summary: 'Retrieve a PaymentIntent',
        params: IdParams,
        querystring: Type.Object(
          { 'expand[]': Type.Optional(Type.Array(Type.Literal('wechat_payloads'))) },
          { additionalProperties: false },
        ),
        response: ok,
      },
    },
    (request) =>
      retrieveIntent(ctx, requireAuth(request), request.params.id, request.query['expand[]'] ?? []),
  );

  r.post(
    '/v1/payment_intents/:id/confirm',
    {
      schema: {
        tags: ['payment_intents'],
        summary:
          'Confirm a PaymentIntent; again after a failed payment (a new out_trade_no), or in requires_action to renew its prepay',
        params: IdParams,
        body: Type.Optional(ConfirmBody),
        response: ok,
      },
      config: { idempotency: 'rerun' },
    },
    (request) =>
      confirmIntent(ctx, requireAuth(request), request.params.id, {
        ...(request.body ?? {}),
        requestIp: request.ip,
      }),
  );

  r.post(
    '/v1/payment_intents/:id/cancel',
    {
      schema: {
        tags: ['payment_intents'],
        summary: 'Cancel a PaymentIntent (closeorder; deferred within 5 minutes of the order)',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            {
              cancellation_reason: Type.Optional(
                Type.Union(
                  ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'].map((s) =>
                    Type.Literal(s),
                  ),
                ),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: ok,
      },
      config: { idempotency: 'rerun' },
    },
    (request) =>
      cancelIntent(ctx, requireAuth(request), request.params.id, request.body?.cancellation_reason),
  );

  r.post(
    '/v1/payment_intents/:id/client_result',
    {
      schema: {
        tags: ['payment_intents'],
        summary: "Record what the payer's page reported; ok never marks the intent succeeded",
        params: IdParams,
        body: Type.Object(
          {
            err_msg: Type.String({
              pattern: '^(get_brand_wcpay_request|requestPayment|chooseWXPay):(ok|cancel|fail)',
              maxLength: 200,
            }),
          },
          { additionalProperties: false },
        ),
        response: ok,
      },
      config: { idempotency: 'rerun' },
    },
    (request) => recordClientResult(ctx, requireAuth(request), request.params.id, request.body.err_msg),
  );
}
