// Renders the hosted checkout page: pure (data in, HTML out); every dynamic value is escaped.
import { CHECKOUT_JS } from './assets/checkout-client.js';
import { CHECKOUT_CSS } from './assets/checkout-style.js';
import { escapeHtml, formatAmount, scriptJson } from './html.js';
import { fill, type Lang, TEXTS } from './i18n.js';

export interface CheckoutPageModel {
  lang: Lang;
  nonce: string;
  session: {
    id: string;
    amount: number;
    currency: string;
    description: string;
    lineItems: { name: string; quantity: number; amount: number }[];
    cancelUrl: string;
    successUrl: string;
    expiresAt: number;
    livemode: boolean;
  };
  state: 'pay' | 'confirming' | 'retry' | 'succeeded' | 'expired' | 'unavailable';
  /** What the payer acts on, by flow. */
  payment?:
    | { flow: 'WEB'; codeUrl: string; qrSvg: string; sandboxPayerUrl?: string; note?: string }
    | { flow: 'WAP' }
    | { flow: 'OFFICIAL_ACCOUNT'; jsapi: Record<string, string> };
  now: number;
}

export function renderCheckoutPage(model: CheckoutPageModel): string {
  const t = TEXTS[model.lang];
  const s = model.session;
  const amount = formatAmount(s.amount, s.currency);
  const base = `/checkout/${encodeURIComponent(s.id)}`;
  const other: Lang = model.lang === 'zh' ? 'en' : 'zh';
  const config = {
    statusUrl: `${base}/status`,
    eventsUrl: `${base}/events`,
    clientResultUrl: `${base}/client_result`,
    expiresAt: s.expiresAt,
    serverNow: model.now,
    pollMs: 2000,
    jsapi: model.payment?.flow === 'OFFICIAL_ACCOUNT' ? model.payment.jsapi : null,
    text: {
      pay: '',
      confirming: t.confirming,
      succeeded: t.succeeded,
      expired: t.expired,
      retry: t.retry,
      canceledByPayer: t.canceledByPayer,
      failedByPayer: t.failedByPayer,
    },
  };
  const items = s.lineItems.length
    ? `<p class="label">${escapeHtml(t.order)}</p><ul class="items">${s.lineItems
        .map(
          (item) =>
            `<li><span>${escapeHtml(item.name)} × ${item.quantity}</span><span>${escapeHtml(
              formatAmount(item.amount * item.quantity, s.currency),
            )}</span></li>`,
        )
        .join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="${escapeHtml(t.htmlLang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin">
<title>${escapeHtml(t.title)} · ${escapeHtml(amount)}</title>
<style nonce="${escapeHtml(model.nonce)}">${CHECKOUT_CSS}</style>
</head>
<body>
${s.livemode ? '' : `<div class="banner" role="note">${escapeHtml(t.testMode)}</div>`}
<main id="checkout" data-state="${escapeHtml(model.state)}" data-flow="${escapeHtml(model.payment?.flow ?? '')}">
<div class="card">
<header><h1>${escapeHtml(t.title)}</h1><a class="lang" href="?lang=${other}" lang="${other === 'zh' ? 'zh-CN' : 'en'}">${escapeHtml(
    t.switchTo,
  )}</a></header>
<p class="label" id="amount-label">${escapeHtml(t.amount)}</p>
<p class="amount" aria-labelledby="amount-label" data-testid="amount">${escapeHtml(amount)}</p>
<p class="description" data-testid="description">${escapeHtml(s.description)}</p>
${items}
<div class="when when-pay">${renderPayment(model, amount)}
<p class="countdown">${escapeHtml(t.expiresIn)} <time id="countdown-time" data-testid="countdown"></time></p>
</div>
<div class="when when-retry"><a class="btn" href="?lang=${model.lang}" data-testid="new-qr">${escapeHtml(t.newQr)}</a></div>
<div class="when when-succeeded"><p><a href="${escapeHtml(s.successUrl)}">${escapeHtml(t.returnToMerchant)}</a></p></div>
<p id="live" class="status" role="status" aria-live="polite" data-testid="status">${escapeHtml(
    model.state === 'pay' ? '' : model.state === 'unavailable' ? t.unavailable : t[model.state],
  )}</p>
</div>
<footer class="when when-pay when-retry when-confirming when-unavailable"><a href="${escapeHtml(s.cancelUrl)}" data-testid="cancel">${escapeHtml(
    t.cancel,
  )}</a></footer>
</main>
<script type="application/json" id="checkout-config">${scriptJson(config)}</script>
<script nonce="${escapeHtml(model.nonce)}">${CHECKOUT_JS}</script>
</body>
</html>`;
}

function renderPayment(model: CheckoutPageModel, amount: string): string {
  const t = TEXTS[model.lang];
  const payment = model.payment;
  if (!payment) return '';
  switch (payment.flow) {
    case 'WEB':
      return `<figure class="qr">
<div role="img" aria-label="${escapeHtml(fill(t.qrAlt, { amount }))}" data-testid="qr" data-code-url="${escapeHtml(
        payment.codeUrl,
      )}">${payment.qrSvg.replace(/^<svg /, '<svg aria-hidden="true" focusable="false" ')}</div>
<figcaption>${escapeHtml(payment.note ?? t.scan)}</figcaption>
</figure>${
        payment.sandboxPayerUrl
          ? `<p class="sandbox"><a href="${escapeHtml(payment.sandboxPayerUrl)}" target="_blank" rel="noopener" data-testid="sandbox-payer">${escapeHtml(
              t.sandboxPayer,
            )}</a></p>`
          : ''
      }`;
    case 'WAP':
      // Our own route, which redirects to a live mweb_url at the tap (WeChat honours one for only 5 minutes). A
      // plain link: the page's strict-origin Referer is what WeChat's H5 page checks.
      return `<a class="btn" href="/checkout/${escapeHtml(encodeURIComponent(model.session.id))}/h5?lang=${model.lang}" data-testid="h5-pay">${escapeHtml(t.h5Pay)}</a>
<p class="hint">${escapeHtml(t.h5Hint)}</p>`;
    case 'OFFICIAL_ACCOUNT':
      return `<button class="btn" type="button" id="jsapi-pay" data-testid="jsapi-pay">${escapeHtml(t.jsapiPay)}</button>`;
  }
}

export function renderNotFoundPage(lang: Lang): string {
  const t = TEXTS[lang];
  return `<!doctype html><html lang="${escapeHtml(t.htmlLang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(t.title)}</title></head>
<body><main><h1>${escapeHtml(t.notFound)}</h1></main></body></html>`;
}
