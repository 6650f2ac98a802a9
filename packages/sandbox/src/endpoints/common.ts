// Field rules shared by several endpoints, and the row shape of the payment-family endpoints.
import type { FieldRule } from '../validate.js';
import { MERCHANT_NO } from '../validate.js';
import type { EndpointDef } from './types.js';

export const NONCE: FieldRule = { name: 'nonce_str', required: true, max: 32 };
export const SIGN_TYPE: FieldRule = { name: 'sign_type', oneOf: ['MD5', 'HMAC-SHA256'] };
export const OUT_TRADE_NO: FieldRule = { name: 'out_trade_no', max: 32, pattern: MERCHANT_NO };
export const TRANSACTION_ID: FieldRule = { name: 'transaction_id', max: 32, pattern: /^\d+$/ };
/** The head of every call about an existing order (query, close, refund, refundquery): who, and which order. */
export const ORDER_REF_RULES: readonly FieldRule[] = [
  { name: 'appid', required: true, max: 32 },
  { name: 'mch_id', required: true, max: 32 },
  NONCE,
  SIGN_TYPE,
  TRANSACTION_ID,
  OUT_TRADE_NO,
];

/** The payment endpoints: appid + mch_id, either sign type, signed replies, return_code FAIL for bad fields. */
export const PAY_ROW = {
  cert: false,
  reply: 'signed',
  appidField: 'appid',
  mchIdField: 'mch_id',
  signTypes: 'any',
  problems: 'return',
} as const satisfies Partial<EndpointDef>;

/** The payout and marketing endpoints: MD5 only, the client certificate, unsigned replies, PARAM_ERROR. */
export const PAYOUT_ROW = {
  cert: true,
  reply: 'unsigned',
  appidField: 'appid',
  mchIdField: 'mch_id',
  signTypes: 'MD5',
  problems: 'result',
} as const satisfies Partial<EndpointDef>;
