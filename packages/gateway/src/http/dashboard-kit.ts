// What the dashboard's route files share: rendering in the frame, the login check, and the CSRF-checked POST.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardLogin } from '../domain/dashboard-sessions.js';
import type { LayoutOptions } from '../web/dashboard/layout.js';

export interface DashboardKit {
  /** Sends `body` in the dashboard frame for a logged-in user. */
  render(
    reply: FastifyReply,
    login: DashboardLogin,
    current: LayoutOptions['current'],
    title: string,
    body: string,
  ): FastifyReply;
  /** An authenticated GET page, or a redirect to the login form. */
  page(
    request: FastifyRequest,
    reply: FastifyReply,
    current: LayoutOptions['current'],
    title: string,
    render: (login: DashboardLogin) => Promise<string>,
  ): Promise<FastifyReply>;
  /** A state-changing form: the session and its fields when the CSRF token matches; else 401 / 403 is set. */
  post(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ login: DashboardLogin; form: Record<string, string> } | undefined>;
  /** Clears the session cookie (after the session's own key was revoked). */
  endSession(reply: FastifyReply): FastifyReply;
}
