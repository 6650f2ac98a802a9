// What WeChat's client checks before it pays: the parameters a merchant's page hands to getBrandWCPayRequest
// (JSAPI) or its app hands to the SDK's PayReq (APP). Every refusal's code and wording lives here.
import { type SignType, signingString, signTypeOf, verifySign } from '@wxpay/sdk';
import type { Services } from './endpoints/types.js';
import type { Order, PayOutcome, TradeType } from './ledger/orders.js';
import { orderOfPrepayId } from './prepays.js';
import { ok, type Result, refuse } from './result.js';
import { type KeyRealm, signingKey } from './sandboxnew.js';

/** The clients whose parameters the payer can pay with: the body's `jsapi` or `app` member. */
export type ClientKind = 'jsapi' | 'app';

type Params = Record<string, string>;

interface ClientSpec {
  /** The client call, as messages name it. */
  call: string;
  /** The only trade type the client pays. */
  tradeType: TradeType;
  /** The signed fields, in WeChat's spelling; with `signatureField` they are all the call needs. */
  signedFields: readonly string[];
  signatureField: string;
  appidField: string;
  timestampField: string;
  /** The other client's spelling of a field: the usual slip between JSAPI's camelCase and APP's lower case. */
  otherSpelling: Readonly<Record<string, string>>;
  /** The prepay_id the parameters name, or a refusal when they name it wrongly. */
  prepayId(params: Params): Result<string>;
  /** What else ties the parameters to the order, and the sign type their signature must use. */
  signTypeFor(params: Params, order: Order): Result<SignType>;
}

const SIGN_TYPES: readonly string[] = ['MD5', 'HMAC-SHA256'] satisfies SignType[];

const CLIENTS: Readonly<Record<ClientKind, ClientSpec>> = {
  jsapi: {
    call: 'getBrandWCPayRequest',
    tradeType: 'JSAPI',
    signedFields: ['appId', 'timeStamp', 'nonceStr', 'package', 'signType'],
    signatureField: 'paySign',
    appidField: 'appId',
    timestampField: 'timeStamp',
    otherSpelling: { appId: 'appid', timeStamp: 'timestamp', nonceStr: 'noncestr', paySign: 'sign' },
    prepayId(params) {
      const id = /^prepay_id=([^&\s]+)$/.exec(params.package ?? '')?.[1];
      return id ? ok(id) : REFUSE.jsapiPackage(params.package ?? '');
    },
    // WeChat: the signType given to the client must be the one unifiedorder was signed with.
    signTypeFor(params, order) {
      const declared = params.signType ?? '';
      if (!SIGN_TYPES.includes(declared)) return REFUSE.signTypeInvalid(declared);
      return declared === order.signType ? ok(order.signType) : REFUSE.signTypeMismatch(declared, order);
    },
  },
  app: {
    call: 'PayReq (APP)',
    tradeType: 'APP',
    signedFields: ['appid', 'partnerid', 'prepayid', 'package', 'noncestr', 'timestamp'],
    signatureField: 'sign',
    appidField: 'appid',
    timestampField: 'timestamp',
    otherSpelling: {
      appid: 'appId',
      timestamp: 'timeStamp',
      noncestr: 'nonceStr',
      sign: 'paySign',
      prepayid: 'prepay_id',
      partnerid: 'mch_id',
    },
    prepayId(params) {
      return params.package === 'Sign=WXPay'
        ? ok(params.prepayid ?? '')
        : REFUSE.appPackage(params.package ?? '');
    },
    // PayReq carries no signType: its sign is made the way unifiedorder was signed.
    signTypeFor(params, order) {
      return params.partnerid === order.mchId
        ? ok(order.signType)
        : REFUSE.partnerid(params.partnerid ?? '', order);
    },
  },
};

/**
 * Checks the client's parameters as WeChat's client does and finds the order they pay. Nothing changes
 * here: a refusal leaves the order as it was.
 */
