// Test helpers: a sandbox with SDK clients, raw HTTPS calls, the control API, and a notify receiver.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { get, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { buildXml, nonce, parseXml, type SignType, sign, WechatPay } from '@wxpay/sdk';
import {
  createCa,
  issueServerCert,
  type KeyAndCert,
  type Merchant,
  type Sandbox,
  type SandboxOptions,
  startSandbox,
} from '../src/index.ts';

let sharedPki: { ca: KeyAndCert; server: KeyAndCert } | undefined;
/** One CA and server certificate for every test sandbox: RSA key generation is the slow part of a start. */
export function testPki(): { ca: KeyAndCert; server: KeyAndCert } {
  if (!sharedPki) {
    const ca = createCa('wxpay sandbox test CA');
    sharedPki = { ca, server: issueServerCert(ca, ['localhost', '127.0.0.1', '::1']) };
  }
  return sharedPki;
}

export function clientFor(
  sandbox: Sandbox,
  merchant: Merchant,
  options: {
    signType?: SignType;
    retries?: number;
    timeoutMs?: number;
    /** Sandbox mode: the sandbox sign key from getsignkey, and the base URL becomes <url>/sandboxnew. */
    sandboxKey?: string;
  } = {},
) {
  return new WechatPay({
    appid: merchant.appid,
    mchId: merchant.mchId,
    key: options.sandboxKey ?? merchant.key,
    signType: options.signType ?? 'MD5',
    clientCert: { pfx: merchant.pfx, passphrase: merchant.passphrase },
    baseUrl: options.sandboxKey ? `${sandbox.url}/sandboxnew` : sandbox.url,
    ca: sandbox.caCert,
    retries: options.retries ?? 0,
    timeoutMs: options.timeoutMs ?? 5000,
  });
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  bytes: Buffer;
  fields: Record<string, string> | undefined;
}

/** POSTs a body as is, optionally presenting a client certificate. */
export function rawPost(
  url: string,
  body: string,
  options: {
    ca: string;
    cert?: { pfx: Buffer; passphrase: string };
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: options.ca,
        agent: false,
        ...(options.cert ?? {}),
        headers: { 'content-type': 'text/xml', ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          let fields: Record<string, string> | undefined;
          try {
            fields = parseXml(text);
          } catch {
            fields = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, bytes, fields });
        });
      },
    );
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Signs hand-built fields with the merchant's key and returns the XML. */
export function signedXml(fields: Record<string, string>, key: string, signType: SignType = 'MD5'): string {
  const all = { nonce_str: nonce(), ...fields };
  return buildXml({ ...all, sign: sign(all, key, signType) });
}

/** Calls the control API with JSON. */
export function control(
  sandbox: Sandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${sandbox.url}${path}`,
      {
        method,
        ca: sandbox.caCert,
        agent: false,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text.startsWith('{') ? JSON.parse(text) : { text } });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * GETs a page of the sandbox (the payer's browser opening a code_url page or an mweb_url). A browser following a
 * merchant's link to an mweb_url sends that page's Referer: give it in `headers` (FROM_SHOP).
 */
export function getPage(
  url: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    }).on('error', reject);
  });
}

/** What a browser sends when the payer taps a merchant's link on https://shop.example (origin only, by default). */
export const FROM_SHOP = { referer: 'https://shop.example/' };

export interface NotifySink {
  url: string;
  received: Array<{ body: string; at: number }>;
  /** Decides the answer to each notify; default SUCCESS. */
  answer: (body: string, index: number) => string;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const SUCCESS_ANSWER = buildXml({ return_code: 'SUCCESS', return_msg: 'OK' });
export const FAIL_ANSWER = buildXml({ return_code: 'FAIL', return_msg: 'not yet' });

/** A merchant's notify endpoint on plain HTTP. */
export async function notifySink(): Promise<NotifySink> {
  const sink: NotifySink = {
    url: '',
    received: [],
    answer: () => SUCCESS_ANSWER,
    async waitFor(count, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (sink.received.length < count) {
        if (Date.now() > until) throw new Error(`expected ${count} notifies, got ${sink.received.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      sink.received.push({ body, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/xml' }).end(sink.answer(body, sink.received.length - 1));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  return sink;
}

export async function start(options: SandboxOptions = {}) {
  const sandbox = await startSandbox({ seed: 'tests', pki: testPki(), ...options });
  const merchant = sandbox.merchants[0]!;
  return { sandbox, merchant, pay: clientFor(sandbox, merchant) };
}

/** A sandbox with an MD5 and an HMAC-SHA256 client of its first merchant and a notify receiver; `close` ends all. */
export async function startPaying(options: SandboxOptions = {}) {
  const started = await start(options);
  const hmac = clientFor(started.sandbox, started.merchant, { signType: 'HMAC-SHA256' });
  const sink = await notifySink();
  return {
    ...started,
    hmac,
    sink,
    async close() {
      await started.pay.close();
      await hmac.close();
      await sink.close();
      await started.sandbox.close();
    },
  };
}

let counter = 0;
/** A fresh, valid out_trade_no. */
export function tradeNo(prefix = 'T'): string {
  counter += 1;
  return `${prefix}${Date.now()}${counter}`;
}
