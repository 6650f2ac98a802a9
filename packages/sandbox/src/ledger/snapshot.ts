// The ledger as JSON, for a data dir: what is written, how it is checked when read, and how it becomes a
// Ledger again. Pure; persistence.ts does the file I/O.
import type { NotifierSnapshot } from '../notifier.js';
import { Random, type RandomState } from '../random.js';
import type { BankPayout } from './bank.js';
import type { Coupon, CouponStock } from './coupons.js';
import { Ledger, type Movement, type PaymentCode } from './ledger.js';
import type { Order } from './orders.js';
import type { Redpack, Transfer } from './payouts.js';
import type { Refund } from './refunds.js';

/** Bumped whenever a stored record's shape changes; a file of another version is refused, never guessed at. */
export const SNAPSHOT_VERSION = 1;

export interface LedgerSnapshot {
  version: typeof SNAPSHOT_VERSION;
  /** Simulated and real time (epoch ms) when written: the clock resumes at the same distance from real time. */
  clock: { simulated: number; real: number };
  /** Where the ledger's id source stood, so that a restart with the same seed issues no id twice. */
  random: RandomState;
  orders: Order[];
  refunds: Refund[];
  transfers: Transfer[];
  redpacks: Redpack[];
  bankPayouts: BankPayout[];
  stocks: CouponStock[];
  coupons: Coupon[];
  paymentCodes: PaymentCode[];
  movements: Movement[];
  balances: Array<[mchId: string, balance: number]>;
  /** The notify log and the notifies still being retried. Absent from files written before it was kept. */
  notifies?: NotifierSnapshot;
}

const COLLECTIONS = [
  'orders',
  'refunds',
  'transfers',
  'redpacks',
  'bankPayouts',
  'stocks',
  'coupons',
  'paymentCodes',
  'movements',
  'balances',
] as const;

export function snapshotOf(
  ledger: Ledger,
  clock: { simulated: number; real: number },
  notifies?: NotifierSnapshot,
): LedgerSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    clock,
    random: ledger.random.state,
    orders: [...ledger.orders.values()],
    refunds: [...ledger.refunds.values()],
    transfers: [...ledger.transfers.values()],
    redpacks: [...ledger.redpacks.values()],
    bankPayouts: [...ledger.bankPayouts.values()],
    stocks: [...ledger.stocks.values()],
    coupons: [...ledger.coupons.values()],
    paymentCodes: [...ledger.paymentCodes.values()],
    movements: ledger.movements,
    balances: [...ledger.balances],
    ...(notifies ? { notifies } : {}),
  };
}

/** The Ledger a snapshot describes (the save methods rebuild the lookup keys). */
export function ledgerFromSnapshot(snapshot: LedgerSnapshot): Ledger {
  const ledger = new Ledger(Random.fromState(snapshot.random));
  for (const order of snapshot.orders) ledger.saveOrder(order);
  for (const refund of snapshot.refunds) ledger.saveRefund(refund);
  for (const transfer of snapshot.transfers) ledger.saveTransfer(transfer);
  for (const redpack of snapshot.redpacks) ledger.saveRedpack(redpack);
  for (const payout of snapshot.bankPayouts) ledger.saveBankPayout(payout);
  for (const stock of snapshot.stocks) ledger.saveStock(stock);
  for (const coupon of snapshot.coupons) ledger.saveCoupon(coupon);
  for (const code of snapshot.paymentCodes) ledger.savePaymentCode(code);
  ledger.movements.push(...snapshot.movements);
  for (const [mchId, balance] of snapshot.balances) ledger.balances.set(mchId, balance);
  return ledger;
}

/** Parses a stored ledger; a refusal says what is wrong with it. */
export function parseSnapshot(
  text: string,
): { ok: true; value: LedgerSnapshot } | { ok: false; reason: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `it is not JSON (${(error as Error).message})` };
  }
  if (typeof data !== 'object' || data === null) return { ok: false, reason: 'it is not a JSON object' };
  const stored = data as Partial<Record<keyof LedgerSnapshot, unknown>>;
  if (stored.version !== SNAPSHOT_VERSION) {
    return {
      ok: false,
      reason: `its version is ${JSON.stringify(stored.version)}, this sandbox reads version ${SNAPSHOT_VERSION}`,
    };
  }
  const missing: string[] = COLLECTIONS.filter((name) => !Array.isArray(stored[name]));
  const clock = stored.clock as Partial<LedgerSnapshot['clock']> | undefined;
  if (typeof clock?.simulated !== 'number' || typeof clock.real !== 'number') missing.push('clock');
  const random = stored.random;
  if (!Array.isArray(random) || random.length !== 4 || !random.every(Number.isInteger))
    missing.push('random');
  const notifies = stored.notifies as Partial<NotifierSnapshot> | undefined;
  if (notifies !== undefined && !(Array.isArray(notifies?.records) && Array.isArray(notifies.pending)))
    missing.push('notifies');
  if (missing.length > 0) return { ok: false, reason: `it lacks or has malformed ${missing.join(', ')}` };
  return { ok: true, value: data as LedgerSnapshot };
}

/** The simulated time to resume at: where the clock stood, plus the real time that has passed since. */
export function resumeTime(clock: LedgerSnapshot['clock'], realNow: number): number {
  return clock.simulated + Math.max(0, realNow - clock.real);
}
