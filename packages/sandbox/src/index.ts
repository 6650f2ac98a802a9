// @wxpay/sandbox: a stateful simulator of WeChat Pay's v2 merchant API servers.
import { type PayOutcome, type PayTarget, SandboxCore } from './core.js';
import { lockDataDir } from './data-dir-lock.js';
import type { FaultInput, FaultRule } from './faults.js';
import { loadOrCreateIdentities, type Merchant } from './merchants.js';
import type { NotifyRecord } from './notifier.js';
import type { KeyAndCert } from './pki.js';
import { Random } from './random.js';
import { createServer } from './server.js';

export interface SandboxOptions {
  /** TCP port; 0 (the default) picks a free one. The CLI uses 8443. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /**
   * Where the CA, server certificate, merchants and ledger (ledger.json) are kept across restarts. Without it
   * all is in memory. A ledger.json this version cannot read makes the start fail with LedgerFileError.
   */
  dataDir?: string;
  /** Simulated seconds per real second. Default 1; 1000 turns 24 h of notify retries into ~86 s. */
  timeScale?: number;
  /** Makes ids, keys, nonces and random splits reproducible. */
  seed?: string | number;
  /** How many merchants to have (at least). Default 1. */
  merchants?: number;
  /** The simulated time at start, epoch ms. Default: now. Ignored when dataDir holds a ledger: its clock resumes. */
  startTime?: number;
  /**
   * Enforce WeChat's published QPS limits (unifiedorder 60, orderquery 300, refund 150,
   * refundquery 300 per merchant and simulated second) with FREQUENCY_LIMITED. Default false.
   */
  qpsLimits?: boolean;
  /**
   * Reuse a CA (and its server certificate for localhost/127.0.0.1/::1) instead of generating RSA
   * keys on every start; tests that start many sandboxes use it. A data dir's own CA wins.
   */
  pki?: { ca: KeyAndCert; server?: KeyAndCert };
}

export interface Sandbox {
  /** e.g. https://127.0.0.1:8443 — use it as the SDK's baseUrl. */
  url: string;
  port: number;
  /** The sandbox CA (PEM): trust it as the SDK's `ca`. */
  caCert: string;
  /** The merchants; grows when addMerchant() is called. */
  merchants: Merchant[];
  /** Adds a merchant (saved to the data dir when there is one). */
  addMerchant(): Merchant;
  /**
   * Registers a merchant's H5 payment domains, as PUT /sandbox/v1/merchants/{mch_id}/h5_domains does: its mweb_urls
   * then open only from (and return only to) those hosts or their subdomains. [] accepts any Referer again.
   */
  setH5Domains(mchId: string, domains: string[]): ReturnType<SandboxCore['setH5Domains']>;
  /** Simulated time. */
  clock: { now(): number; advance(seconds: number): Promise<void>; readonly timeScale: number };
  /**
   * Plays the payer, as POST /sandbox/v1/pay does: with `{ jsapi }` or `{ app }` the client's parameters are
   * checked as WeChat's client does, and a refusal's `error.des` says which check failed and how to fix it.
   */
  pay(target: PayTarget, options?: { outcome?: PayOutcome; openid?: string }): ReturnType<SandboxCore['pay']>;
  /** A one-time 18-digit micropay code, as POST /sandbox/v1/payment_codes does. */
  paymentCode(openid?: string): { auth_code: string; openid: string };
  /** Every notify raised so far, with each attempt's offset. */
  notifies(filter?: { mchId?: string; ref?: string }): NotifyRecord[];
  /** The money movements of a merchant, as GET /sandbox/v1/ledger does. */
  ledger(mchId: string): ReturnType<SandboxCore['ledgerOf']>;
  faults: { add(rule: FaultInput): FaultRule; clear(): void; list(): FaultRule[] };
  /** Stops the server and every timer, and writes the ledger to the data dir if there is one. */
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  // Before anything in the data dir is read: a second sandbox on it would overwrite the first one's ledger.
  const lock = options.dataDir ? lockDataDir(options.dataDir) : undefined;
  try {
    return await startHolding(options, () => lock?.release());
  } catch (error) {
    lock?.release();
    throw error;
  }
}

/** Starts a sandbox whose data dir (if any) is already this process's; `release` gives it up once closed. */
async function startHolding(options: SandboxOptions, release: () => void): Promise<Sandbox> {
  const random = new Random(options.seed);
  const identities = loadOrCreateIdentities({
    dataDir: options.dataDir,
    merchantCount: Math.max(1, options.merchants ?? 1),
    random,
    pki: options.pki,
  });
  const core = new SandboxCore({
    identities,
    dataDir: options.dataDir,
    random,
    timeScale: options.timeScale ?? 1,
    startTime: options.startTime,
    qpsLimits: options.qpsLimits ?? false,
  });
  const { app, releaseHeld } = createServer(core);
  // Nothing may run or write once the data dir is given up, after close() as after a failed listen.
  const stop = async () => {
    releaseHeld();
    await core.clock.close();
    await app.close();
    core.flush();
  };
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port: options.port ?? 0, host });
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  core.url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url: core.url,
    port,
    caCert: identities.ca.certPem,
    merchants: core.merchants,
    addMerchant: () => core.addMerchant(),
    setH5Domains: (mchId, domains) => core.setH5Domains(mchId, domains),
    clock: core.clock,
    pay: (target, payOptions = {}) => core.pay(target, payOptions.outcome ?? 'SUCCESS', payOptions.openid),
    paymentCode: (openid) => core.paymentCode(openid),
    notifies: (filter) => core.notifies(filter),
    ledger: (mchId) => core.ledgerOf(mchId),
    faults: {
      add: (rule) => core.faults.add(rule),
      clear: () => core.faults.clear(),
      list: () => core.faults.list(),
    },
    close() {
      closing ??= stop().finally(release);
      return closing;
    },
  };
}

export type { PayOutcome, PayTarget } from './core.js';
export { DataDirLockedError, LOCK_FILE } from './data-dir-lock.js';
export { ENDPOINT_TABLE } from './endpoints/index.js';
export type { EndpointDef } from './endpoints/types.js';
export type { FaultInput, FaultKind, FaultRule } from './faults.js';
export { ENDPOINT_FAULTS, NOTIFY_FAULTS } from './faults.js';
export type { Merchant } from './merchants.js';
export type { NotifyAttempt, NotifyRecord } from './notifier.js';
export { RETRY_SCHEDULE_SECONDS } from './notifier.js';
export { LEDGER_FILE, LedgerFileError } from './persistence.js';
export {
  commonNameOf,
  createCa,
  issueClientCert,
  issueServerCert,
  type KeyAndCert,
  toPkcs12,
} from './pki.js';
export { QPS_LIMITS } from './rate-limit.js';
