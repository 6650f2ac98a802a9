// A plain-HTTP stand-in for WeChat's host that forwards each call, byte for byte, to the sandbox over mutual TLS,
// and can lose a reply after the sandbox acted or answer in WeChat's place: the faults the sandbox cannot make
// (a refusal on the SDK's resend of a payout, a return_code FAIL after a refund landed), or pass a call on with
// extra headers (the sandbox's Wechatpay-Negative-Test, which no SDK call sends).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Merchant, Sandbox } from '@wxpay/sandbox';
import { WechatPay } from '@wxpay/sdk';
import { signedReply } from '../../../sdk/test/support/mock-wechat.ts';
import type { ServiceContext } from '../../src/domain/context.ts';

/**
 * What the proxy does with one call: pass it on; pass it on and then cut the connection without answering
 * (WeChat acted, the reply is lost); answer `body` itself without passing the call on; or pass it on with
 * these headers added.
 */
export type ProxyStep = 'forward' | 'lose_reply' | { answer: string } | { headers: Record<string, string> };

export interface WechatProxy {
  /** Use as the WeChat base URL (http://127.0.0.1:port). */
  url: string;
  /** The next calls to `path` (e.g. /secapi/pay/refund) take these steps, in order; then calls are forwarded. */
  plan(path: string, ...steps: ProxyStep[]): void;
  /** Drops every step not taken yet. */
  clear(): void;
  /** Every path called, in order. */
  calls: string[];
  close(): Promise<void>;
}

export async function startWechatProxy(sandbox: Sandbox, merchant: Merchant): Promise<WechatProxy> {
  const plans = new Map<string, ProxyStep[]>();
  const calls: string[] = [];
  const forward = (path: string, body: Buffer, extraHeaders: Record<string, string> = {}) =>
    new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
      const upstream = request(
        `${sandbox.url}${path}`,
        {
          method: 'POST',
          headers: {
            'content-type': 'text/xml; charset=utf-8',
            'content-length': body.length,
            ...extraHeaders,
          },
          ca: sandbox.caCert,
          pfx: merchant.pfx,
          passphrase: merchant.passphrase,
        },
        async (reply) => {
          const chunks: Buffer[] = [];
          try {
            for await (const chunk of reply) chunks.push(chunk as Buffer);
          } catch (error) {
            reject(error);
            return;
          }
          resolve({
            status: reply.statusCode ?? 502,
            type: String(reply.headers['content-type'] ?? 'text/xml'),
            body: Buffer.concat(chunks),
          });
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '/').split('?')[0]!;
    calls.push(path);
    const step = plans.get(path)?.shift() ?? 'forward';
    if (typeof step === 'object' && 'answer' in step) {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(step.answer);
      return;
    }
    try {
      const reply = await forward(path, Buffer.concat(chunks), typeof step === 'object' ? step.headers : {});
      if (step === 'lose_reply') {
        res.socket?.destroy();
        return;
      }
      res.writeHead(reply.status, { 'content-type': reply.type }).end(reply.body);
    } catch {
      // The sandbox cut the call (its timeout fault): so does the proxy.
      res.socket?.destroy();
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    plan: (path, ...steps) => plans.set(path, [...(plans.get(path) ?? []), ...steps]),
    clear: () => plans.clear(),
    calls,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Runs `run` with the gateway's WeChat calls going through `proxy`, then goes direct again. */
export async function viaProxy<T>(
  ctx: ServiceContext,
  proxy: WechatProxy,
  merchant: Merchant,
  timeoutMs: number,
  run: () => Promise<T>,
): Promise<T> {
  const direct = ctx.wechat;
  const client = new WechatPay({
    appid: merchant.appid,
    mchId: merchant.mchId,
    key: merchant.key,
    baseUrl: proxy.url,
    timeoutMs,
    clientCert: { pfx: merchant.pfx, passphrase: merchant.passphrase },
  });
  ctx.wechat = () => client;
  try {
    return await run();
  } finally {
    ctx.wechat = direct;
    await client.close();
  }
}

/**
 * A reply (or a notify) as WeChat would sign it for the sandbox's `merchant`: MD5 with its key, its appid and
 * mch_id, return_code and result_code SUCCESS unless `fields` say otherwise. For the answers the sandbox never
 * gives (a refusal on a renewal, a paid failed order).
 */
export function signedFor(merchant: Merchant, fields: Record<string, string>): string {
  return signedReply({ appid: merchant.appid, mch_id: merchant.mchId, ...fields }, 'MD5', merchant.key);
}
