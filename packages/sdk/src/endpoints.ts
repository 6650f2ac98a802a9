// Every WeChat Pay v2 endpoint as one row of data. The client has one signed call path; the typed
// methods are thin wrappers that name a row.
import type { SignType } from './sign.js';

export interface EndpointSpec {
  /** Path below the base URL. */
  path: string;
  /** The service host: `api` (baseUrl) or `fraud` (riskBaseUrl, for getpublickey). */
  host: 'api' | 'fraud';
  /** Needs the merchant's client certificate (mutual TLS). */
  cert: boolean;
  /** How WeChat answers: signed XML, unsigned XML, or CSV text (XML on error). */
  reply: 'signed' | 'unsigned' | 'csv';
  /** The field that carries the appid, or null when the endpoint takes none. */
  appidField: 'appid' | 'mch_appid' | 'wxappid' | null;
  /** The field that carries the merchant id. */
  mchIdField: 'mch_id' | 'mchid';
  /** Which sign types the endpoint accepts; a fixed one overrides the client's `signType`. */
  signTypes: 'any' | SignType;
  /** Whether the request carries a `sign_type` field. */
  signTypeField: boolean;
  /** Whether the client's `notifyUrl` fills in `notify_url`. */
  notifyUrl: boolean;
  /**
   * Whether WeChat says the very same request may be sent again when the outcome is unknown
   * (timeout, SYSTEMERROR). Micropay is not: its unknown outcome is resolved by orderquery or reverse.
   */
  retrySafe: boolean;
}

const pay = {
  host: 'api',
  cert: false,
  reply: 'signed',
  appidField: 'appid',
  mchIdField: 'mch_id',
  signTypes: 'any',
  signTypeField: true,
  notifyUrl: false,
  retrySafe: true,
} as const satisfies Omit<EndpointSpec, 'path'>;

// Marketing and payout endpoints accept MD5 only and carry no sign_type field.
const payout = {
  ...pay,
  cert: true,
  reply: 'unsigned',
  signTypes: 'MD5',
  signTypeField: false,
} as const satisfies Omit<EndpointSpec, 'path'>;

export const ENDPOINTS = {
  unifiedOrder: { ...pay, path: '/pay/unifiedorder', notifyUrl: true },
  micropay: { ...pay, path: '/pay/micropay', retrySafe: false },
  orderQuery: { ...pay, path: '/pay/orderquery' },
  closeOrder: { ...pay, path: '/pay/closeorder' },
  reverse: { ...pay, path: '/secapi/pay/reverse', cert: true },
  refund: { ...pay, path: '/secapi/pay/refund', cert: true, notifyUrl: true },
  refundQuery: { ...pay, path: '/pay/refundquery' },
  downloadBill: { ...pay, path: '/pay/downloadbill', reply: 'csv' },
  downloadFundFlow: {
    ...pay,
    path: '/pay/downloadfundflow',
    cert: true,
    reply: 'csv',
    signTypes: 'HMAC-SHA256',
  },
  transfer: {
    ...payout,
    path: '/mmpaymkttransfers/promotion/transfers',
    appidField: 'mch_appid',
    mchIdField: 'mchid',
  },
  getTransferInfo: { ...payout, path: '/mmpaymkttransfers/gettransferinfo' },
  sendRedpack: { ...payout, path: '/mmpaymkttransfers/sendredpack', appidField: 'wxappid' },
  sendGroupRedpack: { ...payout, path: '/mmpaymkttransfers/sendgroupredpack', appidField: 'wxappid' },
  getRedpackInfo: { ...payout, path: '/mmpaymkttransfers/gethbinfo' },
  sendCoupon: { ...payout, path: '/mmpaymkttransfers/send_coupon', reply: 'signed' },
  queryCouponStock: {
    ...payout,
    path: '/mmpaymkttransfers/query_coupon_stock',
    cert: false,
    reply: 'signed',
  },
  queryCouponsInfo: { ...payout, path: '/mmpaymkttransfers/querycouponsinfo', cert: false, reply: 'signed' },
  payBank: { ...payout, path: '/mmpaysptrans/pay_bank', appidField: null },
  queryBank: { ...payout, path: '/mmpaysptrans/query_bank', appidField: null },
  getPublicKey: {
    ...payout,
    path: '/risk/getpublickey',
    host: 'fraud',
    appidField: null,
    signTypeField: true,
  },
  getSignKey: {
    ...pay,
    path: '/sandboxnew/pay/getsignkey',
    reply: 'unsigned',
    appidField: null,
    signTypes: 'MD5',
    signTypeField: false,
  },
} as const satisfies Record<string, EndpointSpec>;

export type EndpointName = keyof typeof ENDPOINTS;

/**
 * err_code values after which the outcome is unknown: the call may or may not have taken effect.
 * The remedy is to query, or to resend with the same merchant number, never a new one.
 */
export const UNKNOWN_OUTCOME_CODES: ReadonlySet<string> = new Set([
  'SYSTEMERROR',
  'BIZERR_NEED_RETRY',
  'BANKERROR',
  'USERPAYING',
  'PROCESSING',
]);

/**
 * err_code values by which WeChat says it did not process the call because the merchant calls too often
 * (refund: FREQUENCY_LIMITED; red packets and transfers: FREQ_LIMIT). Nothing happened on that try, and it is
 * not a refusal of the payment, refund or payout itself: send the same request, with the same merchant
 * number, again later. WeChat counts calls per second, so the SDK does not resend these itself.
 */
export const RATE_LIMITED_CODES: ReadonlySet<string> = new Set(['FREQUENCY_LIMITED', 'FREQ_LIMIT']);

/** err_code values after which the SDK itself may resend the identical request. */
export const AUTO_RETRY_CODES: ReadonlySet<string> = new Set(['SYSTEMERROR', 'BIZERR_NEED_RETRY']);
