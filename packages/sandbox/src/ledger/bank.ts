// 付款到银行卡: PROCESSING, then SUCCESS, or BANK_FAIL with the money (and fee) returned. Pure.
export type BankPayoutStatus = 'PROCESSING' | 'SUCCESS' | 'FAILED' | 'BANK_FAIL';

export interface BankPayout {
  mchId: string;
  partnerTradeNo: string;
  paymentNo: string;
  bankNoMd5: string;
  trueNameMd5: string;
  bankCode: string;
  amount: number;
  fee: number;
  desc: string;
  status: BankPayoutStatus;
  reason: string | undefined;
  createdAt: number;
  paidAt: number | undefined;
  fingerprint: string;
  /** Whether the card is one the "bank" refuses (kept, since only the card number's MD5 is). */
  cardFails: boolean;
}

/** Simulated seconds a bank payout stays PROCESSING. */
export const BANK_SETTLE_SECONDS = 10;
/** Card numbers starting with this are refused by the "bank": the payout ends BANK_FAIL. */
export const FAILING_CARD_PREFIX = '0000';

/** WeChat's fee: 0.1% of the amount, at least 1 yuan and at most 25 yuan. */
export function bankFee(amount: number): number {
  return Math.min(2500, Math.max(100, Math.round(amount / 1000)));
}

export function settleBankPayout(payout: BankPayout, now: number): BankPayout {
  if (payout.status !== 'PROCESSING') return payout;
  if (payout.cardFails) return { ...payout, status: 'BANK_FAIL', reason: '银行卡号不存在或已注销' };
  return { ...payout, status: 'SUCCESS', paidAt: now };
}
