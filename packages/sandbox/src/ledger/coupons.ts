// Coupon stocks (代金券批次) and the coupons sent from them. Pure.
import { ok, type Result, refuse } from '../result.js';

export interface CouponStock {
  mchId: string;
  stockId: string;
  name: string;
  /** Face value, fen. */
  value: number;
  /** The least order amount the coupon applies to, fen. */
  minimum: number;
  total: number;
  sent: number;
  /** How many coupons of this stock one user may hold. */
  maxPerUser: number;
  beginAt: number;
  endAt: number;
  createdAt: number;
}

export interface Coupon {
  mchId: string;
  stockId: string;
  couponId: string;
  openid: string;
  partnerTradeNo: string;
  state: 'SENDED' | 'USED' | 'EXPIRED';
  sentAt: number;
}

export function takeCoupon(stock: CouponStock, heldByUser: number, now: number): Result<CouponStock> {
  if (now < stock.beginAt || now > stock.endAt) return refuse('NOT_VALID_TIME', '批次不在有效期内');
  if (stock.sent >= stock.total) return refuse('NOT_ENOUGH', '批次余量不足');
  if (heldByUser >= stock.maxPerUser) return refuse('USER_AL_GET_COUPON', '用户已达领取上限');
  return ok({ ...stock, sent: stock.sent + 1 });
}

/** WeChat reports a stock's status as a number: 4 means activated. */
export const STOCK_ACTIVE = '4';
