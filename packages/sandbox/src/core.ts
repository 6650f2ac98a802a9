// The sandbox's state and the payer-side operations on it; the HTTP layers (wire and control) call in here.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AppParams, JsapiParams } from '@wxpay/sdk';
import { Clock } from './clock.js';
import { seedCouponStock } from './endpoints/coupons.js';
import type { Services } from './endpoints/types.js';
import { Faults } from './faults.js';
import { parseH5Domains } from './h5-referer.js';
import { Ledger, type Movement } from './ledger/ledger.js';
import type { Order, PayOutcome } from './ledger/orders.js';
import { openRedpack, type Redpack } from './ledger/payouts.js';
import { ledgerFromSnapshot, resumeTime, snapshotOf } from './ledger/snapshot.js';
import { createMerchant, type Identities, type Merchant, saveMerchants } from './merchants.js';
import { Notifier, type NotifyRecord } from './notifier.js';
import { findPayable, newOpenid, payOrder } from './payments.js';
import { LedgerWriter, readLedgerFile } from './persistence.js';
import { Random } from './random.js';
import { RateLimiter } from './rate-limit.js';
import { ok, type Result, refuse } from './result.js';
import { resumeInFlight } from './resume.js';

/** WeChat hands out its bank-payout key as PKCS#1 PEM. In memory: clients fetch it again after a restart. */
function makeBankKey(): { publicPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicPem: publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(), privateKey };
}

export type { PayOutcome } from './ledger/orders.js';

/**
 * What the payer pays with: the exact parameters a merchant hands WeChat's client (`jsapi`: those of
 * getBrandWCPayRequest, `app`: those of PayReq), checked as the client checks them; or what a payer holds
 * (`code_url`, `prepay_id`, `mweb_url`, `mch_id` + `out_trade_no`), taken on trust. Any object is accepted,
 * so that hand-built (even malformed) parameters can be tried; one that names no order is PARAM_ERROR.
 */
export type PayTarget = { jsapi: JsapiParams } | { app: AppParams } | Record<string, unknown>;

/** An order as the control API shows it. */
export interface OrderView {
  mch_id: string;
  appid: string;
  out_trade_no: string;
  transaction_id: string;
  trade_type: string;
  trade_state: string;
  body: string;
  total_fee: number;
  refunded_fee: number;
  openid: string | null;
  prepay_id: string | null;
  code_url: string | null;
  mweb_url: string | null;
  created_at: string;
  paid_at: string | null;
}

export function orderView(o: Order): OrderView {
  return {
    mch_id: o.mchId,
    appid: o.appid,
    out_trade_no: o.outTradeNo,
    transaction_id: o.transactionId,
    trade_type: o.tradeType,
    trade_state: o.state,
    body: o.body,
    total_fee: o.totalFee,
    refunded_fee: o.refundedFee,
    openid: o.openid ?? null,
    prepay_id: o.prepayId ?? null,
    code_url: o.codeUrl ?? null,
    mweb_url: o.mwebUrl ?? null,
    created_at: new Date(o.createdAt).toISOString(),
    paid_at: o.paidAt === undefined ? null : new Date(o.paidAt).toISOString(),
  };
}

export interface CoreOptions {
  identities: Identities;
  dataDir: string | undefined;
  random: Random;
  timeScale: number;
  startTime: number | undefined;
  qpsLimits: boolean;
}

export class SandboxCore {
  readonly random: Random;
  readonly clock: Clock;
  readonly ledger: Ledger;
  readonly faults: Faults;
  readonly notifier: Notifier;
  readonly identities: Identities;
  readonly services: Services;
  readonly #dataDir: string | undefined;
  readonly #writer: LedgerWriter | undefined;
  #bankKey: { publicPem: string; privateKey: KeyObject } | undefined;
  url = '';

  constructor(options: CoreOptions) {
    this.random = options.random;
    this.identities = options.identities;
    this.#dataDir = options.dataDir;
    // A stored ledger brings its clock along, so that its times stay in the past (it wins over startTime).
    const stored = options.dataDir ? readLedgerFile(options.dataDir) : undefined;
    this.clock = new Clock({
      timeScale: options.timeScale,
      startTime: stored ? resumeTime(stored.clock, Date.now()) : options.startTime,
    });
    // Separate streams, so that adding a fault rule does not shift the ids handed out afterwards.
    const ledgerSeed = `${this.random.alnum(16)}:ledger`;
    this.ledger = stored ? ledgerFromSnapshot(stored) : new Ledger(new Random(ledgerSeed));
    this.faults = new Faults(new Random(`${this.random.alnum(16)}:faults`));
    this.notifier = new Notifier(this.clock, this.faults);
    this.services = {
      ledger: this.ledger,
      clock: this.clock,
      notifier: this.notifier,
      baseUrl: () => this.url,
      merchantById: (mchId) => this.identities.merchants.find((m) => m.mchId === mchId),
      rateLimiter: options.qpsLimits ? new RateLimiter() : undefined,
      bankKey: () => {
        this.#bankKey ??= makeBankKey();
        return this.#bankKey;
      },
    };
    if (options.dataDir) {
      const writer = new LedgerWriter(options.dataDir, () =>
        snapshotOf(this.ledger, { simulated: this.clock.now(), real: Date.now() }, this.notifier.snapshot()),
      );
      this.ledger.onChange = () => writer.changed();
      this.notifier.onChange = () => writer.changed();
      this.#writer = writer;
    }
    for (const merchant of this.identities.merchants) this.#seedCouponStock(merchant);
    if (stored?.notifies) this.notifier.restore(stored.notifies);
    resumeInFlight(this.services);
  }

