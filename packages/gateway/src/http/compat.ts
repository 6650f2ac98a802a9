// The Thinkjs-compatible routes /wxPay/toPay, /wxPay/queryOrder and /wxPay/doCloseOrder. Like Thinkjs they read
// JSON, urlencoded and multipart bodies; failures answer {code: 1, msg} (what old clients read) plus the gateway's
// {error: {type, code, message, param}}.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLosslessNumber, parse } from 'lossless-json';
import { doCloseOrder, queryOrder, toPay } from '../domain/compat.js';
import type { ServiceContext } from '../domain/context.js';
import { ApiError } from '../domain/errors.js';
import { toApiError } from './errors.js';

function badBody(message: string): ApiError {
  return new ApiError(400, 'invalid_request_error', 'body_invalid', message);
}

/**
 * JSON, keeping a yuan field as the text it was sent as: `12.30` must reach the yuan parser as "12.30",
 * and `0.015` or `1.10000000000000001` must be refused rather than rounded by a float, however its key is spelled
 * (`"pric\u0065"`). A field given twice with different values is refused: which copy wins must not decide an
 * amount. Other numbers are plain numbers.
 */
export function parseJsonKeepingDecimal(text: string, field: string): unknown {
  try {
    // lossless-json hands every number over as its source text, with keys decoded as JSON.parse decodes them.
    return parse(text, (key, value) => {
      if (!isLosslessNumber(value)) return value;
      return key === field ? value.value : Number(value.value);
    });
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith(`Duplicate key '${field}'`))
      throw new ApiError(
        400,
        'invalid_request_error',
        'parameter_invalid',
        `${field} is given more than once with different values; send it once`,
        field,
      );
    throw badBody(`The body is not valid JSON: ${message}`);
  }
}

/** The Thinkjs routes' JSON: `price` stays text. */
export function parseCompatJson(text: string): unknown {
  return parseJsonKeepingDecimal(text, 'price');
}

async function parseMultipart(request: FastifyRequest, body: Buffer): Promise<Record<string, string>> {
  let form: FormData;
  try {
    form = await new Response(body, {
      headers: { 'content-type': String(request.headers['content-type']) },
    }).formData();
  } catch (error) {
    throw badBody(`The multipart body cannot be read: ${(error as Error).message}`);
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of form.entries()) {
    if (typeof value !== 'string') throw badBody(`${name}: files are not accepted`);
    fields[name] = value;
  }
  return fields;
}

const Id = (description: string) =>
  Type.Union([Type.Integer(), Type.String({ pattern: '^\\s*\\d{1,10}\\s*$' })], { description });

const ToPayBody = Type.Object({
  merchant_id: Id('商家ID (the logged-in user id)'),
  product_id: Id('商品ID'),
  price: Type.Union([Type.Number(), Type.String({ minLength: 1, maxLength: 32 })], {
    description: 'Price in yuan, at most two decimals (e.g. 12.30)',
  }),
});

const OrderBody = Type.Object({
  order_id: Type.String({ minLength: 1, maxLength: 45, description: 'The order_id toPay answered' }),
});

const CodeMsg = Type.Object({ code: Type.Integer(), msg: Type.String() });

export async function compatRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseCompatJson(String(body)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer): Promise<Record<string, string>> => parseMultipart(request, body),
  );
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error }, 'compat request failed');
    return reply.code(apiError.status).send({ code: 1, msg: apiError.message, ...apiError.toJSON() });
  });

  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/wxPay/toPay',
    {
      schema: {
        tags: ['compat'],
        summary: '拉起支付二维码: a NATIVE order (Thinkjs-compatible)',
        body: ToPayBody,
        response: {
          200: Type.Object({
            code_url: Type.Array(Type.String()),
            order_id: Type.String(),
            code: Type.Literal(0),
            msg: Type.String(),
          }),
        },
      },
    },
    (request) =>
      toPay(ctx, {
        merchantId: request.body.merchant_id,
        productId: request.body.product_id,
        price: String(request.body.price),
        requestIp: request.ip,
      }),
  );
  const queryRoute = {
    schema: {
      tags: ['compat'],
      summary: '查询订单: orderquery while the order is open (Thinkjs-compatible)',
      body: OrderBody,
      response: { 200: Type.Object({ trade_state: Type.String(), trade_state_desc: Type.String() }) },
    },
  };
  r.post('/wxPay/queryOrder', queryRoute, (request) => queryOrder(ctx, request.body.order_id));
  // The old README's API list names this path; its detailed section says /wxPay/queryOrder. Both answer.
  r.post(
    '/wxPay/wxPay/queryOrder',
    { schema: { ...queryRoute.schema, hide: true } as typeof queryRoute.schema },
    (request) => queryOrder(ctx, request.body.order_id),
  );
  r.post(
    '/wxPay/doCloseOrder',
    {
      schema: {
        tags: ['compat'],
        summary: '关单: closeorder, refused within 5 minutes of the order (Thinkjs-compatible)',
        body: OrderBody,
        response: { 200: CodeMsg },
      },
    },
    (request) => doCloseOrder(ctx, request.body.order_id),
  );
}
