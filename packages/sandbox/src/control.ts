// The control API under /sandbox/v1 (JSON) and the payer's page under /sandbox/pay.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BRIDGE_OUTCOMES, bridgeScript } from './bridge.js';
import { CLIENT_CHECK_STATUS, clientKindOf, clientOutcome } from './client-params.js';
import type { PayOutcome, SandboxCore } from './core.js';
import { parseFault } from './faults.js';
import { PAY_OUTCOMES } from './ledger/orders.js';
import { payPage } from './page.js';
import type { BizError } from './result.js';

type Body = Record<string, unknown>;

const STATUS_OF: Record<string, number> = {
  NOT_FOUND: 404,
  ORDERNOTEXIST: 404,
  PARAM_ERROR: 400,
  OPENID_MISMATCH: 403,
  MWEB_REFERER_MISSING: 403,
  MWEB_DOMAIN_NOT_REGISTERED: 403,
  ...CLIENT_CHECK_STATUS,
};

/** A refusal: `{ error: { code, message } }`, plus any fields that shape it like a client's answer. */
function refuseJson(reply: FastifyReply, error: BizError, extra: Body = {}) {
  return reply
    .code(STATUS_OF[error.code] ?? 409)
    .send({ error: { code: error.code, message: error.des }, ...extra });
}

const asBody = (value: unknown): Body => (typeof value === 'object' && value !== null ? (value as Body) : {});
/** JSON, or JSON sent as text/plain (which reaches the route as raw bytes), as the bridge sends it. */
const jsonBody = (value: unknown): Body => {
  if (!Buffer.isBuffer(value)) return asBody(value);
  try {
    return asBody(JSON.parse(value.toString('utf8')));
  } catch {
    return {};
  }
};
/** The sandbox as the browser reached it, so the bridge posts back to the same host; else its own URL. */
function originOf(request: FastifyRequest, fallback: string): string {
  try {
    return new URL(`https://${request.host}`).origin;
  } catch {
    return fallback;
  }
}

/** What an openid looks like here: WeChat's are 28 characters of [A-Za-z0-9_-]. */
const OPENID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

