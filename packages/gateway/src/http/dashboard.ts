// /dashboard: log in with a secret key (HttpOnly, SameSite=Strict session cookie), CSRF token on every POST form.
import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { recentAlerts } from '../domain/alerts.js';
import type { ServiceContext } from '../domain/context.js';
import {
  cstDay,
  findPayment,
  listPayments,
  overview,
  type PaymentFilters,
  paymentDetail,
} from '../domain/dashboard-queries.js';
import {
  csrfMatches,
  DASHBOARD_SESSION_MS,
  endDashboardSession,
  findDashboardSession,
  startDashboardSession,
} from '../domain/dashboard-sessions.js';
import { ApiError } from '../domain/errors.js';
import { randomToken } from '../domain/ids.js';
import { createRefund, listRefunds } from '../domain/refunds.js';
import { dashboardPage, loginPage } from '../web/dashboard/layout.js';
import { overviewView, paymentDetailView, paymentsView, refundsView } from '../web/dashboard/views.js';
import { parseMajorUnits } from '../web/html.js';
import { dashboardApiKeyRoutes } from './dashboard-api-keys.js';
import type { DashboardKit } from './dashboard-kit.js';
import { dashboardPayoutRoutes } from './dashboard-payouts.js';
import { dashboardWebhookRoutes } from './dashboard-webhooks.js';

const SESSION_COOKIE = 'wxpay_dashboard';
const LOGIN_COOKIE = 'wxpay_dashboard_login';

/**
 * A form's fields, each of which must be text. A browser's urlencoded form always is; a JSON body may not be,
 * and is refused naming the field rather than reaching code that reads text.
 */
function formFields(body: unknown): { form: Record<string, string> } | { invalid: string } {
  if (body === undefined || body === null) return { form: {} };
  if (typeof body !== 'object' || Array.isArray(body)) return { invalid: '' };
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string') return { invalid: name };
  }
  return { form: body as Record<string, string> };
}

function fieldNotText(field: string): ApiError {
  return field
    ? new ApiError(400, 'invalid_request_error', 'parameter_invalid', `${field} must be text`, field)
    : new ApiError(400, 'invalid_request_error', 'body_invalid', 'The form must be an object of text fields');
}

/** Sets one of the dashboard's cookies; Secure follows the public URL, since a proxy may end TLS before us. */
function setCookie(
  ctx: ServiceContext,
  reply: FastifyReply,
  name: string,
  value: string,
  maxAgeSeconds: number,
): FastifyReply {
  return reply.setCookie(name, value, {
    path: '/dashboard',
    httpOnly: true,
    sameSite: 'strict',
    maxAge: maxAgeSeconds,
    secure: ctx.publicUrl().startsWith('https:'),
  });
}

/** A dashboard page. No Referer leaves it: its URLs name payments and the references searched for (?q=…). */
function html(reply: FastifyReply, nonce: string, body: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    )
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(body);
}

const dayOf = (text: string | undefined): number | undefined =>
  text && /^\d{4}-\d{2}-\d{2}$/.test(text) ? cstDay(Date.parse(`${text}T00:00:00+08:00`)) : undefined;

