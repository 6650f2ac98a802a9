// The payer's page: a small mobile-style page showing the order with a "Confirm payment" button
// that calls the control API, so a browser test can scan and pay.
import { fenToYuan } from '@wxpay/sdk';
import type { Order } from './ledger/orders.js';
import type { Result } from './result.js';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Refusals the payer sees as an expired page rather than an unknown order, with the sandbox's reason. */
const EXPIRED = new Set(['PREPAY_EXPIRED', 'MWEB_URL_EXPIRED']);
/** WeChat's H5 page refusing who sent the payer (h5-referer.ts), shown with the sandbox's reason too. */
const REFUSED = new Set(['MWEB_REFERER_MISSING', 'MWEB_DOMAIN_NOT_REGISTERED']);

export function payPage(found: Result<Order>, target: Record<string, string>): string {
  const head = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>微信支付 (sandbox)</title>
<style>
body{font-family:-apple-system,"PingFang SC",sans-serif;background:#ededed;margin:0;padding:24px;text-align:center}
.card{background:#fff;border-radius:12px;padding:24px;max-width:360px;margin:0 auto}
.amount{font-size:40px;font-weight:600;margin:16px 0}
button{background:#07c160;color:#fff;border:0;border-radius:8px;font-size:18px;padding:12px;width:100%}
.muted{color:#888;font-size:13px}
</style></head><body><div class="card">`;
  if (!found.ok) {
    const { code } = found.error;
    if (!EXPIRED.has(code) && !REFUSED.has(code))
      return `${head}<h1>订单不存在</h1><p class="muted">No such order</p></div></body></html>`;
    const [title] = found.error.des.split(': ');
    return `${head}<h1 data-testid="${EXPIRED.has(code) ? 'expired' : 'refused'}">${escapeHtml(title ?? '')}</h1>
<p class="muted" data-testid="reason">${escapeHtml(found.error.des)}</p></div></body></html>`;
  }
  const order = found.value;
  const payable = order.state === 'NOTPAY' || order.state === 'USERPAYING';
  const body = JSON.stringify({ ...target, outcome: 'SUCCESS' }).replace(/</g, '\\u003c');
  return `${head}
<p class="muted">${escapeHtml(order.body)}</p>
<div class="amount" data-testid="amount">¥${fenToYuan(order.totalFee)}</div>
<p class="muted">商户订单号 <span data-testid="out-trade-no">${escapeHtml(order.outTradeNo)}</span></p>
<p data-testid="state">${escapeHtml(order.state)}</p>
${payable ? '<button id="confirm" type="button">Confirm payment 确认支付</button>' : ''}
<p id="result" data-testid="result"></p>
</div>
<script>
const btn = document.getElementById('confirm');
if (btn) btn.addEventListener('click', async () => {
  btn.disabled = true;
  const res = await fetch('/sandbox/v1/pay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(${body}) });
  const json = await res.json();
  document.getElementById('result').textContent = res.ok ? '支付成功 Paid' : ('失败 ' + (json.error && json.error.message));
  const redirect = new URLSearchParams(location.search).get('redirect_url');
  if (res.ok && redirect) location.href = redirect;
});
</script></body></html>`;
}
