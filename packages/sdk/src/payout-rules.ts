// Pure request rules of the payout endpoints: required fields, fen amounts, defaults and generated
// merchant numbers. Each function returns the fields to sign, or throws RequestValidationError.
import { ENDPOINTS } from './endpoints.js';
import { RequestValidationError } from './errors.js';
import { mchBillno, partnerTradeNo } from './merchant-numbers.js';
import type {
  GetRedpackInfoRequest,
  GetTransferInfoRequest,
  QueryBankRequest,
  QueryCouponStockRequest,
  QueryCouponsInfoRequest,
  SendCouponRequest,
  SendGroupRedpackRequest,
  SendRedpackRequest,
  TransferRequest,
} from './payout-types.js';
import type { Fields } from './sign.js';

/** Above this many fen (200 yuan) a red packet needs scene_id. */
export const REDPACK_SCENE_ID_THRESHOLD = 20_000;

const TRADE_NO = /^[0-9A-Za-z]{1,32}$/;
const BILLNO = /^[0-9A-Za-z]{1,28}$/;

type Endpoint = keyof typeof ENDPOINTS;

function fail(endpoint: Endpoint, field: string, message: string): never {
  throw new RequestValidationError(
    field,
    `${endpoint}: ${message}; the request was not sent`,
    ENDPOINTS[endpoint].path,
  );
}

function asFields(params: object | null | undefined, endpoint: Endpoint): Fields {
  if (params === null || typeof params !== 'object')
    fail(endpoint, 'params', 'the parameters must be an object');
  return { ...(params as Fields) };
}

/** Throws unless every named field is present and not empty. */
export function requireFields(params: Fields, names: readonly string[], endpoint: Endpoint): void {
  for (const name of names) {
    const value = params[name];
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      fail(endpoint, name, `${name} is required`);
    }
  }
}

/** Parses a positive whole number of fen; "1.5", 1.5, -1 and "1e3" are refused. */
export function requireFen(params: Fields, field: string, endpoint: Endpoint): number {
  const value = params[field];
  const fen =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(fen) || fen <= 0) {
    fail(endpoint, field, `${field} must be a positive whole number of fen, got ${JSON.stringify(value)}`);
  }
  // Canonical digits on the wire: "0100" is sent as 100.
  params[field] = fen;
  return fen;
}

function merchantNumber(
  params: Fields,
  field: string,
  pattern: RegExp,
  limit: string,
  endpoint: Endpoint,
): void {
  const value = params[field];
  if (value === undefined || value === null || value === '') return;
  if (typeof value !== 'string' || !pattern.test(value)) {
    fail(endpoint, field, `${field} must be ${limit}, got ${JSON.stringify(value)}`);
  }
}

export function transferFields(request: TransferRequest): Fields {
  const params = asFields(request, 'transfer');
  requireFields(params, ['openid', 'amount', 'desc'], 'transfer');
  requireFen(params, 'amount', 'transfer');
  params.check_name ??= 'NO_CHECK';
  if (params.check_name !== 'NO_CHECK' && params.check_name !== 'FORCE_CHECK') {
    fail(
      'transfer',
      'check_name',
      `check_name must be NO_CHECK or FORCE_CHECK, got ${JSON.stringify(params.check_name)}`,
    );
  }
  if (params.check_name === 'FORCE_CHECK') requireFields(params, ['re_user_name'], 'transfer');
  merchantNumber(params, 'partner_trade_no', TRADE_NO, 'letters and digits, at most 32', 'transfer');
  params.partner_trade_no ||= partnerTradeNo();
  return params;
}

export function getTransferInfoFields(request: GetTransferInfoRequest): Fields {
  const params = asFields(request, 'getTransferInfo');
  requireFields(params, ['partner_trade_no'], 'getTransferInfo');
  return params;
}

/** sendredpack and sendgroupredpack: the same rules but total_num, client_ip and amt_type. */
export function redpackFields(
  request: SendRedpackRequest | SendGroupRedpackRequest,
  kind: 'normal' | 'group',
  mchId: string,
): Fields {
  const endpoint = kind === 'normal' ? 'sendRedpack' : 'sendGroupRedpack';
  const params = asFields(request, endpoint);
  if (kind === 'normal') params.total_num ??= 1;
  const required = ['send_name', 're_openid', 'total_amount', 'total_num', 'wishing', 'act_name', 'remark'];
  requireFields(params, kind === 'normal' ? [...required, 'client_ip'] : required, endpoint);
  const amount = requireFen(params, 'total_amount', endpoint);
  const count = requireFen(params, 'total_num', endpoint);
  if (kind === 'normal' && count !== 1) {
    fail(endpoint, 'total_num', `a normal red packet goes to one person: total_num must be 1, got ${count}`);
  }
  if (kind === 'group') {
    params.amt_type ??= 'ALL_RAND';
    if (params.amt_type !== 'ALL_RAND') fail(endpoint, 'amt_type', 'amt_type must be ALL_RAND');
    // WeChat's group red packet takes no client_ip; leaving it out keeps the signed fields WeChat's.
    delete params.client_ip;
  }
  if (amount > REDPACK_SCENE_ID_THRESHOLD && !params.scene_id) {
    fail(
      endpoint,
      'scene_id',
      `scene_id is required for red packets over 200 yuan (total_amount ${amount} fen)`,
    );
  }
  merchantNumber(params, 'mch_billno', BILLNO, 'letters and digits, at most 28', endpoint);
  params.mch_billno ||= mchBillno(mchId);
  return params;
}

export function getRedpackInfoFields(request: GetRedpackInfoRequest): Fields {
  const params = asFields(request, 'getRedpackInfo');
  requireFields(params, ['mch_billno'], 'getRedpackInfo');
  return { ...params, bill_type: 'MCHT' };
}

export function sendCouponFields(request: SendCouponRequest, mchId: string): Fields {
  const params = asFields(request, 'sendCoupon');
  requireFields(params, ['coupon_stock_id', 'openid'], 'sendCoupon');
  merchantNumber(params, 'partner_trade_no', TRADE_NO, 'letters and digits, at most 32', 'sendCoupon');
  params.partner_trade_no ||= partnerTradeNo();
  params.op_user_id ||= mchId;
  // One coupon to one openid per call; WeChat's only accepted value.
  params.openid_count = 1;
  return params;
}

export function queryCouponStockFields(request: QueryCouponStockRequest, mchId: string): Fields {
  const params = asFields(request, 'queryCouponStock');
  requireFields(params, ['coupon_stock_id'], 'queryCouponStock');
  params.op_user_id ||= mchId;
  return params;
}

export function queryCouponsInfoFields(request: QueryCouponsInfoRequest, mchId: string): Fields {
  const params = asFields(request, 'queryCouponsInfo');
  requireFields(params, ['coupon_id', 'openid', 'stock_id'], 'queryCouponsInfo');
  params.op_user_id ||= mchId;
  return params;
}

/** pay_bank without the encryption: checks the clear fields and fills partner_trade_no. */
export function payBankFields(request: object): Fields {
  const params = asFields(request, 'payBank');
  requireFields(params, ['bank_no', 'true_name', 'bank_code', 'amount'], 'payBank');
  requireFen(params, 'amount', 'payBank');
  merchantNumber(params, 'partner_trade_no', TRADE_NO, 'letters and digits, at most 32', 'payBank');
  params.partner_trade_no ||= partnerTradeNo();
  return params;
}

export function queryBankFields(request: QueryBankRequest): Fields {
  const params = asFields(request, 'queryBank');
  requireFields(params, ['partner_trade_no'], 'queryBank');
  return params;
}
