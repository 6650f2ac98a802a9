// The order state machine: NOTPAY → SUCCESS / CLOSED / PAYERROR / REVOKED, USERPAYING for micropay,
// SUCCESS → REFUND once a refund exists. Pure: every function returns the next state or a refusal.
import { ok, type Result, refuse } from '../result.js';
import type { KeyRealm } from '../sandboxnew.js';

export type TradeState = 'NOTPAY' | 'USERPAYING' | 'SUCCESS' | 'PAYERROR' | 'CLOSED' | 'REVOKED' | 'REFUND';
export type TradeType = 'JSAPI' | 'NATIVE' | 'APP' | 'MWEB' | 'MICROPAY';

export interface Order {
  mchId: string;
  appid: string;
  outTradeNo: string;
  transactionId: string;
  tradeType: TradeType;
  state: TradeState;
  body: string;
  totalFee: number;
  feeType: string;
  openid: string | undefined;
  attach: string | undefined;
  deviceInfo: string | undefined;
  notifyUrl: string | undefined;
  /** The sign type the order was placed with; its payment notify is signed the same way. */
  signType: 'MD5' | 'HMAC-SHA256';
  /** The key the order was placed with (sandboxnew: the sandbox key); its payment notify is signed with it. */
  keyRealm: KeyRealm;
  createdAt: number;
  expiresAt: number | undefined;
  paidAt: number | undefined;
  /** A negative-test micropay left USERPAYING: when the payer finishes entering the password. */
  payerFinishesAt?: number;
  prepayId: string | undefined;
  codeUrl: string | undefined;
  mwebUrl: string | undefined;
  /** When prepayId (and its code_url / mweb_url) was issued; WeChat's client refuses it 2 hours later. */
  prepayAt?: number;
  /** When mwebUrl was issued (with the prepay, or alone by a resent unifiedorder); it lasts 5 minutes. */
  mwebAt?: number;
  /** Prepays replaced by a later unifiedorder of the same order: a payer holding one is told it expired. */
  replacedPrepays?: { prepayId: string; codeUrl?: string }[];
  /** mweb_urls replaced by a later unifiedorder of the same order: a payer opening one is told it expired. */
  replacedMwebUrls?: string[];
  /** The request fields that define the order; a resend must match them. */
  fingerprint: string;
  refundedFee: number;
  refundCount: number;
}

/**
 * A prepay_id, and the code_url or mweb_url issued with it, lasts 2 hours whatever the order's time_expire: after
 * that WeChat's client answers 该订单已过期，请重新下单, and unifiedorder called again with the same out_trade_no
 * and parameters issues a new one for the same order.
 */
export const PREPAY_TTL_MS = 2 * 60 * 60 * 1000;

/** Whether the order's current prepay has outlived PREPAY_TTL_MS. */
export function prepayExpired(order: Order, now: number): boolean {
  return order.prepayId !== undefined && now - (order.prepayAt ?? order.createdAt) >= PREPAY_TTL_MS;
}

/**
 * An H5 (MWEB) order's mweb_url lasts 5 minutes (mweb_url的有效期为5分钟), far less than its prepay_id: after that
 * WeChat's page answers 支付请求已失效，请重新发起支付, and unifiedorder called again with the same out_trade_no and
 * parameters issues a new mweb_url for the same order, which stays payable for its prepay's 2 hours.
 */
export const MWEB_URL_TTL_MS = 5 * 60 * 1000;

/** Whether the order's current mweb_url has outlived MWEB_URL_TTL_MS. */
export function mwebUrlExpired(order: Order, now: number): boolean {
  return (
    order.mwebUrl !== undefined &&
    now - (order.mwebAt ?? order.prepayAt ?? order.createdAt) >= MWEB_URL_TTL_MS
  );
}

/** WeChat refuses closeorder within 5 minutes of the order's creation. */
export const CLOSE_MIN_AGE_MS = 5 * 60 * 1000;
/** Refunds are accepted within 365 days of payment. */
export const REFUND_WINDOW_MS = 365 * 24 * 60 * 60 * 1000;
export const MAX_REFUNDS_PER_ORDER = 50;

