// Request and reply shapes of the payout and marketing endpoints (transfers, red packets, coupons,
// bank payouts), in WeChat's own field names. Amounts are integers of fen; reply values are strings.
import type { CommonReply } from './types.js';

type Num = number | string;

/** 校验用户姓名选项: FORCE_CHECK needs re_user_name. */
export type CheckName = 'NO_CHECK' | 'FORCE_CHECK';

/** 红包场景 (required for red packets above 200 yuan). */
export type RedpackSceneId =
  | 'PRODUCT_1'
  | 'PRODUCT_2'
  | 'PRODUCT_3'
  | 'PRODUCT_4'
  | 'PRODUCT_5'
  | 'PRODUCT_6'
  | 'PRODUCT_7'
  | 'PRODUCT_8';

// ---- transfers (企业付款到零钱) ------------------------------------------------------------------

export interface TransferRequest {
  openid: string;
  /** Fen. */
  amount: Num;
  desc: string;
  /** Generated (letters and digits, 32 characters) when absent. Reuse it to retry safely. */
  partner_trade_no?: string;
  /** Default NO_CHECK. */
  check_name?: CheckName;
  /** Required when check_name is FORCE_CHECK. */
  re_user_name?: string;
  device_info?: string;
  spbill_create_ip?: string;
  /** Defaults to the client's appid. */
  mch_appid?: string;
  nonce_str?: string;
}

export interface TransferReply extends CommonReply {
  mch_appid?: string;
  mchid?: string;
  device_info?: string;
  partner_trade_no?: string;
  payment_no?: string;
  payment_time?: string;
}

export interface GetTransferInfoRequest {
  partner_trade_no: string;
  appid?: string;
  nonce_str?: string;
}

export type TransferStatus = 'SUCCESS' | 'FAILED' | 'PROCESSING';

export interface GetTransferInfoReply extends CommonReply {
  partner_trade_no?: string;
  detail_id?: string;
  status?: TransferStatus;
  reason?: string;
  openid?: string;
  transfer_name?: string;
  payment_amount?: string;
  transfer_time?: string;
  payment_time?: string;
  desc?: string;
}

// ---- red packets (现金红包) ----------------------------------------------------------------------

interface RedpackCommon {
  /** Generated (mch_id + yyyymmdd + 10 digits) when absent. Reuse it to retry safely. */
  mch_billno?: string;
  send_name: string;
  re_openid: string;
  /** Fen. Above 20000 (200 yuan) scene_id is required. */
  total_amount: Num;
  wishing: string;
  act_name: string;
  remark: string;
  scene_id?: RedpackSceneId | (string & {});
  risk_info?: string;
  consume_mch_id?: string;
  /** Defaults to the client's appid. */
  wxappid?: string;
  nonce_str?: string;
}

export interface SendRedpackRequest extends RedpackCommon {
  /** Always 1 for a normal red packet; default 1. */
  total_num?: Num;
  /** The calling server's IP, which WeChat requires for normal red packets. */
  client_ip: string;
}

export interface SendGroupRedpackRequest extends RedpackCommon {
  /** How many people share the group red packet (the sharer included). */
  total_num: Num;
  /** Default ALL_RAND, the only value WeChat accepts. */
  amt_type?: 'ALL_RAND';
}

export interface SendRedpackReply extends CommonReply {
  mch_billno?: string;
  wxappid?: string;
  re_openid?: string;
  total_amount?: string;
  send_listid?: string;
}

export interface GetRedpackInfoRequest {
  mch_billno: string;
  appid?: string;
  nonce_str?: string;
}

/** Red packet states, spelled as WeChat spells them (RFUND_ING included). */
export type RedpackStatus = 'SENDING' | 'SENT' | 'FAILED' | 'RECEIVED' | 'RFUND_ING' | 'REFUND';

/** One receipt of a red packet, from gethbinfo's hblist. */
export interface RedpackReceipt {
  openid: string;
  /** Fen, as WeChat sends it (a string). */
  amount: string;
  rcv_time: string;
}

