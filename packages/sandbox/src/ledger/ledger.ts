// The sandbox's books: every order, refund, payout and coupon, each merchant's balance, and the
// list of money movements that reconciliation tests read. In memory (persistence.ts keeps it in a data dir);
// ids come from the seeded source.
import type { Random } from '../random.js';
import { compactTime, dateKey } from '../time.js';
import type { BankPayout } from './bank.js';
import type { Coupon, CouponStock } from './coupons.js';
import type { Order } from './orders.js';
import type { Redpack, Transfer } from './payouts.js';
import type { Refund } from './refunds.js';

export type MovementKind =
  | 'payment'
  | 'refund'
  | 'reverse'
  | 'transfer'
  | 'transfer_return'
  | 'redpack'
  | 'redpack_refund'
  | 'bank'
  | 'bank_return'
  | 'adjustment';

/** One change of a merchant's balance. `amount` is signed fen: income positive, expense negative. */
export interface Movement {
  id: string;
  mchId: string;
  at: number;
  kind: MovementKind;
  amount: number;
  balance: number;
  /** The merchant's own number: out_trade_no, out_refund_no, partner_trade_no or mch_billno. */
  ref: string;
  /** WeChat's number for the business: transaction_id, refund_id, payment_no or send_listid. */
  bizNo: string;
}

export interface PaymentCode {
  authCode: string;
  openid: string;
  used: boolean;
}

/** The starting balance of every merchant: one million yuan, so payouts work out of the box. */
export const DEFAULT_BALANCE = 100_000_000;

const key = (mchId: string, no: string) => `${mchId}\u0000${no}`;

export class Ledger {
  readonly orders = new Map<string, Order>();
  readonly refunds = new Map<string, Refund>();
  readonly transfers = new Map<string, Transfer>();
  readonly redpacks = new Map<string, Redpack>();
  readonly stocks = new Map<string, CouponStock>();
  readonly coupons = new Map<string, Coupon>();
  readonly paymentCodes = new Map<string, PaymentCode>();
  readonly bankPayouts = new Map<string, BankPayout>();
  readonly movements: Movement[] = [];
  /** Balance by mch_id. Change it through move(); it is public for snapshots. */
  readonly balances = new Map<string, number>();
  /** Called after every change, so that a data dir can be kept up to date. */
  onChange: () => void = () => {};
  readonly #random: Random;

  constructor(random: Random) {
    this.#random = random;
  }

  // ---- lookups --------------------------------------------------------------------------------

  order(mchId: string, outTradeNo: string): Order | undefined {
    return this.orders.get(key(mchId, outTradeNo));
  }

  /** An order by out_trade_no or, failing that, transaction_id. */
  findOrder(mchId: string, ref: { outTradeNo?: string; transactionId?: string }): Order | undefined {
    if (ref.transactionId) {
      for (const o of this.orders.values())
        if (o.mchId === mchId && o.transactionId === ref.transactionId) return o;
      return undefined;
    }
    return ref.outTradeNo ? this.order(mchId, ref.outTradeNo) : undefined;
  }

  orderWhere(test: (order: Order) => boolean): Order | undefined {
    for (const o of this.orders.values()) if (test(o)) return o;
    return undefined;
  }

  saveOrder(order: Order): Order {
    this.orders.set(key(order.mchId, order.outTradeNo), order);
    this.onChange();
    return order;
  }

  refund(mchId: string, outRefundNo: string): Refund | undefined {
    return this.refunds.get(key(mchId, outRefundNo));
  }