export async function dashboardRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  // Registered in the dashboard's scope only. Its default decode leaves a value that is no URI escape as it is
  // (another site's cookie on the host may hold a bare '%'), so such a cookie never fails a request.
  await app.register(fastifyCookie);
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const loginOf = (request: FastifyRequest) => findDashboardSession(ctx, request.cookies[SESSION_COOKIE]);

  /** Sends a dashboard page (frame, nav, CSRF token of the log-out form) for a logged-in user. */
  const render: DashboardKit['render'] = (reply, login, current, title, body) => {
    const nonce = randomBytes(16).toString('base64');
    return html(
      reply,
      nonce,
      dashboardPage({ title, nonce, livemode: login.livemode, csrfToken: login.csrfToken, current, body }),
    );
  };

  /** Renders an authenticated page, or sends the browser to the login form. */
  const page: DashboardKit['page'] = async (request, reply, current, title, renderBody) => {
    const login = await loginOf(request);
    if (!login) return reply.redirect('/dashboard/login', 303);
    return render(reply, login, current, title, await renderBody(login));
  };

  /** Every state-changing form: a valid session and its CSRF token, or 401 / 403; a field not text is a 400. */
  const post: DashboardKit['post'] = async (request, reply) => {
    const login = await loginOf(request);
    if (!login) {
      reply.code(401);
      return undefined;
    }
    if (!csrfMatches(login.csrfToken, (request.body as { _csrf?: unknown } | null)?._csrf)) {
      reply.code(403);
      return undefined;
    }
    const fields = formFields(request.body);
    if ('invalid' in fields) throw fieldNotText(fields.invalid);
    return { login, form: fields.form };
  };
  const kit: DashboardKit = {
    render,
    page,
    post,
    endSession: (reply) => setCookie(ctx, reply, SESSION_COOKIE, '', 0),
  };

  app.get('/dashboard/login', async (_request, reply) => {
    const nonce = randomBytes(16).toString('base64');
    const csrf = randomToken(32);
    setCookie(ctx, reply, LOGIN_COOKIE, csrf, 600);
    return html(reply, nonce, loginPage(nonce, csrf));
  });

  app.post('/dashboard/login', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    const expected = request.cookies[LOGIN_COOKIE];
    const nonce = randomBytes(16).toString('base64');
    if (!expected || !csrfMatches(expected, form._csrf)) {
      return html(
        reply.code(403),
        nonce,
        loginPage(nonce, expected ?? '', 'The form expired; please try again.'),
      );
    }
    const secretKey = form.secret_key === undefined ? '' : form.secret_key;
    if (typeof secretKey !== 'string') {
      return html(reply.code(400), nonce, loginPage(nonce, expected, 'The secret key must be text.'));
    }
    const started = await startDashboardSession(ctx, secretKey);
    if (!started)
      return html(reply.code(401), nonce, loginPage(nonce, expected, 'That secret key is not valid.'));
    setCookie(ctx, reply, SESSION_COOKIE, started.token, DASHBOARD_SESSION_MS / 1000);
    setCookie(ctx, reply, LOGIN_COOKIE, '', 0);
    return reply.redirect('/dashboard', 303);
  });

  app.post('/dashboard/logout', async (request, reply) => {
    const checked = await post(request, reply);
    if (!checked) return { error: 'forbidden' };
    await endDashboardSession(ctx, request.cookies[SESSION_COOKIE]!);
    setCookie(ctx, reply, SESSION_COOKIE, '', 0);
    return reply.redirect('/dashboard/login', 303);
  });

  app.get('/dashboard', (request, reply) =>
    page(request, reply, 'overview', 'Overview', async (login) =>
      overviewView(await overview(ctx, login), await recentAlerts(ctx, login)),
    ),
  );

  app.get<{ Querystring: Record<string, string> }>('/dashboard/payments', (request, reply) =>
    page(request, reply, 'payments', 'Payments', async (login) => {
      const q = request.query;
      const filters: PaymentFilters = {
        status: q.status || undefined,
        terminal_type: q.terminal_type || undefined,
        amount_min: q.amount_min ? parseMajorUnits(q.amount_min) : undefined,
        amount_max: q.amount_max ? parseMajorUnits(q.amount_max) : undefined,
        from_day: dayOf(q.from),
        to_day: dayOf(q.to),
        starting_after: q.starting_after || undefined,
        ending_before: q.ending_before || undefined,
      };
      try {
        const list = await listPayments(ctx, login, filters);
        return paymentsView({
          data: list.data,
          hasMore: list.has_more,
          query: q,
          backward: Boolean(q.ending_before),
          notFound: typeof q.not_found === 'string' ? q.not_found.slice(0, 64) : undefined,
        });
      } catch (error) {
        if (error instanceof ApiError && error.status < 500)
          return paymentsView({ data: [], hasMore: false, query: {}, backward: false });
        throw error;
      }
    }),
  );

  // Find: a reference support was given (see findPayment) opens its payment, or the list says none has it.
  app.get<{ Querystring: { ref?: unknown } }>('/dashboard/payments/find', async (request, reply) => {
    const login = await loginOf(request);
    if (!login) return reply.redirect('/dashboard/login', 303);
    const ref = typeof request.query.ref === 'string' ? request.query.ref.trim() : '';
    const id = await findPayment(ctx, login, ref);
    if (id) return reply.redirect(`/dashboard/payments/${encodeURIComponent(id)}`, 303);
    return reply.redirect(`/dashboard/payments?not_found=${encodeURIComponent(ref.slice(0, 64))}`, 303);
  });

  app.get<{ Params: { id: string }; Querystring: { message?: string } }>(
    '/dashboard/payments/:id',
    (request, reply) =>
      page(request, reply, 'payments', 'Payment', async (login) => {
        try {
          const detail = await paymentDetail(ctx, login, request.params.id);
          return paymentDetailView(detail, login.csrfToken, request.query.message);
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) {
            reply.code(404);
            return '<h1>No such payment</h1>';
          }
          throw error;
        }
      }),
  );

  app.post<{ Params: { id: string } }>('/dashboard/payments/:id/refund', async (request, reply) => {
    const checked = await post(request, reply);
    if (!checked) return { error: 'forbidden' };
    const { login, form } = checked;
    const back = (message?: string) =>
      reply.redirect(
        `/dashboard/payments/${encodeURIComponent(request.params.id)}${message ? `?message=${encodeURIComponent(message)}` : ''}`,
        303,
      );
    if (form.confirm !== 'yes') return back('Tick the confirmation box to refund.');
    const amount = form.amount?.trim() ? parseMajorUnits(form.amount) : undefined;
    if (form.amount?.trim() && amount === undefined)
      return back('The amount must be a number with up to 2 decimals.');
    try {
      await createRefund(ctx, login, {
        payment_intent: request.params.id,
        amount,
        reason: 'requested_by_customer',
      });
      return back();
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) return back(error.message);
      throw error;
    }
  });

  app.get('/dashboard/refunds', (request, reply) =>
    page(request, reply, 'refunds', 'Refunds', async (login) =>
      refundsView((await listRefunds(ctx, login, { limit: 50 })).data),
    ),
  );

  await dashboardPayoutRoutes(app, ctx, kit);
  await dashboardWebhookRoutes(app, ctx, kit);
  await dashboardApiKeyRoutes(app, ctx, kit);
}