  /** Writes what the data dir does not have yet; called once the clock and server have stopped. */
  flush(): void {
    this.#writer?.flush();
  }

  #seedCouponStock(merchant: Merchant): void {
    if (!this.ledger.stock(merchant.mchId, merchant.couponStockId))
      seedCouponStock(this.ledger, merchant, this.clock.now());
  }

  get merchants(): Merchant[] {
    return this.identities.merchants;
  }

  addMerchant(): Merchant {
    const merchant = createMerchant(this.identities.ca, this.random, this.identities.merchants);
    this.identities.merchants.push(merchant);
    this.#seedCouponStock(merchant);
    if (this.#dataDir) saveMerchants(this.#dataDir, this.identities.merchants);
    return merchant;
  }

  /** Plays the payer on the order the target names (see PayTarget). */
  pay(target: PayTarget, outcome: PayOutcome = 'SUCCESS', openid?: string): Result<OrderView> {
    const found = findPayable(this.services, target);
    if (!found.ok) return found;
    const paid = payOrder(this.services, found.value, outcome, openid);
    return paid.ok ? ok(orderView(paid.value)) : paid;
  }

  /** A one-time 18-digit payment code (付款码) for micropay. */
  paymentCode(openid?: string): { auth_code: string; openid: string } {
    const code = this.ledger.savePaymentCode({
      authCode: this.ledger.newId('auth'),
      openid: openid || newOpenid(this.services),
      used: false,
    });
    return { auth_code: code.authCode, openid: code.openid };
  }

  /** A receiver opens a red packet (one share of a fission packet). */
  openRedpack(
    mchBillno: string,
    options: { openid?: string; mchId?: string } = {},
  ): Result<{ amount: number; redpack: Redpack }> {
    const candidates = [...this.ledger.redpacks.values()].filter(
      (r) => r.mchBillno === mchBillno && (!options.mchId || r.mchId === options.mchId),
    );
    const redpack = candidates[0];
    if (!redpack) return refuse('NOT_FOUND', 'no such red packet');
    const openid =
      options.openid || (redpack.hbType === 'NORMAL' ? redpack.reOpenid : newOpenid(this.services));
    const opened = openRedpack(redpack, openid, this.clock.now());
    if (!opened.ok) return opened;
    this.ledger.saveRedpack(opened.value.redpack);
    return ok(opened.value);
  }

  setBalance(mchId: string, balance: number): Result<number> {
    if (!this.services.merchantById(mchId)) return refuse('NOT_FOUND', 'no such merchant');
    if (!Number.isSafeInteger(balance) || balance < 0)
      return refuse('PARAM_ERROR', 'balance must be whole fen ≥ 0');
    this.ledger.setBalance(mchId, balance, this.clock.now());
    return ok(balance);
  }

  /** Registers a merchant's H5 payment domains (replacing the earlier ones; [] for none), kept in the data dir. */
  setH5Domains(mchId: string, value: unknown): Result<string[]> {
    const merchant = this.services.merchantById(mchId);
    if (!merchant) return refuse('NOT_FOUND', 'no such merchant');
    const domains = parseH5Domains(value);
    if (!domains.ok) return domains;
    if (domains.value.length) merchant.h5Domains = domains.value;
    else delete merchant.h5Domains;
    if (this.#dataDir) saveMerchants(this.#dataDir, this.identities.merchants);
    return domains;
  }

  /** Every money movement of a merchant, with the records behind them, for reconciliation. */
  ledgerOf(mchId: string): {
    mch_id: string;
    balance: number;
    movements: Array<Omit<Movement, 'at'> & { at: string }>;
    orders: OrderView[];
  } {
    return {
      mch_id: mchId,
      balance: this.ledger.balance(mchId),
      movements: this.ledger.movementsOf(mchId).map((m) => ({ ...m, at: new Date(m.at).toISOString() })),
      orders: [...this.ledger.orders.values()].filter((o) => o.mchId === mchId).map(orderView),
    };
  }

  notifies(filter: { mchId?: string; ref?: string } = {}): NotifyRecord[] {
    return this.notifier.records.filter(
      (r) => (!filter.mchId || r.mchId === filter.mchId) && (!filter.ref || r.ref === filter.ref),
    );
  }

  /** Looks an order up by what a payer holds (code_url, prepay_id or mweb_url), or says why it cannot be used. */
  orderFor(target: Record<string, unknown>): Result<Order> {
    return findPayable(this.services, target);
  }
}
