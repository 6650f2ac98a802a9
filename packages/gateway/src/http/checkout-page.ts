// The hosted checkout page at /checkout/:id, its H5 button's redirect, its status (JSON and Server-Sent Events) and
// the JSAPI result report.
import { createHash, randomBytes } from 'node:crypto';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { IntentRow } from '../db/schema.js';
import {
  type CheckoutFlow,
  loadPublicSession,
  type PageStatus,
  pageStateOf,
  pageStatus,
  payableH5Intent,
  preparePayment,
  type SessionRow,
  successUrlOf,
} from '../domain/checkout-sessions.js';
import type { ServiceContext } from '../domain/context.js';
import { ApiError, notFound } from '../domain/errors.js';
import { mwebUrlOf, recordClientResult } from '../domain/payment-intents.js';
import { type CheckoutPageModel, renderCheckoutPage, renderNotFoundPage } from '../web/checkout-page.js';
import { type Lang, pickLang, TEXTS } from '../web/i18n.js';

const Params = Type.Object({ id: Type.String({ pattern: '^cs_(test|live)_[0-9A-Za-z]{1,60}$' }) });
const LangQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 8 })) });

export interface CheckoutPageOptions {
  /** How often an SSE stream re-reads the status from the database. */
  streamIntervalMs?: number;
  /** How long one SSE stream lasts before the browser reconnects. */
  streamMaxMs?: number;
}

/** Which flow the payer's browser gets: JSAPI inside WeChat, H5 on a phone, a QR code elsewhere. */
export function flowOf(userAgent: string | undefined): CheckoutFlow {
  const ua = userAgent ?? '';
  if (/MicroMessenger/i.test(ua)) return 'OFFICIAL_ACCOUNT';
  if (/Mobi|Android|iPhone|iPad|iPod|HarmonyOS/i.test(ua)) return 'WAP';
  return 'WEB';
}

/** In test mode the sandbox accepts any openid: one stable per session stands in for WeChat's OAuth step. */
export function testOpenid(sessionId: string): string {
  return `oSBX${createHash('sha256').update(sessionId).digest('base64url').slice(0, 24)}`;
}

/**
 * `sandboxOrigin`: a test-mode page also lets the sandbox's bridge (GET /sandbox/v1/bridge.js, loaded into a
 * desktop browser in place of WeChat's native one) post the page's payment parameters to the sandbox.
 *
 * The Referrer-Policy is `strict-origin`, not `no-referrer`: WeChat's H5 page refuses an mweb_url opened with no
 * Referer (商家参数格式有误) or from a host that is not the merchant's registered H5 payment domain, so the H5
 * button must send the gateway's origin. Only the origin: the path holds the session id, and nothing on an
 * https→http downgrade. The page's <meta name="referrer"> says the same.
 */
function securityHeaders(reply: FastifyReply, nonce: string, sandboxOrigin?: string): FastifyReply {
  const connect = sandboxOrigin ? `'self' ${sandboxOrigin}` : `'self'`;
  return reply
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src ${connect}; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    )
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'strict-origin')
    .header('cache-control', 'no-store');
}

function langOf(request: FastifyRequest): Lang {
  const query = request.query as { lang?: string } | undefined;
  return pickLang(query?.lang, request.headers['accept-language']);
}

async function paymentFor(
  ctx: ServiceContext,
  session: SessionRow,
  intent: IntentRow,
  note: string | undefined,
): Promise<CheckoutPageModel['payment']> {
  const next = intent.next_action
    ? (JSON.parse(intent.next_action) as Record<string, Record<string, unknown>>)
    : {};
  const qr = next.wechat_pay_display_qr_code?.image_data_url;
  if (typeof qr === 'string') {
    return {
      flow: 'WEB',
      codeUrl: qr,
      qrSvg: await QRCode.toString(qr, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }),
      sandboxPayerUrl:
        session.livemode === 0 && ctx.config.testWechat
          ? `${ctx.config.testWechat.baseUrl.replace(/\/+$/, '')}/sandbox/pay?code_url=${encodeURIComponent(qr)}`
          : undefined,
      note,
    };
  }
  if (mwebUrlOf(intent)) return { flow: 'WAP' };
  const jsapi = next.wechat_pay_official_account_params;
  if (jsapi) return { flow: 'OFFICIAL_ACCOUNT', jsapi: jsapi as Record<string, string> };
  return undefined;
}

/** Keeps the route off the OpenAPI document (the spread keeps TypeBox's typing of the rest). */
const HIDDEN = { hide: true } as object;

