// A refund: PROCESSING when accepted, SUCCESS once the money is back with the payer.
import type { KeyRealm } from '../sandboxnew.js';

export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'REFUNDCLOSE' | 'CHANGE';

export interface Refund {
  mchId: string;
  outTradeNo: string;
  transactionId: string;
  outRefundNo: string;
  refundId: string;
  refundFee: number;
  totalFee: number;
  status: RefundStatus;
  createdAt: number;
  successAt: number | undefined;
  notifyUrl: string | undefined;
  refundAccount: string;
  /** The key the refund was asked for with (sandboxnew: the sandbox key); its notify is encrypted with it. */
  keyRealm: KeyRealm;
  /** The request fields that define the refund; a resend must match them. */
  fingerprint: string;
}

/** Simulated seconds between accepting a refund and its SUCCESS (and its notify). */
export const REFUND_SETTLE_SECONDS = 5;

export function succeedRefund(refund: Refund, now: number): Refund {
  return refund.status === 'PROCESSING' ? { ...refund, status: 'SUCCESS', successAt: now } : refund;
}
