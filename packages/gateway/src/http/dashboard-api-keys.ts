// Dashboard routes for API keys: list (redacted), create (the secret shown once), revoke with confirmation.
import type { FastifyInstance } from 'fastify';
import { createAccountApiKey, listApiKeys, revokeApiKey } from '../domain/api-keys.js';
import type { ServiceContext } from '../domain/context.js';
import type { DashboardLogin } from '../domain/dashboard-sessions.js';
import { ApiError } from '../domain/errors.js';
import { apiKeysView } from '../web/dashboard/api-keys-view.js';
import type { DashboardKit } from './dashboard-kit.js';

export async function dashboardApiKeyRoutes(
  app: FastifyInstance,
  ctx: ServiceContext,
  kit: DashboardKit,
): Promise<void> {
  const view = async (
    login: DashboardLogin,
    extra: { created?: { id: string; secret: string }; message?: string },
  ) =>
    apiKeysView({
      keys: await listApiKeys(ctx, login),
      csrfToken: login.csrfToken,
      currentKeyId: login.apiKeyId,
      ...extra,
    });

  app.get<{ Querystring: { message?: string } }>('/dashboard/api_keys', (request, reply) =>
    kit.page(request, reply, 'api_keys', 'API keys', (login) =>
      view(login, { message: request.query.message }),
    ),
  );

  // Answered with the page itself (not a redirect), so the new secret never lands in a URL or the history.
  app.post('/dashboard/api_keys', async (request, reply) => {
    const checked = await kit.post(request, reply);
    if (!checked) return { error: 'forbidden' };
    const created = await createAccountApiKey(ctx, checked.login);
    return kit.render(reply, checked.login, 'api_keys', 'API keys', await view(checked.login, { created }));
  });

  app.post<{ Params: { id: string } }>('/dashboard/api_keys/:id/revoke', async (request, reply) => {
    const checked = await kit.post(request, reply);
    if (!checked) return { error: 'forbidden' };
    const { login, form } = checked;
    const back = (message: string) =>
      reply.redirect(`/dashboard/api_keys?message=${encodeURIComponent(message)}`, 303);
    const current = request.params.id === login.apiKeyId;
    if (form.confirm !== 'yes') return back('Tick the confirmation box to revoke the key.');
    if (current && form.confirm_current !== 'yes')
      return back('That key opened this session: tick the second box to revoke it and log out.');
    try {
      await revokeApiKey(ctx, login, request.params.id);
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) return back(error.message);
      throw error;
    }
    // Revoking ends the sessions the key opened, this one included.
    if (current) return kit.endSession(reply).redirect('/dashboard/login', 303);
    return reply.redirect('/dashboard/api_keys', 303);
  });
}