  refundsOf(order: Order): Refund[] {
    return [...this.refunds.values()]
      .filter((r) => r.mchId === order.mchId && r.outTradeNo === order.outTradeNo)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  saveRefund(refund: Refund): Refund {
    this.refunds.set(key(refund.mchId, refund.outRefundNo), refund);
    this.onChange();
    return refund;
  }

  transfer(mchId: string, partnerTradeNo: string): Transfer | undefined {
    return this.transfers.get(key(mchId, partnerTradeNo));
  }

  saveTransfer(transfer: Transfer): Transfer {
    this.transfers.set(key(transfer.mchId, transfer.partnerTradeNo), transfer);
    this.onChange();
    return transfer;
  }

  redpack(mchId: string, mchBillno: string): Redpack | undefined {
    return this.redpacks.get(key(mchId, mchBillno));
  }

  saveRedpack(redpack: Redpack): Redpack {
    this.redpacks.set(key(redpack.mchId, redpack.mchBillno), redpack);
    this.onChange();
    return redpack;
  }

  bankPayout(mchId: string, partnerTradeNo: string): BankPayout | undefined {
    return this.bankPayouts.get(key(mchId, partnerTradeNo));
  }

  saveBankPayout(payout: BankPayout): BankPayout {
    this.bankPayouts.set(key(payout.mchId, payout.partnerTradeNo), payout);
    this.onChange();
    return payout;
  }

  stock(mchId: string, stockId: string): CouponStock | undefined {
    return this.stocks.get(key(mchId, stockId));
  }

  saveStock(stock: CouponStock): CouponStock {
    this.stocks.set(key(stock.mchId, stock.stockId), stock);
    this.onChange();
    return stock;
  }

  saveCoupon(coupon: Coupon): Coupon {
    this.coupons.set(key(coupon.mchId, coupon.couponId), coupon);
    this.onChange();
    return coupon;
  }

  coupon(mchId: string, couponId: string): Coupon | undefined {
    return this.coupons.get(key(mchId, couponId));
  }

  savePaymentCode(code: PaymentCode): PaymentCode {
    this.paymentCodes.set(code.authCode, code);
    this.onChange();
    return code;
  }

  // ---- money ----------------------------------------------------------------------------------

  balance(mchId: string): number {
    return this.balances.get(mchId) ?? DEFAULT_BALANCE;
  }

  /** Records a balance change. Callers check the balance first; this never refuses. */
  move(mchId: string, kind: MovementKind, amount: number, ref: string, bizNo: string, at: number): Movement {
    const balance = this.balance(mchId) + amount;
    this.balances.set(mchId, balance);
    const movement: Movement = { id: this.newId('fund'), mchId, at, kind, amount, balance, ref, bizNo };
    this.movements.push(movement);
    this.onChange();
    return movement;
  }

  /** Sets a balance outright (control API), recorded as an adjustment so the movements still add up. */
  setBalance(mchId: string, balance: number, at: number): void {
    this.move(mchId, 'adjustment', balance - this.balance(mchId), 'adjustment', this.newId('fund'), at);
  }

  movementsOf(mchId: string): Movement[] {
    return this.movements.filter((m) => m.mchId === mchId);
  }

  // ---- ids, shaped like WeChat's ----------------------------------------------------------------

  newId(
    kind:
      | 'transaction'
      | 'prepay'
      | 'refund'
      | 'payment'
      | 'sendlist'
      | 'detail'
      | 'coupon'
      | 'fund'
      | 'pr'
      | 'auth',
    at = 0,
  ): string {
    const r = this.#random;
    switch (kind) {
      case 'transaction':
        return `42000${r.digits(5)}${dateKey(at)}${r.digits(10)}`;
      case 'prepay':
        return `wx${compactTime(at)}${r.hex(18)}0000`;
      case 'refund':
        return `50300${r.digits(5)}${dateKey(at)}${r.digits(11)}`;
      case 'payment':
        return `10100${r.digits(5)}${dateKey(at)}${r.digits(14)}`;
      case 'sendlist':
        return `10000417012${dateKey(at)}${r.digits(10)}`;
      case 'detail':
        return `10000417012${dateKey(at)}${r.digits(10)}`;
      case 'coupon':
        return r.digits(10);
      case 'fund':
        return r.digits(20);
      case 'pr':
        return r.alnum(7);
      case 'auth':
        return `13${r.digits(16)}`;
    }
  }

  nonce(): string {
    return this.#random.alnum(32);
  }

  get random(): Random {
    return this.#random;
  }
}