export function registerControl(app: FastifyInstance, core: SandboxCore): void {
  // A merchant's page on another origin pays through the bridge (bridge.ts): it sends its JSON as text/plain,
  // a CORS simple request that needs no preflight, and reads the answer thanks to the `*` below. The route
  // holds no cookies or credentials, so any origin may call it.
  app.post('/sandbox/v1/pay', async (request, reply) => {
    reply.header('access-control-allow-origin', '*');
    const body = jsonBody(request.body);
    const client = clientKindOf(body);
    const outcome = (text(body.outcome) ?? 'SUCCESS') as PayOutcome;
    if (!PAY_OUTCOMES.includes(outcome)) {
      const error = { code: 'PARAM_ERROR', des: `outcome must be one of ${PAY_OUTCOMES.join(', ')}` };
      return refuseJson(reply, error, client ? clientOutcome(client, { ok: false, error }) : {});
    }
    const paid = core.pay(body, outcome, text(body.openid));
    const extra = client ? clientOutcome(client, paid, outcome) : {};
    return paid.ok ? { order: paid.value, ...extra } : refuseJson(reply, paid.error, extra);
  });

  app.get('/sandbox/v1/bridge.js', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const asked = text(query.outcome) ?? 'SUCCESS';
    const outcome = BRIDGE_OUTCOMES.find((o) => o === asked.toUpperCase());
    const openid = text(query.openid);
    // A script tag does not run an error answer; the message shows in the browser's network panel.
    const refuse = (message: string) => reply.code(400).type('text/plain; charset=utf-8').send(message);
    if (!outcome)
      return refuse(`outcome must be one of ${BRIDGE_OUTCOMES.join(', ')} (got ${JSON.stringify(asked)})`);
    if (openid !== undefined && !OPENID_PATTERN.test(openid))
      return refuse(`openid must be 1 to 128 letters, digits, '-' or '_' (got ${JSON.stringify(openid)})`);
    return reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(bridgeScript(originOf(request, core.url), { outcome, openid }));
  });

  app.post('/sandbox/v1/payment_codes', async (request) =>
    core.paymentCode(text(asBody(request.body).openid)),
  );

  app.post<{ Params: { mch_billno: string } }>(
    '/sandbox/v1/redpacks/:mch_billno/open',
    async (request, reply) => {
      const body = asBody(request.body);
      const opened = core.openRedpack(request.params.mch_billno, {
        openid: text(body.openid),
        mchId: text(body.mch_id),
      });
      if (!opened.ok) return refuseJson(reply, opened.error);
      const { redpack, amount } = opened.value;
      return {
        mch_billno: redpack.mchBillno,
        amount,
        status: redpack.status,
        openid: redpack.shares.find((s) => s.amount === amount)?.openid,
      };
    },
  );

  app.get('/sandbox/v1/clock', async () => ({
    now: new Date(core.clock.now()).toISOString(),
    time_scale: core.clock.timeScale,
  }));

  app.post('/sandbox/v1/clock/advance', async (request, reply) => {
    const seconds = asBody(request.body).seconds;
    if (typeof seconds !== 'number' || !(seconds >= 0) || !Number.isFinite(seconds)) {
      return refuseJson(reply, { code: 'PARAM_ERROR', des: 'seconds must be a number ≥ 0' });
    }
    await core.clock.advance(seconds);
    return { now: new Date(core.clock.now()).toISOString() };
  });

  app.get<{ Querystring: { mch_id?: string } }>('/sandbox/v1/ledger', async (request, reply) => {
    const mchId = request.query.mch_id ?? core.merchants[0]?.mchId;
    if (!mchId || !core.services.merchantById(mchId))
      return refuseJson(reply, { code: 'NOT_FOUND', des: 'no such merchant' });
    return core.ledgerOf(mchId);
  });

  app.get<{ Querystring: { mch_id?: string; ref?: string } }>('/sandbox/v1/notifies', async (request) => ({
    notifies: core.notifies({ mchId: request.query.mch_id, ref: request.query.ref }),
  }));

  app.get('/sandbox/v1/faults', async () => ({ faults: core.faults.list() }));
  app.post('/sandbox/v1/faults', async (request, reply) => {
    const rule = parseFault(request.body);
    if (!rule.ok) return refuseJson(reply, rule.error);
    return reply.code(201).send(core.faults.add(rule.value));
  });
  app.delete('/sandbox/v1/faults', async () => {
    core.faults.clear();
    return { faults: [] };
  });

  app.get('/sandbox/v1/merchants', async () => ({
    merchants: core.merchants.map((m) => ({
      appid: m.appid,
      mch_id: m.mchId,
      coupon_stock_id: m.couponStockId,
      h5_domains: m.h5Domains ?? [],
    })),
  }));
  // A sandbox merchant's credentials are test data; the caller needs them to use the new merchant.
  app.post('/sandbox/v1/merchants', async (_request, reply) => {
    const m = core.addMerchant();
    return reply.code(201).send({
      appid: m.appid,
      mch_id: m.mchId,
      key: m.key,
      coupon_stock_id: m.couponStockId,
      cert_pem: m.certPem,
      key_pem: m.keyPem,
      pfx_base64: m.pfx.toString('base64'),
      passphrase: m.passphrase,
    });
  });
  app.put<{ Params: { mch_id: string } }>('/sandbox/v1/merchants/:mch_id/balance', async (request, reply) => {
    const set = core.setBalance(request.params.mch_id, asBody(request.body).balance as number);
    return set.ok ? { mch_id: request.params.mch_id, balance: set.value } : refuseJson(reply, set.error);
  });
  app.put<{ Params: { mch_id: string } }>(
    '/sandbox/v1/merchants/:mch_id/h5_domains',
    async (request, reply) => {
      const set = core.setH5Domains(request.params.mch_id, asBody(request.body).h5_domains);
      return set.ok ? { mch_id: request.params.mch_id, h5_domains: set.value } : refuseJson(reply, set.error);
    },
  );

  app.get<{ Querystring: Record<string, string> }>('/sandbox/pay', async (request, reply) => {
    const q = request.query;
    const target: Record<string, string> = {};
    if (q.code_url) target.code_url = q.code_url;
    else if (q.mweb_url) target.mweb_url = q.mweb_url;
    // The mweb_url itself, opened by the payer's browser (redirect_url and all): it is checked as an mweb_url.
    else if (q.prepay_id && q.package)
      target.mweb_url = `${core.url}/sandbox/pay?${new URLSearchParams({
        prepay_id: q.prepay_id,
        package: q.package,
        ...(q.redirect_url ? { redirect_url: q.redirect_url } : {}),
      })}`;
    else if (q.prepay_id) target.prepay_id = q.prepay_id;
    // An H5 page, as WeChat's: it looks at who sent the payer here (h5-referer.ts).
    if (target.mweb_url) target.referer = request.headers.referer ?? '';
    const found = Object.keys(target).length
      ? core.orderFor(target)
      : { ok: false as const, error: { code: 'ORDERNOTEXIST', des: 'no such order' } };
    return reply
      .code(found.ok ? 200 : (STATUS_OF[found.error.code] ?? 409))
      .type('text/html; charset=utf-8')
      .send(payPage(found, target));
  });
}
