// The dashboard's API keys view: redacted keys, a new key shown once, create, and revoke with confirmation.
import type { ApiKeyView } from '../../domain/api-keys.js';
import { escapeHtml } from '../html.js';
import { date } from './views.js';

export interface ApiKeysViewInput {
  keys: ApiKeyView[];
  csrfToken: string;
  /** The key the current dashboard session was opened with. */
  currentKeyId: string | undefined;
  /** A key just created: the only time its secret is shown. */
  created?: { id: string; secret: string };
  message?: string;
}

function revokeForm(key: ApiKeyView, input: ApiKeysViewInput): string {
  if (key.revoked !== null) return '';
  const current = key.id === input.currentKeyId;
  const id = escapeHtml(key.id);
  return `<form method="post" action="/dashboard/api_keys/${id}/revoke">
<input type="hidden" name="_csrf" value="${escapeHtml(input.csrfToken)}">
<label><span><input type="checkbox" name="confirm" value="yes" required> Confirm revoking ${escapeHtml(key.redacted)}</span></label>
${
  current
    ? '<label><span><input type="checkbox" name="confirm_current" value="yes" required> This is the key of this session: revoking it logs me out</span></label>'
    : ''
}<button type="submit" aria-label="Revoke ${escapeHtml(key.redacted)}">Revoke</button></form>`;
}

export function apiKeysView(input: ApiKeysViewInput): string {
  const rows = input.keys
    .map(
      (k) =>
        `<tr data-testid="api-key-row" data-key-id="${escapeHtml(k.id)}"><td>${escapeHtml(k.redacted)}${
          k.id === input.currentKeyId ? ' <small>(this session)</small>' : ''
        }</td><td>${k.livemode ? 'live' : 'test'}</td><td>${date(k.created)}</td><td data-testid="api-key-state">${
          k.revoked === null ? 'active' : `revoked ${date(k.revoked)}`
        }</td><td>${revokeForm(k, input)}</td></tr>`,
    )
    .join('');
  const created = input.created
    ? `<div class="notice" role="status"><p>New key: copy it now, it will not be shown again.</p>
<p><code data-testid="new-api-key">${escapeHtml(input.created.secret)}</code></p></div>`
    : '';
  return `<h1>API keys</h1>
${input.message ? `<p role="alert" class="error">${escapeHtml(input.message)}</p>` : ''}${created}
<form method="post" action="/dashboard/api_keys"><input type="hidden" name="_csrf" value="${escapeHtml(input.csrfToken)}">
<button type="submit">Create secret key</button></form>
<table><caption class="sr">Secret keys, newest first</caption><thead><tr><th scope="col">Key</th><th scope="col">Mode</th><th scope="col">Created (CST)</th><th scope="col">State</th><th scope="col">Action</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}
