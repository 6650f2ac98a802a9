// HTTPS to WeChat over undici: keep-alive, mutual TLS, timeouts, and errors that say what to fix.
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { ClientCertTls } from './certificate.js';
import { TransportError } from './errors.js';

export interface TransportOptions {
  clientCert: ClientCertTls | undefined;
  ca: string | Buffer | Array<string | Buffer> | undefined;
  timeoutMs: number;
}

export interface RawReply {
  status: number;
  body: Readable;
}

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Sends request bodies and hands back the reply stream; one keep-alive pool per client. */
export class Transport {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(options: TransportOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#agent = new Agent({
      keepAliveTimeout: 30_000,
      connect: {
        ...(options.clientCert ?? {}),
        ...(options.ca ? { ca: options.ca } : {}),
        timeout: options.timeoutMs,
      },
    });
  }

  async post(url: string, body: string, endpoint: string): Promise<RawReply> {
    try {
      const reply = await request(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/xml; charset=utf-8', 'user-agent': 'wxpay-sdk/0.1 (node)' },
        dispatcher: this.#agent,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { status: reply.statusCode, body: reply.body };
    } catch (error) {
      throw describeTransportFailure(error, endpoint, this.#timeoutMs);
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** Reads a reply stream into text, refusing more than `maxBytes`. */
export async function readText(
  body: Readable,
  maxBytes: number,
  endpoint: string,
  timeoutMs: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        body.destroy();
        throw new TransportError('HTTP_STATUS', `reply from ${endpoint} is larger than ${maxBytes} bytes`, {
          endpoint,
        });
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof TransportError) throw error;
    throw describeTransportFailure(error, endpoint, timeoutMs);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function describeTransportFailure(
  error: unknown,
  endpoint: string,
  timeoutMs: number,
): TransportError {
  const err = error as {
    code?: string;
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  const code = err.code ?? err.cause?.code ?? '';
  const detail = err.cause?.message ?? err.message ?? String(error);
  if (
    err.name === 'TimeoutError' ||
    err.name === 'AbortError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return new TransportError(
      'TIMEOUT',
      `${endpoint} timed out after ${timeoutMs} ms. The outcome is unknown: query, or resend the same request ` +
        'with the same merchant number.',
      { endpoint, cause: error },
    );
  }
  let hint = '';
  if (TLS_TRUST_CODES.has(code)) {
    hint = ' The server certificate is not trusted: for the wxpay sandbox pass `ca` (its caCert).';
  } else if (/certificate required|alert number 116|handshake failure|bad certificate/i.test(detail)) {
    hint =
      ' The server refused the TLS handshake: this endpoint needs the merchant client certificate (clientCert).';
  } else if (code === 'ECONNREFUSED') {
    hint = ' Nothing is listening there: check baseUrl.';
  }
  return new TransportError('NETWORK', `${endpoint} failed: ${detail}${code ? ` [${code}]` : ''}.${hint}`, {
    endpoint,
    cause: error,
  });
}
