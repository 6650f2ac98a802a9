// The dashboard's Webhooks views: endpoints, and one endpoint's deliveries with their attempt logs and "retry".
import type { DeliveryView } from '../../domain/webhook-deliveries.js';
import type { WebhookEndpointView } from '../../domain/webhook-endpoints.js';
import { escapeHtml } from '../html.js';
import { date } from './views.js';

export function webhookEndpointsView(endpoints: WebhookEndpointView[]): string {
  const rows = endpoints
    .map(
      (e) =>
        `<tr data-testid="endpoint-row"><td><a href="/dashboard/webhooks/${escapeHtml(e.id)}">${escapeHtml(e.url)}</a></td><td>${escapeHtml(
          e.status,
        )}</td><td>${escapeHtml(e.enabled_events.join(', '))}</td><td>${escapeHtml(e.description ?? '')}</td><td>${date(e.created)}</td></tr>`,
    )
    .join('');
  return `<h1>Webhooks</h1>
<table><caption class="sr">Webhook endpoints</caption><thead><tr><th scope="col">URL</th><th scope="col">Status</th><th scope="col">Events</th><th scope="col">Description</th><th scope="col">Created (CST)</th></tr></thead>
<tbody>${rows || '<tr><td colspan="5">No endpoints. Create one with POST /v1/webhook_endpoints.</td></tr>'}</tbody></table>`;
}

function attemptsTable(delivery: DeliveryView): string {
  const rows = delivery.attempts
    .map(
      (a) =>
        `<tr data-testid="attempt-row"><td>${date(a.created)}</td><td>${escapeHtml(a.status_code ?? '—')}</td><td>${escapeHtml(
          a.duration_ms,
        )} ms</td><td>${escapeHtml(a.error ?? '')}</td><td><pre>${escapeHtml(a.response_body ?? '')}</pre></td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th scope="col">Attempted (CST)</th><th scope="col">HTTP status</th><th scope="col">Duration</th><th scope="col">Error</th><th scope="col">Answer (first 1 KB)</th></tr></thead>
<tbody>${rows || '<tr><td colspan="5">Not attempted yet.</td></tr>'}</tbody></table>`;
}

export function webhookEndpointView(
  endpoint: WebhookEndpointView,
  deliveries: DeliveryView[],
  csrfToken: string,
  message?: string,
): string {
  const items = deliveries
    .map(
      (d) => `<section data-testid="delivery" aria-label="Delivery ${escapeHtml(d.id)}">
<h3>${escapeHtml(d.event)} · <span data-testid="delivery-status">${escapeHtml(d.status)}</span> · ${escapeHtml(d.attempt_count)} attempt(s)${
        d.next_attempt_at ? ` · next ${date(d.next_attempt_at)}` : ''
      }</h3>
<form method="post" action="/dashboard/events/${escapeHtml(d.event)}/retry">
<input type="hidden" name="_csrf" value="${escapeHtml(csrfToken)}">
<input type="hidden" name="endpoint" value="${escapeHtml(endpoint.id)}">
<button type="submit" aria-label="Retry event ${escapeHtml(d.event)}">Retry</button></form>
${attemptsTable(d)}</section>`,
    )
    .join('');
  return `<h1>Webhook endpoint</h1>
<p><a href="/dashboard/webhooks">← All endpoints</a></p>
${message ? `<p role="status" class="notice">${escapeHtml(message)}</p>` : ''}
<table><tbody>
<tr><th scope="row">ID</th><td>${escapeHtml(endpoint.id)}</td></tr>
<tr><th scope="row">URL</th><td>${escapeHtml(endpoint.url)}</td></tr>
<tr><th scope="row">Status</th><td>${escapeHtml(endpoint.status)}</td></tr>
<tr><th scope="row">Events</th><td>${escapeHtml(endpoint.enabled_events.join(', '))}</td></tr>
</tbody></table>
<h2>Deliveries</h2>${items || '<p>No deliveries yet.</p>'}`;
}