export async function checkoutPageRoutes(
  app: FastifyInstance,
  ctx: ServiceContext,
  options: CheckoutPageOptions = {},
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const streamIntervalMs = options.streamIntervalMs ?? 1000;
  const streamMaxMs = options.streamMaxMs ?? 5 * 60_000;
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  r.get(
    '/checkout/:id',
    {
      schema: {
        ...HIDDEN,
        params: Params,
        querystring: LangQuery,
      },
    },
    async (request, reply) => {
      const lang = langOf(request);
      const nonce = randomBytes(16).toString('base64');
      const session = await loadPublicSession(ctx, request.params.id);
      const sandbox = session?.livemode === 0 ? ctx.config.testWechat?.baseUrl : undefined;
      securityHeaders(reply, nonce, sandbox && new URL(sandbox).origin).type('text/html; charset=utf-8');
      if (!session) return reply.code(404).send(renderNotFoundPage(lang));
      let intent: IntentRow | undefined;
      let state: CheckoutPageModel['state'] = pageStateOf(session, undefined);
      let payment: CheckoutPageModel['payment'];
      if (session.status === 'open') {
        let flow = flowOf(request.headers['user-agent']);
        let openid: string | undefined;
        let note: string | undefined;
        if (flow === 'OFFICIAL_ACCOUNT') {
          // Live mode needs the OAuth step (not configured here): WeChat's browser can still long-press a QR code.
          if (session.livemode === 0) openid = testOpenid(session.id);
          else {
            flow = 'WEB';
            note = TEXTS[lang].liveNoOauth;
          }
        }
        try {
          intent = await preparePayment(ctx, session, { flow, clientIp: request.ip, openid });
          state = pageStateOf(session, intent);
          payment = await paymentFor(ctx, session, intent, note);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          request.log.warn({ session: session.id, code: error.code }, 'checkout could not place the order');
          state = 'unavailable';
          reply.code(502);
        }
      }
      const lineItems = JSON.parse(session.line_items) as CheckoutPageModel['session']['lineItems'];
      return reply.send(
        renderCheckoutPage({
          lang,
          nonce,
          now: ctx.now(),
          state,
          payment,
          session: {
            id: session.id,
            amount: session.amount,
            currency: session.currency,
            description: session.description,
            lineItems,
            cancelUrl: session.cancel_url,
            successUrl: successUrlOf(session),
            expiresAt: session.expires_at,
            livemode: session.livemode === 1,
          },
        }),
      );
    },
  );

  // The H5 button: WeChat honours an mweb_url for 5 minutes, so it is fetched (and renewed if outlived) when the
  // payer taps, not when the page was loaded. Safe to repeat: a renewal places the same out_trade_no again, which
  // WeChat answers idempotently. Anything the payer cannot pay now goes back to the page, which says why. The
  // strict-origin policy on the 302 is the one the redirected request to WeChat's H5 page is sent with.
  r.get(
    '/checkout/:id/h5',
    { schema: { ...HIDDEN, params: Params, querystring: LangQuery } },
    async (request, reply) => {
      const lang = langOf(request);
      securityHeaders(reply, randomBytes(16).toString('base64'));
      const session = await loadPublicSession(ctx, request.params.id);
      if (!session) return reply.code(404).type('text/html; charset=utf-8').send(renderNotFoundPage(lang));
      let intent: IntentRow | undefined;
      try {
        intent = await payableH5Intent(ctx, session);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        request.log.warn(
          { session: session.id, code: error.code },
          'checkout could not renew the H5 redirect',
        );
      }
      const live = intent && mwebUrlOf(intent);
      return reply.redirect(live ?? `/checkout/${encodeURIComponent(session.id)}?lang=${lang}`, 302);
    },
  );

  r.get('/checkout/:id/status', { schema: { ...HIDDEN, params: Params } }, async (request, reply) => {
    const status = await pageStatus(ctx, request.params.id);
    if (!status) throw notFound('checkout.session', request.params.id);
    return reply.header('cache-control', 'no-store').send(status);
  });

  r.get('/checkout/:id/events', { schema: { ...HIDDEN, params: Params } }, async (request, reply) => {
    const id = request.params.id;
    const first = await pageStatus(ctx, id);
    if (!first) throw notFound('checkout.session', id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let open = true;
    let wake: (() => void) | undefined;
    const end = () => {
      open = false;
      wake?.();
    };
    streams.add(end);
    request.raw.on('close', end);
    let last = '';
    const send = (status: PageStatus) => {
      const json = JSON.stringify(status);
      if (json !== last) {
        last = json;
        res.write(`data: ${json}\n\n`);
      }
      return status.state === 'succeeded' || status.state === 'expired';
    };
    res.write('retry: 2000\n\n');
    let finished = send(first);
    const deadline = Date.now() + streamMaxMs;
    let beat = Date.now();
    while (open && !finished && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, streamIntervalMs).unref();
      });
      if (!open) break;
      try {
        const status = await pageStatus(ctx, id);
        if (!status) break;
        finished = send(status);
      } catch (error) {
        request.log.warn({ session: id, err: (error as Error).message }, 'checkout stream read failed');
        break;
      }
      if (Date.now() - beat > 15_000) {
        res.write(': keep-alive\n\n');
        beat = Date.now();
      }
    }
    streams.delete(end);
    res.end();
  });

  r.post(
    '/checkout/:id/client_result',
    {
      schema: {
        ...HIDDEN,
        params: Params,
        body: Type.Object(
          {
            err_msg: Type.String({
              pattern: '^get_brand_wcpay_request:(ok|cancel|fail)',
              maxLength: 200,
            }),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const session = await loadPublicSession(ctx, request.params.id);
      if (!session) throw notFound('checkout.session', request.params.id);
      if (session.status === 'open' && session.payment_intent) {
        // ok only moves the intent to processing (and asks WeChat at once); it never completes the session.
        await recordClientResult(
          ctx,
          { accountId: session.account_id, livemode: session.livemode === 1 },
          session.payment_intent,
          request.body.err_msg,
        ).catch((error: unknown) => {
          if (!(error instanceof ApiError)) throw error;
        });
      }
      return pageStatus(ctx, request.params.id);
    },
  );
}
