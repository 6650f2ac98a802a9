// A small HTTPS stand-in for WeChat used by the SDK's own tests: real TLS, a real client-certificate
// check, and handlers the test supplies per path. It records every request it receives.
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type ClientCertificate,
  createCa,
  issueClientCert,
  issueServerCert,
  type KeyAndCert,
} from '../../../sandbox/src/pki.ts';
import { buildXml, parseXml, type SignType, sign } from '../../src/index.ts';

export const MERCHANT = {
  appid: 'wx2421b1c4370ec43b',
  mchId: '1900000109',
  key: '192006250b4c09247ec02edce69f6a2d',
} as const;

export interface RecordedRequest {
  path: string;
  body: string;
  fields: Record<string, string>;
  /** The common name of the client certificate presented, if any. */
  clientCn: string | undefined;
}

export interface Reply {
  status?: number;
  body: string | Buffer;
  contentType?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface MockWechat {
  url: string;
  ca: KeyAndCert;
  clientCert: ClientCertificate;
  /** A certificate from the same CA for another merchant. */
  otherClientCert: ClientCertificate;
  requests: RecordedRequest[];
  on(path: string, handler: Handler): void;
  close(): Promise<void>;
}

/** Paths that require the client certificate, as WeChat's do. */
const CERT_PATHS = new Set([
  '/secapi/pay/reverse',
  '/secapi/pay/refund',
  '/pay/downloadfundflow',
  '/mmpaymkttransfers/promotion/transfers',
  '/mmpaymkttransfers/gettransferinfo',
  '/mmpaymkttransfers/sendredpack',
  '/mmpaymkttransfers/sendgroupredpack',
  '/mmpaymkttransfers/gethbinfo',
  '/mmpaymkttransfers/send_coupon',
  '/mmpaysptrans/pay_bank',
  '/mmpaysptrans/query_bank',
  '/risk/getpublickey',
]);

let pkiCache:
  | { ca: KeyAndCert; server: KeyAndCert; client: ClientCertificate; other: ClientCertificate }
  | undefined;
function pki() {
  if (!pkiCache) {
    const ca = createCa('mock wechat CA');
    pkiCache = {
      ca,
      server: issueServerCert(ca, ['localhost', '127.0.0.1']),
      client: issueClientCert(ca, MERCHANT.mchId),
      other: issueClientCert(ca, '1900000999'),
    };
  }
  return pkiCache;
}

export async function startMockWechat(): Promise<MockWechat> {
  const { ca, server: serverCert, client, other } = pki();
  const handlers = new Map<string, Handler>();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer(
    {
      cert: serverCert.certPem,
      key: serverCert.keyPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const socket = req.socket as TLSSocket;
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      let fields: Record<string, string> = {};
      try {
        fields = parseXml(body);
      } catch {}
      const recorded = { path, body, fields, clientCn: peer?.subject?.CN as string | undefined };
      requests.push(recorded);
      let reply: Reply;
      if (CERT_PATHS.has(path) && recorded.clientCn !== MERCHANT.mchId) {
        reply = { body: failReply(recorded.clientCn ? '证书与商户号不匹配' : '请使用证书') };
      } else {
        const handler = handlers.get(path);
        reply = handler ? await handler(recorded) : { status: 404, body: 'no handler' };
      }
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (res.destroyed) return;
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/xml; charset=utf-8' });
      res.end(reply.body);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    ca,
    clientCert: client,
    otherClientCert: other,
    requests,
    on: (path, handler) => handlers.set(path, handler),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A signed success reply, as WeChat sends for signed endpoints. */
export function signedReply(
  fields: Record<string, string>,
  signType: SignType = 'MD5',
  key: string = MERCHANT.key,
): string {
  const all: Record<string, string> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: MERCHANT.appid,
    mch_id: MERCHANT.mchId,
    nonce_str: 'reply0nonce',
    result_code: 'SUCCESS',
    ...fields,
  };
  return buildXml({ ...all, sign: sign(all, key, signType) });
}

/** An unsigned reply (payout endpoints). */
export function unsignedReply(fields: Record<string, string>): string {
  return buildXml({ return_code: 'SUCCESS', return_msg: 'OK', result_code: 'SUCCESS', ...fields });
}

export function failReply(returnMsg: string): string {
  return buildXml({ return_code: 'FAIL', return_msg: returnMsg });
}
