// The sandbox's identities: its CA, its HTTPS certificate and its merchants, created on first start
// and, with a data dir, written to disk so a restart (and any SDK pointed at the files) reuses them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueClientCert, issueServerCert, type KeyAndCert } from './pki.js';
import type { Random } from './random.js';

/** A merchant as a client needs it: ids, the APIv2 key and the client certificate. */
export interface Merchant {
  appid: string;
  mchId: string;
  /** The 32-character APIv2 key. */
  key: string;
  /** apiclient_cert.p12 */
  pfx: Buffer;
  /** The p12's passphrase: the mch_id, as WeChat does. */
  passphrase: string;
  /** apiclient_cert.pem */
  certPem: string;
  /** apiclient_key.pem */
  keyPem: string;
  /** The id of the coupon stock the sandbox seeds for this merchant. */
  couponStockId: string;
  /**
   * The H5 payment domains registered for it (商户平台 → 产品中心 → 开发配置 → H5支付域名), each covering its
   * subdomains. Empty or absent: any page that sends a Referer may open its mweb_urls.
   */
  h5Domains?: string[];
}

export interface Identities {
  ca: KeyAndCert;
  server: KeyAndCert;
  merchants: Merchant[];
}

interface StoredMerchant {
  appid: string;
  mchId: string;
  key: string;
  passphrase: string;
  couponStockId: string;
  h5Domains?: string[];
  files: { p12: string; cert: string; key: string };
}

const SERVER_HOSTS = ['localhost', '127.0.0.1', '::1'];

/** Makes a merchant with ids from the seeded random source and a certificate from the CA. */
/**
 * A new merchant whose mch_id and appid none of `existing` has. A seeded source restarts from its seed at
 * every start, so after a restart it draws again ids it gave out before.
 */
export function createMerchant(ca: KeyAndCert, random: Random, existing: readonly Merchant[] = []): Merchant {
  let mchId: string;
  let appid: string;
  do {
    mchId = `19${random.digits(8)}`;
    appid = `wx${random.hex(16)}`;
  } while (existing.some((m) => m.mchId === mchId || m.appid === appid));
  const cert = issueClientCert(ca, mchId);
  return {
    appid,
    mchId,
    key: random.alnum(32),
    couponStockId: random.digits(7),
    ...cert,
  };
}

function merchantFiles(dataDir: string, mchId: string) {
  const dir = join(dataDir, 'merchants', mchId);
  return {
    dir,
    p12: join(dir, 'apiclient_cert.p12'),
    cert: join(dir, 'apiclient_cert.pem'),
    key: join(dir, 'apiclient_key.pem'),
  };
}

function readPair(dataDir: string, name: string): KeyAndCert | undefined {
  const certPath = join(dataDir, `${name}.pem`);
  const keyPath = join(dataDir, `${name}-key.pem`);
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

function writePair(dataDir: string, name: string, pair: KeyAndCert): void {
  writeFileSync(join(dataDir, `${name}.pem`), pair.certPem);
  writeFileSync(join(dataDir, `${name}-key.pem`), pair.keyPem, { mode: 0o600 });
}

/** Writes one merchant's certificate files and returns where they are. */
function writeMerchant(dataDir: string, merchant: Merchant): StoredMerchant {
  const files = merchantFiles(dataDir, merchant.mchId);
  mkdirSync(files.dir, { recursive: true });
  writeFileSync(files.p12, merchant.pfx, { mode: 0o600 });
  writeFileSync(files.cert, merchant.certPem);
  writeFileSync(files.key, merchant.keyPem, { mode: 0o600 });
  const { appid, mchId, key, passphrase, couponStockId, h5Domains } = merchant;
  return {
    appid,
    mchId,
    key,
    passphrase,
    couponStockId,
    ...(h5Domains?.length ? { h5Domains } : {}),
    files: { p12: files.p12, cert: files.cert, key: files.key },
  };
}

/** Loads the identities from the data dir, or creates them (and, with a data dir, saves them). */
export function loadOrCreateIdentities(options: {
  dataDir: string | undefined;
  merchantCount: number;
  random: Random;
  /** A CA (and server certificate) to use instead of making new ones, when the data dir has none. */
  pki: { ca: KeyAndCert; server?: KeyAndCert } | undefined;
}): Identities {
  const { dataDir, random } = options;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const storedCa = dataDir ? readPair(dataDir, 'ca') : undefined;
  const ca = storedCa ?? options.pki?.ca ?? createCa();
  const server =
    (dataDir && readPair(dataDir, 'server')) ||
    (!storedCa && options.pki?.server) ||
    issueServerCert(ca, SERVER_HOSTS);
  const merchants: Merchant[] = dataDir ? readMerchants(dataDir) : [];
  while (merchants.length < options.merchantCount) merchants.push(createMerchant(ca, random, merchants));
  if (dataDir) {
    writePair(dataDir, 'ca', ca);
    writePair(dataDir, 'server', server);
    saveMerchants(dataDir, merchants);
  }
  return { ca, server, merchants };
}

function readMerchants(dataDir: string): Merchant[] {
  const path = join(dataDir, 'merchants.json');
  if (!existsSync(path)) return [];
  const stored = JSON.parse(readFileSync(path, 'utf8')) as { merchants: StoredMerchant[] };
  return stored.merchants.map((m) => ({
    appid: m.appid,
    mchId: m.mchId,
    key: m.key,
    passphrase: m.passphrase,
    couponStockId: m.couponStockId,
    ...(m.h5Domains?.length ? { h5Domains: m.h5Domains } : {}),
    pfx: readFileSync(m.files.p12),
    certPem: readFileSync(m.files.cert, 'utf8'),
    keyPem: readFileSync(m.files.key, 'utf8'),
  }));
}

/** Rewrites merchants.json (and each merchant's files) after a merchant was added. */
export function saveMerchants(dataDir: string, merchants: readonly Merchant[]): void {
  const stored = merchants.map((m) => writeMerchant(dataDir, m));
  writeFileSync(join(dataDir, 'merchants.json'), `${JSON.stringify({ merchants: stored }, null, 2)}\n`, {
    mode: 0o600,
  });
}
