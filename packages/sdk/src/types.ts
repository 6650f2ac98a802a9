// Request and reply shapes of the payment endpoints, in WeChat's own field names. Every reply value
// is a string, as on the wire; amounts are integers of fen.
import type { SignType } from './sign.js';

type Num = number | string;

/** Fields the client fills in; a caller may still pass them (for example a sub-merchant's appid). */
export interface CommonRequest {
  appid?: string;
  mch_id?: string;
  nonce_str?: string;
  sign_type?: SignType;
}

/** Fields of every XML reply. Unknown fields that WeChat adds are kept too. */
export interface CommonReply {
  return_code: 'SUCCESS' | 'FAIL';
  return_msg?: string;
  result_code?: 'SUCCESS' | 'FAIL';
  err_code?: string;
  err_code_des?: string;
  appid?: string;
  mch_id?: string;
  nonce_str?: string;
  sign?: string;
  [field: string]: string | undefined;
}

export type TradeType = 'JSAPI' | 'NATIVE' | 'APP' | 'MWEB';
export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';
export type FeeType = 'CNY' | 'HKD' | 'USD' | 'EUR' | 'GBP' | (string & {});

export interface UnifiedOrderRequest extends CommonRequest {
  body: string;
  out_trade_no: string;
  total_fee: Num;
  spbill_create_ip: string;
  trade_type: TradeType;
  /** Falls back to the client's `notifyUrl`. */
  notify_url?: string;
  device_info?: string;
  detail?: string;
  attach?: string;
  fee_type?: FeeType;
  time_start?: string;
  time_expire?: string;
  goods_tag?: string;
  product_id?: string;
  limit_pay?: 'no_credit';
  /** Required for JSAPI. */
  openid?: string;
  receipt?: 'Y';
  scene_info?: string;
  profit_sharing?: 'Y' | 'N';
}

export interface UnifiedOrderReply extends CommonReply {
  trade_type?: TradeType;
  prepay_id?: string;
  code_url?: string;
  mweb_url?: string;
  device_info?: string;
}

export interface MicropayRequest extends CommonRequest {
  body: string;
  out_trade_no: string;
  total_fee: Num;
  spbill_create_ip: string;
  /** The 18-digit code from the payer's 付款码. */
  auth_code: string;
  device_info?: string;
  detail?: string;
  attach?: string;
  fee_type?: FeeType;
  goods_tag?: string;
  limit_pay?: 'no_credit';
  time_start?: string;
  time_expire?: string;
  receipt?: 'Y';
  scene_info?: string;
}

export interface PaidOrderFields {
  openid?: string;
  is_subscribe?: string;
  trade_type?: string;
  bank_type?: string;
  total_fee?: string;
  settlement_total_fee?: string;
  fee_type?: string;
  cash_fee?: string;
  cash_fee_type?: string;
  coupon_fee?: string;
  transaction_id?: string;
  out_trade_no?: string;
  attach?: string;
  time_end?: string;
}

export interface MicropayReply extends CommonReply, PaidOrderFields {}

/** Identify an order by WeChat's transaction_id or by your out_trade_no. */
export type OrderRef =
  | { transaction_id: string; out_trade_no?: string }
  | { out_trade_no: string; transaction_id?: string };

export type OrderQueryRequest = CommonRequest & OrderRef;

export interface OrderQueryReply extends CommonReply, PaidOrderFields {
  trade_state?: TradeState;
  trade_state_desc?: string;
  device_info?: string;
}

export interface CloseOrderRequest extends CommonRequest {
  out_trade_no: string;
}

export type CloseOrderReply = CommonReply;

export type ReverseRequest = CommonRequest & OrderRef;

export interface ReverseReply extends CommonReply {
  /** Y: call reverse again; N: done. */
  recall?: 'Y' | 'N';
}

export type RefundRequest = CommonRequest &
  OrderRef & {
    out_refund_no: string;
    total_fee: Num;
    refund_fee: Num;
    refund_fee_type?: FeeType;
    refund_desc?: string;
    refund_account?: 'REFUND_SOURCE_UNSETTLED_FUNDS' | 'REFUND_SOURCE_RECHARGE_FUNDS';
    /** Falls back to the client's `notifyUrl`. */
    notify_url?: string;
  };

export interface RefundReply extends CommonReply {
  transaction_id?: string;
  out_trade_no?: string;
  out_refund_no?: string;
  refund_id?: string;
  refund_fee?: string;
  settlement_refund_fee?: string;
  total_fee?: string;
  settlement_total_fee?: string;
  fee_type?: string;
  cash_fee?: string;
  cash_refund_fee?: string;
}

export type RefundQueryRequest = CommonRequest &
  (
    | { transaction_id: string }
    | { out_trade_no: string }
    | { out_refund_no: string }
    | { refund_id: string }
  ) & { offset?: Num };

/** Per-refund fields come numbered: `out_refund_no_0`, `refund_status_0`, `refund_fee_0`, … */
export interface RefundQueryReply extends CommonReply {
  transaction_id?: string;
  out_trade_no?: string;
  total_fee?: string;
  cash_fee?: string;
  refund_count?: string;
  total_refund_count?: string;
}

export type RefundStatus = 'SUCCESS' | 'REFUNDCLOSE' | 'PROCESSING' | 'CHANGE';

export interface DownloadBillRequest extends CommonRequest {
  /** yyyyMMdd */
  bill_date: string;
  bill_type?: 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND';
  tar_type?: 'GZIP';
}

export interface DownloadFundFlowRequest extends CommonRequest {
  bill_date: string;
  account_type: 'Basic' | 'Operation' | 'Fees';
  tar_type?: 'GZIP';
}

export interface GetSignKeyReply extends CommonReply {
  sandbox_signkey?: string;
}

/** A verified payment notify. */
export interface PaymentNotify extends PaidOrderFields {
  return_code: string;
  result_code: string;
  appid: string;
  mch_id: string;
  nonce_str: string;
  sign: string;
  out_trade_no: string;
  transaction_id: string;
  total_fee: string;
  err_code?: string;
  err_code_des?: string;
  device_info?: string;
  [field: string]: string | undefined;
}

/** A refund notify: its outer ids plus the decrypted `req_info`. */
export interface RefundNotify {
  appid: string;
  mch_id: string;
  transaction_id: string;
  out_trade_no: string;
  refund_id: string;
  out_refund_no: string;
  total_fee: string;
  refund_fee: string;
  settlement_total_fee?: string;
  settlement_refund_fee?: string;
  refund_status: 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';
  success_time?: string;
  /** Spelled this way by WeChat. */
  refund_recv_accout?: string;
  refund_account?: string;
  refund_request_source?: string;
  [field: string]: string | undefined;
}

/** Parameters for `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` and `wx.requestPayment`. */
export interface JsapiParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: SignType;
  paySign: string;
}

/** Parameters for the WeChat app SDK's PayReq. */
export interface AppParams {
  appid: string;
  partnerid: string;
  prepayid: string;
  package: 'Sign=WXPay';
  noncestr: string;
  timestamp: string;
  sign: string;
}