export function checkClientParams(services: Services, kind: ClientKind, raw: unknown): Result<Order> {
  const spec = CLIENTS[kind];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return REFUSE.notAnObject(spec, kind);
  const given = raw as Record<string, unknown>;
  const params: Params = {};
  for (const name of [...spec.signedFields, spec.signatureField]) {
    const value = given[name];
    if (value === undefined || value === null || value === '') return REFUSE.missing(spec, name, given);
    if (typeof value !== 'string') return REFUSE.notString(name, value);
    params[name] = value;
  }
  const timestamp = params[spec.timestampField] ?? '';
  if (!/^\d{10}$/.test(timestamp)) return REFUSE.timestamp(spec.timestampField, timestamp);
  const prepayId = spec.prepayId(params);
  if (!prepayId.ok) return prepayId;
  const found = orderOfPrepayId(services, prepayId.value);
  if (!found.ok && found.error.code === 'ORDERNOTEXIST') return REFUSE.unknownPrepayId(prepayId.value);
  if (!found.ok) return found;
  const order = found.value;
  if (order.tradeType !== spec.tradeType) return REFUSE.tradeType(spec, prepayId.value, order);
  const appid = params[spec.appidField] ?? '';
  if (appid !== order.appid) return REFUSE.appid(spec.appidField, appid, order);
  const signType = spec.signTypeFor(params, order);
  if (!signType.ok) return signType;
  const merchant = services.merchantById(order.mchId);
  if (!merchant) return REFUSE.unknownPrepayId(prepayId.value);
  const signed: Params = Object.fromEntries(spec.signedFields.map((name) => [name, params[name] ?? '']));
  const signature = params[spec.signatureField] ?? '';
  const verified =
    signTypeOf(signature) === signType.value &&
    verifySign({ ...signed, sign: signature }, signingKey(merchant, order.keyRealm));
  return verified ? ok(order) : REFUSE.signature(spec, signed, signature, signType.value, order.keyRealm);
}

/** The body member that holds a client's parameters, if the payer call is made with them. */
export function clientKindOf(target: { jsapi?: unknown; app?: unknown }): ClientKind | undefined {
  if (target.jsapi !== undefined) return 'jsapi';
  if (target.app !== undefined) return 'app';
  return undefined;
}

/**
 * How each client tells the merchant's code the outcome, added to the control API's answer:
 * getBrandWCPayRequest's callback `{ err_msg, err_desc }`, PayReq's `PayResp { errCode, errStr }`.
 */
export function clientOutcome(
  kind: ClientKind,
  result: Result<{ trade_state: string }>,
  outcome: PayOutcome = 'SUCCESS',
): Record<string, string | number> {
  // The parameters were good and the payer closed the payment sheet.
  if (result.ok && outcome === 'CANCEL')
    return kind === 'jsapi' ? { err_msg: 'get_brand_wcpay_request:cancel' } : { errCode: -2 };
  const failure = !result.ok
    ? result.error.des
    : result.value.trade_state === 'SUCCESS'
      ? undefined
      : `the payer's payment ended ${result.value.trade_state}`;
  if (kind === 'jsapi') {
    return failure === undefined
      ? { err_msg: 'get_brand_wcpay_request:ok' }
      : { err_msg: 'get_brand_wcpay_request:fail', err_desc: failure };
  }
  return failure === undefined ? { errCode: 0 } : { errCode: -1, errStr: failure };
}

/** The control API's HTTP status for each refusal: an unknown prepay_id is 404, the rest are bad input. */
export const CLIENT_CHECK_STATUS = {
  CLIENT_PARAMS_INVALID: 400,
  CLIENT_PARAM_MISSING: 400,
  CLIENT_PARAM_NOT_STRING: 400,
  TIMESTAMP_INVALID: 400,
  PACKAGE_INVALID: 400,
  PREPAY_ID_UNKNOWN: 404,
  TRADE_TYPE_MISMATCH: 400,
  APPID_MISMATCH: 400,
  PARTNERID_MISMATCH: 400,
  SIGN_TYPE_INVALID: 400,
  SIGN_TYPE_MISMATCH: 400,
  SIGN_INVALID: 400,
} as const satisfies Record<string, number>;

type ClientCheckCode = keyof typeof CLIENT_CHECK_STATUS;
const fail = (code: ClientCheckCode, des: string): Result<never> => refuse(code, des);

const KEY_PLACEHOLDER: Record<KeyRealm, string> = {
  production: '<merchant key>',
  sandboxnew: '<sandbox_signkey>',
};
const KEY_HINT: Record<KeyRealm, string> = {
  production: "the merchant's APIv2 key (32 characters: not the AppSecret, not the APIv3 key)",
  sandboxnew: 'the sandbox_signkey getsignkey answered (the order was placed under /sandboxnew)',
};

