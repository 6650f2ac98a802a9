// Payouts: transfers to a user's balance (PROCESSING → SUCCESS / FAILED) and red packets
// (SENDING → SENT → RECEIVED, or RFUND_ING → REFUND after 24 h unopened). Pure.
import type { Random } from '../random.js';
import { ok, type Result, refuse } from '../result.js';

export type TransferStatus = 'PROCESSING' | 'SUCCESS' | 'FAILED';

export interface Transfer {
  mchId: string;
  appid: string;
  partnerTradeNo: string;
  paymentNo: string;
  openid: string;
  amount: number;
  desc: string;
  checkName: string;
  reUserName: string | undefined;
  status: TransferStatus;
  reason: string | undefined;
  createdAt: number;
  paidAt: number | undefined;
  fingerprint: string;
}

/** Simulated seconds a transfer stays PROCESSING. */
export const TRANSFER_SETTLE_SECONDS = 3;
/** Openids starting with this are treated as accounts that cannot receive money: the transfer FAILS. */
export const BANNED_OPENID_PREFIX = 'banned';

export function settleTransfer(transfer: Transfer, now: number): Transfer {
  if (transfer.status !== 'PROCESSING') return transfer;
  if (transfer.openid.startsWith(BANNED_OPENID_PREFIX)) {
    return { ...transfer, status: 'FAILED', reason: '用户账户被冻结，无法完成付款' };
  }
  return { ...transfer, status: 'SUCCESS', paidAt: now };
}

export type RedpackStatus = 'SENDING' | 'SENT' | 'FAILED' | 'RECEIVED' | 'RFUND_ING' | 'REFUND';

export interface RedpackShare {
  amount: number;
  openid: string | undefined;
  receivedAt: number | undefined;
}

export interface Redpack {
  mchId: string;
  wxappid: string;
  mchBillno: string;
  sendListId: string;
  detailId: string;
  hbType: 'NORMAL' | 'GROUP';
  reOpenid: string;
  totalAmount: number;
  totalNum: number;
  shares: RedpackShare[];
  status: RedpackStatus;
  sendName: string;
  wishing: string;
  actName: string;
  remark: string;
  sceneId: string | undefined;
  createdAt: number;
  refundedAt: number | undefined;
  refundAmount: number;
  fingerprint: string;
}

/** Simulated seconds from SENDING to SENT. */
export const REDPACK_SEND_SECONDS = 1;
/** An unopened red packet is refunded after 24 hours. */
export const REDPACK_REFUND_SECONDS = 24 * 60 * 60;
/** Above 200 yuan a red packet needs scene_id. */
export const REDPACK_SCENE_THRESHOLD = 20_000;
/** Each receiver of a red packet gets at least 1 yuan. */
export const REDPACK_MIN_SHARE = 100;
/** The most a single red packet (normal) may hold without a scene: 200 yuan; with one: 4999 yuan. */
export const REDPACK_MAX_AMOUNT = 499_900;

/**
 * Splits a fission red packet's amount randomly among its receivers, each getting at least the
 * minimum share. The result sums exactly to the total.
 */
export function splitAmount(total: number, count: number, random: Random): number[] {
  const spare = total - count * REDPACK_MIN_SHARE;
  const weights = Array.from({ length: count }, () => random.next() + 0.01);
  const sum = weights.reduce((a, b) => a + b, 0);
  const extras = weights.map((w) => Math.floor((spare * w) / sum));
  let left = spare - extras.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % count, left--) extras[i] = (extras[i] ?? 0) + 1;
  return extras.map((e) => e + REDPACK_MIN_SHARE);
}

export function markSent(redpack: Redpack): Redpack {
  return redpack.status === 'SENDING' ? { ...redpack, status: 'SENT' } : redpack;
}

/** A receiver opens the red packet (a share of it, for a fission packet). */
export function openRedpack(
  redpack: Redpack,
  openid: string,
  now: number,
): Result<{ redpack: Redpack; amount: number }> {
  if (redpack.status === 'REFUND' || redpack.status === 'RFUND_ING')
    return refuse('REFUND', '红包已过期退款');
  if (redpack.status === 'SENDING') return refuse('SENDING', '红包发放中');
  if (redpack.status === 'RECEIVED') return refuse('RECEIVED', '红包已被领完');
  if (redpack.hbType === 'NORMAL' && openid !== redpack.reOpenid)
    return refuse('NOT_RECEIVER', '不是该红包的接收人');
  if (redpack.shares.some((s) => s.openid === openid)) return refuse('RECEIVED', '已领取过该红包');
  const index = redpack.shares.findIndex((s) => s.openid === undefined);
  const share = redpack.shares[index];
  if (!share) return refuse('RECEIVED', '红包已被领完');
  const shares = redpack.shares.map((s, i) => (i === index ? { ...s, openid, receivedAt: now } : s));
  const allTaken = shares.every((s) => s.openid !== undefined);
  return ok({
    redpack: { ...redpack, shares, status: allTaken ? 'RECEIVED' : 'SENT' },
    amount: share.amount,
  });
}

/** 24 hours after sending: whatever was not received goes back to the merchant. */
export function expireRedpack(redpack: Redpack, now: number): { redpack: Redpack; refund: number } {
  if (redpack.status !== 'SENT' && redpack.status !== 'SENDING') return { redpack, refund: 0 };
  const refund = redpack.shares.filter((s) => s.openid === undefined).reduce((a, s) => a + s.amount, 0);
  if (refund === 0) return { redpack, refund: 0 };
  // A partly opened fission packet keeps RECEIVED for its receivers; its remainder is refunded.
  const status = refund === redpack.totalAmount ? 'REFUND' : 'RECEIVED';
  return { redpack: { ...redpack, status, refundedAt: now, refundAmount: refund }, refund };
}
