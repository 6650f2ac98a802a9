// The BaaS-style red-packet API (知晓云 RedPack): sendRedPack, getSentRedPackList, getSentRedPack and
// getRedPackStatus, for one configured account, every answer wrapped as { status, data }.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BusinessError, WechatPayError, yuanToFen } from '@wxpay/sdk';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PayoutRow } from '../db/schema-payouts.js';
import { type AuthContext, loadAccount, type ServiceContext } from '../domain/context.js';
import { ApiError } from '../domain/errors.js';
import { requireCertificate } from '../domain/payout-sending.js';
import { baasRedpackObject } from '../domain/payout-view.js';
import { createRedpack, findRedpackByBillno, pageRedpacks, retrievePayout } from '../domain/payouts.js';
import { requireAuth } from './auth.js';
import { parseJsonKeepingDecimal } from './compat.js';
import { toApiError } from './errors.js';
import { answeredAs, RedpackBody, serverIp } from './payouts.js';

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

const SendBody = Type.Object(
  {
    type: RedpackBody.properties.type,
    re_openid: Text(32),
    send_name: Text(32),
    official_account_id: Text(32),
    total_amount: Type.Union([Type.Number(), Type.String({ maxLength: 20 })], {
      description: 'Yuan, e.g. 1.1',
    }),
    total_num: Type.Integer(),
    act_name: Text(32),
    remark: Text(256),
    wishing: Text(128),
    scene_id: RedpackBody.properties.scene_id,
    risk_info: Type.Optional(Text(128)),
    /** The BaaS platform's merchant type; this gateway serves WeChat Pay only, so it is accepted and ignored. */
    gateway_type: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** The largest offset getSentRedPackList takes. */
const MAX_OFFSET = 2_147_483_647;

const wrap = (status: number, data: unknown) => ({ status, data });

/** Yuan from its decimal text (1.1 → 110 fen), never through float arithmetic; more than 2 decimals is refused. */
export function baasYuanToFen(value: number | string): number {
  let fen: number;
  try {
    fen = yuanToFen(String(value));
  } catch {
    fen = Number.NaN;
  }
  if (!Number.isSafeInteger(fen) || fen <= 0) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'amount_invalid',
      `total_amount must be a positive yuan amount with at most two decimals, got ${JSON.stringify(value)}`,
      'total_amount',
    );
  }
  return fen;
}

/** The configured BaaS account; a key of another account may not use it. */
function baasAuth(ctx: ServiceContext, request: FastifyRequest): AuthContext {
  const auth = requireAuth(request);
  const configured = ctx.config.baasAccount;
  if (configured && configured !== auth.accountId) {
    throw new ApiError(
      403,
      'authentication_error',
      'baas_account_mismatch',
      'This key is not for the configured BaaS account',
    );
  }
  return auth;
}

/** WeChat's err_code / err_code_des from a failed call, as the BaaS platform answers them (status 200). */
function wechatFailure(error: WechatPayError): { err_code: string; err_code_des: string } {
  if (error instanceof BusinessError) return { err_code: error.errCode, err_code_des: error.errCodeDes };
  return { err_code: error.code, err_code_des: error.message };
}

/** sendRedPack's answer for a red packet as it stands: sent, refused by WeChat, or still being resent. */
function sendAnswer(row: PayoutRow) {
  if (row.status === 'failed')
    return wrap(200, { err_code: row.failure_code, err_code_des: row.failure_message });
  if (row.status === 'sending') {
    // The outcome is unknown; the gateway itself resends this mch_billno until it is final.
    return wrap(200, {
      err_code: 'SYSTEMERROR',
      err_code_des: `WeChat's answer is pending; the gateway keeps resending mch_billno ${row.wechat_no} until it is final. Do not send again: check getRedPackStatus.`,
      mch_billno: row.wechat_no,
    });
  }
  const sent = JSON.parse(row.result ?? '{}') as Record<string, string>;
  return wrap(200, {
    return_code: 'SUCCESS',
    mch_billno: row.wechat_no,
    send_listid: sent.send_listid ?? '',
  });
}

export async function baasRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  // total_amount is yuan: it must reach the yuan parser as the digits that were sent, not as a float.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonKeepingDecimal(String(body), 'total_amount'));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    const { type, code, message, param } = apiError.toJSON().error;
    return reply.code(apiError.status).send(wrap(apiError.status, { type, code, message, param }));
  });
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/baas/redpacks',
    {
      schema: { tags: ['baas'], summary: 'sendRedPack', body: SendBody },
      config: { idempotency: answeredAs(ctx, 'redpack', sendAnswer) },
    },
    async (request) => {
      const auth = baasAuth(ctx, request);
      const body = request.body;
      const totalAmount = baasYuanToFen(body.total_amount);
      requireCertificate(await loadAccount(ctx, auth.accountId));
      const row = await createRedpack(
        ctx,
        auth,
        {
          type: body.type,
          re_openid: body.re_openid,
          send_name: body.send_name,
          total_amount: totalAmount,
          total_num: body.total_num,
          wishing: body.wishing,
          act_name: body.act_name,
          remark: body.remark,
          scene_id: body.scene_id,
          risk_info: body.risk_info,
          wxappid: body.official_account_id,
          client_ip: serverIp(request),
        },
        'baas',
      );
      return sendAnswer(row);
    },
  );

  r.get(
    '/baas/redpacks',
    {
      schema: {
        tags: ['baas'],
        summary: 'getSentRedPackList',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 20 })),
            // Past 2^31 − 1 an OFFSET is no page anyone has, and past 2^63 the databases refuse it.
            offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const offset = request.query.offset ?? 0;
      const { rows, total } = await pageRedpacks(ctx, baasAuth(ctx, request), limit, offset);
      const link = (at: number) => `/baas/redpacks?limit=${limit}&offset=${at}`;
      return wrap(200, {
        meta: {
          limit,
          next: offset + limit < total ? link(offset + limit) : null,
          offset,
          previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
          total_count: total,
        },
        objects: rows.map(baasRedpackObject),
      });
    },
  );

  r.get(
    '/baas/redpacks/status',
    {
      schema: {
        tags: ['baas'],
        summary: 'getRedPackStatus (gethbinfo), by mch_billno or id',
        querystring: Type.Object(
          { mch_billno: Type.Optional(Text(32)), id: Type.Optional(Text(64)) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const auth = baasAuth(ctx, request);
      const { mch_billno: billno, id } = request.query;
      if (!billno === !id) {
        throw new ApiError(
          400,
          'invalid_request_error',
          'parameter_missing',
          'Pass mch_billno or id (one of them)',
          'mch_billno',
        );
      }
      const row = id
        ? await retrievePayout(ctx, auth, 'redpack', id)
        : await findRedpackByBillno(ctx, auth, billno!);
      const client = ctx.wechat(await loadAccount(ctx, auth.accountId), auth.livemode);
      try {
        return wrap(200, await client.getRedpackInfo({ mch_billno: row.wechat_no }));
      } catch (error) {
        if (error instanceof WechatPayError) return wrap(200, wechatFailure(error));
        throw error;
      }
    },
  );

  r.get(
    '/baas/redpacks/:id',
    { schema: { tags: ['baas'], summary: 'getSentRedPack', params: Type.Object({ id: Text(64) }) } },
    async (request) =>
      wrap(
        200,
        baasRedpackObject(await retrievePayout(ctx, baasAuth(ctx, request), 'redpack', request.params.id)),
      ),
  );
}