function describeSignature(signature: string): string {
  const type = signTypeOf(signature);
  return type
    ? `${signature.length} hex characters, an ${type} signature`
    : `${signature.length} characters, neither MD5 (32 hex) nor HMAC-SHA256 (64 hex)`;
}

/** Every refusal of a client's parameters: one code each, and a message that says what to fix. */
const REFUSE = {
  notAnObject: (spec: ClientSpec, kind: ClientKind) =>
    fail(
      'CLIENT_PARAMS_INVALID',
      `${kind} must be an object: the parameters the merchant passes to ${spec.call}`,
    ),
  missing(spec: ClientSpec, name: string, given: Record<string, unknown>) {
    const other = spec.otherSpelling[name];
    const slip =
      other !== undefined && given[other] !== undefined
        ? ` The parameters carry ${other} instead: ${spec.call} spells it ${name}, exactly.`
        : '';
    const needs = [...spec.signedFields, spec.signatureField].join(', ');
    return fail(
      'CLIENT_PARAM_MISSING',
      `${spec.call} needs ${name} (a non-empty string); it needs ${needs}.${slip}`,
    );
  },
  notString: (name: string, value: unknown) =>
    fail(
      'CLIENT_PARAM_NOT_STRING',
      `${name} must be a string, not the ${typeof value} ${JSON.stringify(value)}: WeChat's client takes every ` +
        `value as a string (e.g. timeStamp: String(Math.floor(Date.now() / 1000))).`,
    ),
  timestamp: (name: string, value: string) =>
    fail(
      'TIMESTAMP_INVALID',
      `${name} must be Unix time in seconds, a 10-digit string; got "${value}"` +
        (/^\d{13}$/.test(value) ? ' — milliseconds: use String(Math.floor(Date.now() / 1000)).' : '.'),
    ),
  jsapiPackage: (value: string) =>
    fail(
      'PACKAGE_INVALID',
      `package must be "prepay_id=<the prepay_id unifiedorder answered>"; got "${value}".`,
    ),
  appPackage: (value: string) =>
    fail('PACKAGE_INVALID', `package must be the fixed string "Sign=WXPay"; got "${value}".`),
  unknownPrepayId: (prepayId: string) =>
    fail(
      'PREPAY_ID_UNKNOWN',
      `prepay_id ${prepayId} was not issued by this sandbox: pass the prepay_id its unifiedorder answered ` +
        '(one from another environment, or a typo, fails the same way at WeChat).',
    ),
  tradeType: (spec: ClientSpec, prepayId: string, order: Order) =>
    fail(
      'TRADE_TYPE_MISMATCH',
      `prepay_id ${prepayId} belongs to a trade_type=${order.tradeType} order; ${spec.call} pays only ` +
        `trade_type=${spec.tradeType} orders: place the order with trade_type=${spec.tradeType}.`,
    ),
  appid: (name: string, value: string, order: Order) =>
    fail(
      'APPID_MISMATCH',
      `${name} ${value} is not the appid the order was placed with (${order.appid}): pass the same appid ` +
        'unifiedorder was given.',
    ),
  partnerid: (value: string, order: Order) =>
    fail(
      'PARTNERID_MISMATCH',
      `partnerid ${value} is not the mch_id the order was placed with (${order.mchId}): partnerid is the mch_id.`,
    ),
  signTypeInvalid: (value: string) =>
    fail('SIGN_TYPE_INVALID', `signType must be "MD5" or "HMAC-SHA256"; got "${value}".`),
  signTypeMismatch: (value: string, order: Order) =>
    fail(
      'SIGN_TYPE_MISMATCH',
      `signType ${value} is not the sign_type the order was placed with (${order.signType}): WeChat wants the ` +
        `unifiedorder's sign type here too; pass signType "${order.signType}" and sign paySign with ${order.signType}.`,
    ),
  signature: (spec: ClientSpec, signed: Params, signature: string, signType: SignType, realm: KeyRealm) =>
    fail(
      'SIGN_INVALID',
      `${spec.signatureField} does not verify (支付验证签名失败). Expected the upper-case hex ${signType} of ` +
        `"${signingString(signed)}&key=${KEY_PLACEHOLDER[realm]}"; got "${signature}" ` +
        `(${describeSignature(signature)}). Sign exactly these fields (${[...spec.signedFields].sort().join(', ')}: ` +
        `sorted by name, raw values, named as WeChat spells them) with ${KEY_HINT[realm]} and the same sign ` +
        `type unifiedorder used, ${signType}.`,
    ),
};
