// The dashboard's page frame: navigation, test-mode banner, log-out form (with its CSRF token) and CSS.
import { escapeHtml } from '../html.js';

export const DASHBOARD_CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"PingFang SC",sans-serif;color:#1a1a1a;background:#f6f7f9}
.banner{background:#8a4b00;color:#fff;padding:6px 16px;font-size:14px}
nav{display:flex;flex-wrap:wrap;gap:16px;align-items:center;background:#fff;border-bottom:1px solid #ddd;padding:10px 16px}
nav a{color:#0b57d0;text-decoration:none}nav a[aria-current=page]{font-weight:700;color:#1a1a1a}
nav form{margin-left:auto}
main{max-width:1100px;margin:0 auto;padding:16px}
.tiles{display:flex;flex-wrap:wrap;gap:12px}.tile{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 16px;min-width:180px}
.tile b{display:block;font-size:24px}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{font-size:13px;color:#444}
pre{white-space:pre-wrap;word-break:break-all;background:#fff;border:1px solid #ddd;padding:8px;font-size:12px}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin:8px 0 12px}
label{display:flex;flex-direction:column;font-size:13px;color:#333}
input,select,button{font:inherit;padding:4px 6px}
button{background:#05783c;color:#fff;border:0;border-radius:6px;padding:6px 12px;cursor:pointer}
button.secondary{background:#555}
.error{color:#b3261e}
.notice{background:#fff;border:1px solid #05783c;border-radius:8px;padding:8px 12px}
.tabs{display:flex;gap:12px;margin:8px 0}
form.inline{display:inline}
.chart{background:#fff;border:1px solid #ddd;border-radius:8px;padding:8px}
`;

export interface LayoutOptions {
  title: string;
  nonce: string;
  livemode: boolean;
  csrfToken: string;
  current: 'overview' | 'payments' | 'refunds' | 'payouts' | 'webhooks' | 'api_keys';
  body: string;
}

export function dashboardPage(options: LayoutOptions): string {
  const link = (key: LayoutOptions['current'], href: string, label: string) =>
    `<a href="${href}"${options.current === key ? ' aria-current="page"' : ''}>${label}</a>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · wxpay dashboard</title>
<style nonce="${escapeHtml(options.nonce)}">${DASHBOARD_CSS}</style></head><body>
${options.livemode ? '' : '<div class="banner" role="note" data-testid="test-mode">Test mode: you are looking at test data (sk_test_ key)</div>'}
<nav aria-label="Dashboard">
<strong>wxpay</strong>
${link('overview', '/dashboard', 'Overview')}
${link('payments', '/dashboard/payments', 'Payments')}
${link('refunds', '/dashboard/refunds', 'Refunds')}
${link('payouts', '/dashboard/payouts', 'Payouts')}
${link('webhooks', '/dashboard/webhooks', 'Webhooks')}
${link('api_keys', '/dashboard/api_keys', 'API keys')}
<form method="post" action="/dashboard/logout"><input type="hidden" name="_csrf" value="${escapeHtml(
    options.csrfToken,
  )}"><button type="submit" class="secondary">Log out</button></form>
</nav>
<main>${options.body}</main></body></html>`;
}

export function loginPage(nonce: string, csrfToken: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Log in · wxpay dashboard</title>
<style nonce="${escapeHtml(nonce)}">${DASHBOARD_CSS}</style></head><body><main>
<h1>wxpay dashboard</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/dashboard/login">
<input type="hidden" name="_csrf" value="${escapeHtml(csrfToken)}">
<label for="secret_key">Secret key (sk_test_… or sk_live_…)</label>
<input id="secret_key" name="secret_key" type="password" autocomplete="off" required size="50">
<p><button type="submit">Log in</button></p>
</form></main></body></html>`;
}
