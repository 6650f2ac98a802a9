// One wire call, from raw bytes to WeChat's answer: parse → merchant → certificate → signature →
// fields → faults → handler → reply (signed where WeChat signs). Trusts nothing the client sent.
// Under /sandboxnew the same call is signed, and answered, with the sandbox key (MD5 only).
import type { IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { buildXml, parseXml, type SignType, sign, signTypeOf, verifySign } from '@wxpay/sdk';
import type { Answer, CallContext, EndpointDef, ReplyFields, Services } from './endpoints/types.js';
import { ENDPOINT_FAULTS, type Faults } from './faults.js';
import type { Merchant } from './merchants.js';
import {
  SANDBOXNEW_SIGN_ERROR,
  SANDBOXNEW_SIGN_TYPE_ERROR,
  signingKey,
  type WireRoute,
} from './sandboxnew.js';
import { checkFields, describeProblem } from './validate.js';

/** What the TLS layer says about the caller's client certificate; read only for cert endpoints. */
export type Peer = () => { authorized: boolean; commonName: string | undefined };

export type WireResponse =
  | { kind: 'send'; status: number; contentType: string; body: string | Buffer }
  /** Hold the connection without answering, then cut it. */
  | { kind: 'hang'; holdMs: number };

const XML_TYPE = 'text/xml; charset=utf-8';
/** How long a hung call (timeout fault, MICROPAY_TIMEOUT) holds the connection by default, real ms. */
export const DEFAULT_HOLD_MS = 5000;

function xml(fields: ReplyFields, nested = ''): WireResponse {
  const body = buildXml(fields);
  return {
    kind: 'send',
    status: 200,
    contentType: XML_TYPE,
    body: nested ? body.replace(/<\/xml>$/, `${nested}</xml>`) : body,
  };
}

function fail(msg: string): WireResponse {
  return xml({ return_code: 'FAIL', return_msg: msg });
}

interface Caller {
  def: EndpointDef;
  merchant: Merchant;
  /** The key the request was signed with; a signed reply is signed with it too. */
  key: string;
  signType: SignType;
  nonce: string;
}

/** Renders an answer in WeChat's layers; a signed endpoint signs every return_code SUCCESS reply. */
function render(answer: Answer, caller: Caller): WireResponse {
  const { def, merchant, key, signType } = caller;
  if (answer.kind === 'fail') return fail(answer.msg);
  if (answer.kind === 'hang') return { kind: 'hang', holdMs: DEFAULT_HOLD_MS };
  if (answer.kind === 'csv') {
    if (answer.gzip) {
      return {
        kind: 'send',
        status: 200,
        contentType: 'application/x-gzip',
        body: gzipSync(Buffer.from(answer.text, 'utf8')),
      };
    }
    return { kind: 'send', status: 200, contentType: 'text/plain; charset=utf-8', body: answer.text };
  }
  const fields: ReplyFields = { return_code: 'SUCCESS', return_msg: 'OK' };
  if (def.appidField) fields[def.appidField] = merchant.appid;
  fields[def.mchIdField] = merchant.mchId;
  fields.nonce_str = caller.nonce;
  if (answer.kind === 'refused') {
    Object.assign(
      fields,
      { result_code: 'FAIL', err_code: answer.error.code, err_code_des: answer.error.des },
      answer.fields,
    );
  } else {
    Object.assign(fields, { result_code: 'SUCCESS' }, answer.fields);
  }
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') clean[k] = String(v);
  if (def.reply === 'signed') clean.sign = sign(clean, key, signType);
  return xml(clean, answer.kind === 'ok' ? answer.nestedXml : undefined);
}

export function dispatch(
  route: WireRoute,
  raw: unknown,
  readPeer: Peer,
  headers: IncomingHttpHeaders,
  services: Services,
  faults: Faults,
): WireResponse {
  const { def, realm } = route;
  let fields: Record<string, string>;
  try {
    if (!Buffer.isBuffer(raw) || raw.length === 0) throw new Error('empty body');
    fields = parseXml(raw);
  } catch {
    return fail('XML格式错误');
  }
  const mchId = fields[def.mchIdField];
  if (!mchId) return fail(`缺少参数${def.mchIdField}`);
  const merchant = services.merchantById(mchId);
  if (!merchant) return fail(`${def.mchIdField}参数错误，商户号不存在`);
  if (def.appidField) {
    const appid = fields[def.appidField];
    if (!appid) return fail(`缺少参数${def.appidField}`);
    if (appid !== merchant.appid) return fail(`商户号${def.mchIdField}与${def.appidField}不匹配`);
  }
  const nonce = services.ledger.nonce();
  // Payout endpoints are MD5 only and carry no sign_type; the others say which type they used.
  const claimed = def.signTypes === 'MD5' ? 'MD5' : fields.sign_type || 'MD5';
  const signType: SignType = claimed === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'MD5';
  const key = signingKey(merchant, realm);
  const caller: Caller = { def, merchant, key, signType, nonce };

  if (def.cert) {
    // The certificate must come from the sandbox CA and name this merchant (CN = mch_id).
    const peer = readPeer();
    const problem =
      !peer.authorized || !peer.commonName
        ? '请求未携带证书'
        : peer.commonName !== mchId
          ? '证书与商户号不匹配'
          : undefined;
    if (problem) {
      return def.problems === 'result'
        ? render({ kind: 'refused', error: { code: 'CA_ERROR', des: problem } }, caller)
        : fail(problem);
    }
  }

  if (claimed !== 'MD5' && claimed !== 'HMAC-SHA256') return fail('sign_type参数错误');
  const sandboxnew = realm === 'sandboxnew';
  // sandboxnew takes MD5 only, whatever the endpoint takes in production.
  const allowed = sandboxnew ? 'MD5' : def.signTypes;
  if (allowed !== 'any' && allowed !== claimed)
    return fail(sandboxnew ? SANDBOXNEW_SIGN_TYPE_ERROR : `签名类型错误，仅支持${allowed}`);
  const signature = fields.sign;
  if (!signature) return fail('缺少参数sign');
  if (signTypeOf(signature) !== claimed || !verifySign(fields, key))
    return fail(sandboxnew ? SANDBOXNEW_SIGN_ERROR : '签名错误');

  const problem = checkFields(fields, def.rules);
  if (problem) {
    const des = describeProblem(problem);
    return def.problems === 'return'
      ? fail(des)
      : render({ kind: 'refused', error: { code: 'PARAM_ERROR', des } }, caller);
  }

  const ctx: CallContext = {
    ...services,
    merchant,
    fields,
    signType,
    keyRealm: realm,
    headers,
    now: services.clock.now(),
  };
  if (services.rateLimiter && !services.rateLimiter.allow(merchant.mchId, def.name, ctx.now)) {
    return render(
      { kind: 'refused', error: { code: 'FREQUENCY_LIMITED', des: '请求过于频繁，请降低频率后重试' } },
      caller,
    );
  }
  // A rule naming the /sandboxnew path hits sandbox mode only; the name or the plain path hits both.
  const fault = faults.take([def.name, def.path, route.path], ENDPOINT_FAULTS);
  const systemError: Answer =
    def.reply === 'csv'
      ? { kind: 'fail', msg: 'SYSTEMERROR' }
      : { kind: 'refused', error: { code: 'SYSTEMERROR', des: '系统超时，请稍后再试' } };
  switch (fault?.kind) {
    case 'systemerror':
      return render(systemError, caller);
    case 'http_500':
      return {
        kind: 'send',
        status: 500,
        contentType: 'text/html; charset=utf-8',
        body: '<html><body>500 Internal Server Error</body></html>',
      };
    case 'systemerror_after_commit':
      def.handle(ctx);
      return render(systemError, caller);
    case 'timeout':
      def.handle(ctx);
      return { kind: 'hang', holdMs: fault.holdMs ?? DEFAULT_HOLD_MS };
  }
  return render(def.handle(ctx), caller);
}