export const TRADE_STATE_DESC: Record<TradeState, string> = {
  NOTPAY: '订单未支付',
  USERPAYING: '需要用户输入支付密码',
  SUCCESS: '支付成功',
  PAYERROR: '支付失败',
  CLOSED: '订单已关闭',
  REVOKED: '订单已撤销',
  REFUND: '订单发生过退款',
};

/** A payable order is one the payer can still complete. */
export function isPayable(order: Order, now: number): boolean {
  if (order.state !== 'NOTPAY' && order.state !== 'USERPAYING') return false;
  return order.expiresAt === undefined || now < order.expiresAt;
}

/**
 * What the payer does: pays, fails (PAYERROR), is still entering a password (USERPAYING), or closes the
 * payment sheet without paying (CANCEL: the order stays as it was).
 */
export const PAY_OUTCOMES = ['SUCCESS', 'PAYERROR', 'USERPAYING', 'CANCEL'] as const;
export type PayOutcome = (typeof PAY_OUTCOMES)[number];

/** The payer's outcome applied to an order. */
export function settle(order: Order, outcome: PayOutcome, now: number): Result<Order> {
  if (order.state === 'SUCCESS' || order.state === 'REFUND') return refuse('ORDERPAID', '该订单已支付');
  if (order.state === 'CLOSED') return refuse('ORDERCLOSED', '该订单已关');
  if (order.state === 'REVOKED') return refuse('ORDERREVERSED', '订单已撤销');
  if (order.state === 'PAYERROR') return refuse('PAYERROR', '支付失败');
  if (!isPayable(order, now)) return refuse('ORDERCLOSED', '订单已过期');
  // The payer saw the payment sheet (the order could be paid) and closed it.
  if (outcome === 'CANCEL') return ok(order);
  if (outcome === 'SUCCESS') return ok({ ...order, state: 'SUCCESS', paidAt: now });
  return ok({ ...order, state: outcome });
}

/** closeorder: only an unpaid order, and not in its first five minutes. */
export function close(order: Order, now: number): Result<Order> {
  if (order.state === 'SUCCESS' || order.state === 'REFUND')
    return refuse('ORDERPAID', '订单已支付，不能发起关单');
  if (order.state === 'CLOSED') return refuse('ORDERCLOSED', '订单已关闭，无法重复关闭');
  if (order.state === 'REVOKED') return refuse('ORDERREVERSED', '订单已撤销');
  if (now - order.createdAt < CLOSE_MIN_AGE_MS) {
    return refuse('INVALID_REQUEST', '订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟');
  }
  return ok({ ...order, state: 'CLOSED' });
}

/** reverse (撤销): micropay orders only; a paid one is refunded in full. */
export function reverse(order: Order): Result<{ order: Order; refundFee: number }> {
  if (order.tradeType !== 'MICROPAY') return refuse('TRADE_ERROR', '只能撤销付款码支付的订单');
  if (order.state === 'REFUND') return refuse('TRADE_ERROR', '订单已发生退款，不能撤销');
  if (order.state === 'REVOKED') return ok({ order, refundFee: 0 });
  const refundFee = order.state === 'SUCCESS' ? order.totalFee : 0;
  return ok({ order: { ...order, state: 'REVOKED' }, refundFee });
}

/** Whether a refund of `refundFee` may be taken from the order now. */
export function checkRefund(order: Order, totalFee: number, refundFee: number, now: number): Result<Order> {
  if (order.state !== 'SUCCESS' && order.state !== 'REFUND')
    return refuse('TRADE_STATE_ERROR', '订单状态错误');
  if (totalFee !== order.totalFee) return refuse('PARAM_ERROR', '订单金额total_fee与实际支付金额不一致');
  if (order.paidAt !== undefined && now - order.paidAt > REFUND_WINDOW_MS) {
    return refuse('ERROR', '订单已经超过退款期限');
  }
  if (order.refundCount >= MAX_REFUNDS_PER_ORDER) return refuse('ERROR', '订单已经超过可退款的最大次数');
  if (order.refundedFee + refundFee > order.totalFee) return refuse('ERROR', '累计退款金额大于支付金额');
  return ok({
    ...order,
    state: 'REFUND',
    refundedFee: order.refundedFee + refundFee,
    refundCount: order.refundCount + 1,
  });
}
