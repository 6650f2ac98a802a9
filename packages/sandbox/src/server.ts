// The HTTPS server: WeChat's paths (and their /sandboxnew twins) with mutual TLS, and the control API next to them.
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerControl } from './control.js';
import type { SandboxCore } from './core.js';
import { dispatch } from './dispatch.js';
import { ENDPOINT_TABLE } from './endpoints/index.js';
import { type WireRoute, wireRoutes } from './sandboxnew.js';

export interface SandboxServer {
  app: FastifyInstance;
  /** Releases calls held by the timeout fault. */
  releaseHeld(): void;
}

export function createServer(core: SandboxCore): SandboxServer {
  const { ca, server } = core.identities;
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    // Merchants' certificates are checked per endpoint, so a call without one still gets WeChat's answer.
    https: {
      key: server.keyPem,
      cert: server.certPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
  }) as unknown as FastifyInstance;
  // The control API reads JSON; any other body reaches it raw.
  app.removeContentTypeParser(['text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const held = new Set<() => void>();
  // WeChat's paths read the raw body whatever content type a client sends (even application/json), so a
  // mislabelled XML request gets WeChat's XML answer rather than a JSON parse error. The control API keeps JSON.
  app.register(async (wechat) => {
    wechat.removeAllContentTypeParsers();
    wechat.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    for (const route of wireRoutes(ENDPOINT_TABLE)) registerEndpoint(wechat, route);
  });
  const registerEndpoint = (scope: FastifyInstance, route: WireRoute) => {
    scope.post(route.path, async (request, reply) => {
      // Reading the peer certificate decodes it, so only cert endpoints pay for that.
      const peer = () => {
        const socket = request.raw.socket as TLSSocket;
        const cert =
          typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
        return {
          authorized: socket.authorized === true,
          commonName: cert?.subject?.CN as string | undefined,
        };
      };
      const response = dispatch(route, request.body, peer, request.headers, core.services, core.faults);
      if (response.kind === 'send') {
        return reply.code(response.status).type(response.contentType).send(response.body);
      }
      // A timeout: the work may be done, but no answer ever comes; the connection is cut later.
      reply.hijack();
      await new Promise<void>((resolve) => {
        const release = () => {
          clearTimeout(timer);
          held.delete(release);
          resolve();
        };
        const timer = setTimeout(release, response.holdMs);
        held.add(release);
        request.raw.socket.once('close', release);
      });
      request.raw.socket.destroy();
    });
  };
  registerControl(app, core);
  return {
    app,
    releaseHeld: () => {
      for (const release of [...held]) release();
    },
  };
}
