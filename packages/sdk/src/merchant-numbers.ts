// Generators for payout idempotency numbers (partner_trade_no, mch_billno). Generate once, store,
// and reuse the same number on every retry: a new number for the same intent can pay twice.
import { nonce, randomDigits } from './nonce.js';

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Digits of the date in Beijing time (UTC+8), the calendar WeChat's numbers follow. */
function beijingDigits(date: Date): string {
  // toISOString gives YYYY-MM-DDTHH:MM:SS.sssZ; shifted by 8 h it reads as Beijing time.
  return new Date(date.getTime() + BEIJING_OFFSET_MS).toISOString().replace(/\D/g, '').slice(0, 14);
}

/**
 * A partner_trade_no for transfers, coupons and bank payouts: yyyyMMddHHmmss (Beijing time) followed
 * by 18 random letters and digits, 32 characters in all (WeChat allows letters and digits, ≤ 32).
 */
export function partnerTradeNo(date: Date = new Date()): string {
  return beijingDigits(date) + nonce(18);
}

/**
 * A red packet mch_billno in WeChat's documented shape: mch_id + yyyymmdd (Beijing time) + 10 random
 * digits, which is 28 characters for the usual 10-digit mch_id.
 */
export function mchBillno(mchId: string, date: Date = new Date()): string {
  return mchId + beijingDigits(date).slice(0, 8) + randomDigits(10);
}
