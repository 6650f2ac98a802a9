// API-key authentication: `Authorization: Bearer sk_…`, or HTTP Basic with the key as the username.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate } from '../domain/accounts.js';
import type { AuthContext, ServiceContext } from '../domain/context.js';
import { ApiError } from '../domain/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | undefined;
  }
}

export function presentedKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme ?? '')) return value;
  if (/^basic$/i.test(scheme ?? '')) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.split(':', 1)[0];
  }
  return undefined;
}

export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth)
    throw new ApiError(401, 'authentication_error', 'api_key_missing', 'No API key provided');
  return request.auth;
}

/** Adds the hook to the scope it is called in (the /v1 routes). */
export function installAuth(app: FastifyInstance, ctx: ServiceContext): void {
  app.decorateRequest('auth', undefined);
  app.addHook('onRequest', async (request) => {
    const key = presentedKey(request.headers.authorization);
    if (!key) {
      throw new ApiError(
        401,
        'authentication_error',
        'api_key_missing',
        'No API key provided. Send Authorization: Bearer sk_test_… (or HTTP Basic with the key as the username).',
      );
    }
    const auth = await authenticate(ctx.db, key);
    if (!auth) throw new ApiError(401, 'authentication_error', 'api_key_invalid', 'Invalid API key provided');
    request.auth = auth;
  });
}