/** gethbinfo's reply. Not a CommonReply: `hblist` is the one non-string field. */
export interface GetRedpackInfoReply {
  return_code: 'SUCCESS' | 'FAIL';
  return_msg?: string;
  result_code?: 'SUCCESS' | 'FAIL';
  err_code?: string;
  err_code_des?: string;
  mch_billno?: string;
  mch_id?: string;
  detail_id?: string;
  status?: RedpackStatus;
  send_type?: 'API' | 'UPLOAD' | 'ACTIVITY';
  hb_type?: 'GROUP' | 'NORMAL';
  total_num?: string;
  total_amount?: string;
  reason?: string;
  send_time?: string;
  refund_time?: string;
  refund_amount?: string;
  wishing?: string;
  remark?: string;
  act_name?: string;
  /** Who opened the red packet; empty when nobody has yet. */
  hblist: RedpackReceipt[];
  [field: string]: string | RedpackReceipt[] | undefined;
}

// ---- coupons (代金券) ----------------------------------------------------------------------------

interface CouponCommon {
  /** Default the merchant number. */
  op_user_id?: string;
  device_info?: string;
  appid?: string;
  nonce_str?: string;
  version?: string;
  type?: string;
}

export interface SendCouponRequest extends CouponCommon {
  coupon_stock_id: string;
  openid: string;
  /** Generated when absent. Reuse it to retry safely. */
  partner_trade_no?: string;
}

export interface SendCouponReply extends CommonReply {
  coupon_stock_id?: string;
  resp_count?: string;
  success_count?: string;
  failed_count?: string;
  openid?: string;
  ret_code?: 'SUCCESS' | 'FAILED';
  coupon_id?: string;
  ret_msg?: string;
}

export interface QueryCouponStockRequest extends CouponCommon {
  coupon_stock_id: string;
}

export interface QueryCouponStockReply extends CommonReply {
  coupon_stock_id?: string;
  coupon_name?: string;
  coupon_value?: string;
  /** Spelled this way by WeChat. */
  coupon_mininumn?: string;
  coupon_stock_status?: string;
  coupon_total?: string;
  max_quota?: string;
  is_send_num?: string;
  begin_time?: string;
  end_time?: string;
  create_time?: string;
  coupon_budget?: string;
}

export interface QueryCouponsInfoRequest extends CouponCommon {
  coupon_id: string;
  openid: string;
  stock_id: string;
}

export interface QueryCouponsInfoReply extends CommonReply {
  coupon_stock_id?: string;
  coupon_id?: string;
  coupon_name?: string;
  coupon_value?: string;
  coupon_mininumn?: string;
  coupon_state?: 'SENDED' | 'USED' | 'EXPIRED' | (string & {});
  coupon_desc?: string;
  coupon_use_value?: string;
  coupon_remain_value?: string;
  begin_time?: string;
  end_time?: string;
  send_time?: string;
  send_source?: string;
  is_partial_use?: string;
}

// ---- bank payouts (企业付款到银行卡) ----------------------------------------------------------------

export interface PayBankRequest {
  /** Generated when absent. Reuse it to retry safely. */
  partner_trade_no?: string;
  /** The card number in clear; sent as enc_bank_no (RSA-OAEP with WeChat's public key). */
  bank_no: string;
  /** The holder's name in clear; sent as enc_true_name. */
  true_name: string;
  /** WeChat's bank code, e.g. 1002 for ICBC. */
  bank_code: string;
  /** Fen. */
  amount: Num;
  desc?: string;
  nonce_str?: string;
}

export interface PayBankReply extends CommonReply {
  partner_trade_no?: string;
  amount?: string;
  payment_no?: string;
  cmms_amt?: string;
}

export interface QueryBankRequest {
  partner_trade_no: string;
  nonce_str?: string;
}

export interface QueryBankReply extends CommonReply {
  partner_trade_no?: string;
  payment_no?: string;
  bank_no_md5?: string;
  true_name_md5?: string;
  amount?: string;
  status?: 'PROCESSING' | 'SUCCESS' | 'FAILED' | 'BANK_FAIL';
  cmms_amt?: string;
  create_time?: string;
  pay_succ_time?: string;
  reason?: string;
}

export interface GetPublicKeyReply extends CommonReply {
  /** WeChat's RSA public key, PKCS#1 PEM (-----BEGIN RSA PUBLIC KEY-----). */
  pub_key?: string;
}
