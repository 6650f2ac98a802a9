// The dashboard's views (overview with an inline-SVG chart, payments list and detail, refunds): pure renderers.
import type { Alert } from '../../domain/alerts.js';
import type { Overview, PaymentDetail } from '../../domain/dashboard-queries.js';
import { cstDayStart } from '../../domain/dashboard-queries.js';
import type { IntentView } from '../../domain/intent-view.js';
import { INTENT_STATUSES, wasPaid } from '../../domain/state.js';
import { escapeHtml, formatAmount } from '../html.js';

export const date = (unixSeconds: number) =>
  new Date(unixSeconds * 1000 + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
const dayLabel = (day: number) => new Date(cstDayStart(day) + 8 * 3600_000).toISOString().slice(5, 10);

export function overviewView(data: Overview, alerts: Alert[]): string {
  const tiles = data.today.length
    ? data.today
        .map(
          (t) =>
            `<div class="tile"><span>Today's volume (${escapeHtml(t.currency)})</span><b data-testid="today-volume">${escapeHtml(
              formatAmount(t.volume, t.currency),
            )}</b><span>${t.count} payments</span></div>`,
        )
        .join('')
    : '<div class="tile"><span>Today\'s volume</span><b data-testid="today-volume">¥0.00</b><span>0 payments</span></div>';
  return `<h1>Overview</h1><div class="tiles">${tiles}</div>
${alertsSection(alerts)}
<h2>Last 30 days (${escapeHtml(data.chartCurrency)})</h2>
<div class="chart">${chartSvg(data)}</div>`;
}

/** The latest alerts, each in words with what to do and a link to the payment it is about. */
export function alertsSection(alerts: Alert[]): string {
  if (!alerts.length)
    return '<h2>Needs attention</h2><p data-testid="no-alerts">Nothing needs attention.</p>';
  const items = alerts
    .map((alert) => {
      const link = alert.paymentIntent
        ? ` <a href="/dashboard/payments/${encodeURIComponent(alert.paymentIntent)}">${escapeHtml(alert.paymentIntent)}</a>`
        : '';
      return `<li data-testid="alert" data-type="${escapeHtml(alert.type)}"><time>${date(
        Math.floor(alert.created / 1000),
      )}</time> ${escapeHtml(alertText(alert))}${link}</li>`;
    })
    .join('');
  return `<h2>Needs attention</h2><ul class="alerts">${items}</ul>`;
}

function alertText({ type, data, refund }: Alert): string {
  switch (type) {
    case 'payment_intent.notify_rejected': {
      const reason = String(data.reason ?? '');
      const source = data.source ? ` (${String(data.source)})` : ' notify';
      if (reason === 'amount_mismatch')
        return `WeChat${source} reported another amount or currency than the payment's; it was not marked paid. Check the order in WeChat's merchant platform.`;
      if (reason === 'unknown_out_trade_no')
        return `A payment notify named an order this account does not have (${String(data.out_trade_no ?? '')}); it was refused.`;
      return 'A payment notify failed its signature check and was refused. If it keeps happening, check the APIv2 key, or someone is forging notifies.';
    }
    case 'payment_intent.wechat_status_conflict':
      if (data.retired_out_trade_no) {
        const retired = `WeChat reports order ${String(data.retired_out_trade_no)} as paid, which it had said failed and this payment replaced with order ${String(data.out_trade_no ?? '')}`;
        return data.status === 'succeeded'
          ? `${retired}, paid too: the payer paid twice. Refund one of the two orders in WeChat's merchant platform.`
          : `${retired}, which is not paid: the payer paid through the old order. Fulfil the order and cancel this payment, or refund the old order in WeChat's merchant platform.`;
      }
      return 'WeChat reports a payment canceled here as paid: the payer was charged. Refund it, or fulfil the order.';
    case 'checkout.session.completed_after_expiry':
      return `Checkout session ${String(data.checkout_session ?? '')} was paid after it expired, and is now complete. Fulfil the order, or refund the payment.`;
    case 'refund.notify_rejected': {
      const reason = String(data.reason ?? '');
      if (reason === 'req_info_invalid')
        return `A refund notify could not be read and was refused: ${String(data.error ?? '')} WeChat encrypts it with the APIv2 key; if it keeps happening, check the account's key.`;
      if (reason === 'unknown_out_refund_no')
        return `A refund notify named a refund this account does not have (${String(data.out_refund_no ?? '')}); it was refused.`;
      return `WeChat's refund notify for refund ${refund ?? ''} reported another ${reason === 'refund_fee_mismatch' ? 'amount' : 'payment'} than the refund's; it was refused and the refund left as it was. Check it in WeChat's merchant platform.`;
    }
    case 'refund.wechat_status_conflict': {
      const reported = `WeChat reports refund ${refund ?? ''} as succeeded`;
      if (data.corrected === true)
        return `${reported}, after it had closed or refused it: the payer got the money back. The refund is now marked succeeded here, and its amount is no longer refundable.`;
      if (data.corrected === false)
        return `${reported}, which is ${String(data.status ?? '')} here, and the payment's other refunds leave less than its amount unrefunded: WeChat reports more refunded than the payment's amount. The refund was left ${String(data.status ?? '')}. Check the payment's refunds in WeChat's merchant platform, and do not refund it again.`;
      return `${reported}, which is ${String(data.status ?? '')} here: the payer got the money back. Do not refund it again.`;
    }
  }
}

/** Bars of daily succeeded volume, with a <title> per bar and a table-like summary for screen readers. */
export function chartSvg(data: Overview): string {
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...data.chart.map((d) => d.volume));
  const barW = width / data.chart.length;
  const total = data.chart.reduce((sum, d) => sum + d.volume, 0);
  const bars = data.chart
    .map((d, i) => {
      const h = Math.round((d.volume / max) * (height - 20));
      return `<rect x="${(i * barW + 1).toFixed(1)}" y="${height - 16 - h}" width="${(barW - 2).toFixed(1)}" height="${h}" fill="#05783c"><title>${dayLabel(
        d.day,
      )}: ${escapeHtml(formatAmount(d.volume, data.chartCurrency))} (${d.count})</title></rect>`;
    })
    .join('');
  const first = data.chart[0];
  const last = data.chart[data.chart.length - 1];
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Daily volume for the last 30 days, ${escapeHtml(
    formatAmount(total, data.chartCurrency),
  )} in total" data-testid="chart">${bars}
<text x="0" y="${height - 2}" font-size="11" fill="#444">${first ? dayLabel(first.day) : ''}</text>
<text x="${width}" y="${height - 2}" font-size="11" fill="#444" text-anchor="end">${last ? dayLabel(last.day) : ''}</text></svg>`;
}

export interface PaymentsViewInput {
  data: IntentView[];
  hasMore: boolean;
  query: Record<string, string>;
  backward: boolean;
  /** A reference Find matched to no payment. */
  notFound?: string;
}

export function paymentsView(input: PaymentsViewInput): string {
  const q = input.query;
  const option = (value: string, selected: string | undefined) =>
    `<option value="${escapeHtml(value)}"${value === selected ? ' selected' : ''}>${escapeHtml(value || 'any')}</option>`;
  const find = `<form class="filters" method="get" action="/dashboard/payments/find" role="search">
<label>Find<input name="ref" size="34" maxlength="64" required value="${escapeHtml(input.notFound ?? '')}" placeholder="pi_…, out_trade_no, transaction_id, refund"></label>
<button type="submit">Find</button></form>${
    input.notFound === undefined
      ? ''
      : `<p role="status" data-testid="find-message">No payment of this account in this mode has the reference ${escapeHtml(
          input.notFound,
        )}. Find takes a payment id (pi_…), an out_trade_no (商户单号), a transaction_id (交易单号) or a refund's id, out_refund_no or refund_id, exactly.</p>`
  }`;
  const filters = `<form class="filters" method="get" action="/dashboard/payments" role="search">
<label>Status<select name="status">${['', ...INTENT_STATUSES].map((s) => option(s, q.status)).join('')}</select></label>
<label>Terminal<select name="terminal_type">${[
    '',
    'WEB',
    'WAP',
    'OFFICIAL_ACCOUNT',
    'MINI_PROGRAM',
    'APP',
    'SCAN_CODE',
  ]
    .map((s) => option(s, q.terminal_type))
    .join('')}</select></label>
<label>From<input type="date" name="from" value="${escapeHtml(q.from ?? '')}"></label>
<label>To<input type="date" name="to" value="${escapeHtml(q.to ?? '')}"></label>
<label>Min amount<input name="amount_min" inputmode="decimal" size="8" value="${escapeHtml(q.amount_min ?? '')}"></label>
<label>Max amount<input name="amount_max" inputmode="decimal" size="8" value="${escapeHtml(q.amount_max ?? '')}"></label>
<button type="submit">Filter</button></form>`;
  const rows = input.data
    .map(
      (p) =>
        `<tr data-testid="payment-row"><td><a href="/dashboard/payments/${escapeHtml(p.id)}">${escapeHtml(
          p.id,
        )}</a></td><td>${escapeHtml(formatAmount(p.amount, p.currency))}</td><td>${escapeHtml(p.status)}</td><td>${escapeHtml(
          p.payment_method_options.wechat_pay.terminal_type ?? '',
        )}</td><td>${escapeHtml(p.description ?? '')}</td><td>${date(p.created)}</td></tr>`,
    )
    .join('');
  const keep = Object.entries(q).filter(
    ([k, v]) => v && k !== 'starting_after' && k !== 'ending_before' && k !== 'not_found',
  );
  const page = (key: string, id: string) =>
    `/dashboard/payments?${new URLSearchParams([...keep, [key, id]]).toString()}`;
  const firstId = input.data[0]?.id;
  const lastId = input.data[input.data.length - 1]?.id;
  const hasNewer = input.backward ? input.hasMore : Boolean(q.starting_after);
  const hasOlder = input.backward ? Boolean(q.ending_before) : input.hasMore;
  const pager = `<p>${hasNewer && firstId ? `<a href="${escapeHtml(page('ending_before', firstId))}" rel="prev">← Newer</a> ` : ''}${
    hasOlder && lastId ? `<a href="${escapeHtml(page('starting_after', lastId))}" rel="next">Older →</a>` : ''
  }</p>`;
  return `<h1>Payments</h1>${find}${filters}
<table><caption class="sr">Payments, newest first</caption><thead><tr><th scope="col">ID</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Terminal</th><th scope="col">Description</th><th scope="col">Created (CST)</th></tr></thead>
<tbody>${rows || '<tr><td colspan="6">No payments match.</td></tr>'}</tbody></table>${pager}`;
}

export function paymentDetailView(detail: PaymentDetail, csrfToken: string, message?: string): string {
  const p = detail.intent;
  const refunded = detail.refunds
    .filter((r) => r.status !== 'failed' && r.status !== 'canceled')
    .reduce((sum, r) => sum + r.amount, 0);
  // Canceled, yet WeChat reported it paid (payment_intent.wechat_status_conflict): the money can go back.
  const paidAfterCancel = p.status === 'canceled' && wasPaid(p.status, p.wechat_pay.transaction_id);
  const refundable = wasPaid(p.status, p.wechat_pay.transaction_id) ? p.amount - refunded : 0;
  const timeline = detail.events
    .map((e) => `<li><time>${date(Math.floor(e.created / 1000))}</time> ${escapeHtml(e.type)}</li>`)
    .join('');
  const refunds = detail.refunds
    .map(
      (r) =>
        `<tr data-testid="refund-row"><td>${escapeHtml(r.id)}</td><td>${escapeHtml(formatAmount(r.amount, p.currency))}</td><td>${escapeHtml(
          r.status,
        )}</td><td>${escapeHtml(r.reason ?? '')}</td><td>${date(Math.floor(r.created / 1000))}</td></tr>`,
    )
    .join('');
  const payloads = (p.wechat_payloads ?? [])
    .map(
      (pl) =>
        `<h3>${escapeHtml(pl.kind)} · ${date(Math.floor(pl.created / 1000))}</h3><pre>${escapeHtml(pl.body)}</pre>`,
    )
    .join('');
  const refundForm =
    refundable > 0
      ? `<h2>Refund</h2><form method="post" action="/dashboard/payments/${escapeHtml(p.id)}/refund">
<input type="hidden" name="_csrf" value="${escapeHtml(csrfToken)}">
<label for="refund-amount">Amount (${escapeHtml(p.currency)}, up to ${escapeHtml(formatAmount(refundable, p.currency))}; empty = full)</label>
<input id="refund-amount" name="amount" inputmode="decimal" size="10">
<p><label><span><input type="checkbox" name="confirm" value="yes" required> I confirm this refund</span></label></p>
<button type="submit">Refund</button></form>`
      : '';
  return `<h1>Payment ${escapeHtml(p.id)}</h1>
${message ? `<p role="alert" class="error">${escapeHtml(message)}</p>` : ''}
${
  paidAfterCancel
    ? `<p role="alert" class="error" data-testid="paid-after-cancel">WeChat reports this canceled payment as paid (transaction ${escapeHtml(
        p.wechat_pay.transaction_id ?? '',
      )}). Refund it below, or fulfil the order.</p>`
    : ''
}
<table><tbody>
<tr><th scope="row">Amount</th><td data-testid="detail-amount">${escapeHtml(formatAmount(p.amount, p.currency))}</td></tr>
<tr><th scope="row">Status</th><td data-testid="detail-status">${escapeHtml(p.status)}</td></tr>
<tr><th scope="row">Description</th><td>${escapeHtml(p.description ?? '')}</td></tr>
<tr><th scope="row">Terminal</th><td>${escapeHtml(p.payment_method_options.wechat_pay.terminal_type ?? '')}</td></tr>
<tr><th scope="row">out_trade_no</th><td>${escapeHtml(p.wechat_pay.out_trade_no)}</td></tr>${
    detail.earlierOrders.length
      ? `<tr><th scope="row">Earlier orders</th><td data-testid="earlier-orders">${detail.earlierOrders
          .map(
            (o) =>
              `${escapeHtml(o.out_trade_no)} (${escapeHtml(o.trade_state)}${
                o.transaction_id ? `, later reported paid: ${escapeHtml(o.transaction_id)}` : ''
              })`,
          )
          .join('<br>')}</td></tr>`
      : ''
  }
<tr><th scope="row">transaction_id</th><td>${escapeHtml(p.wechat_pay.transaction_id ?? '')}</td></tr>
<tr><th scope="row">Metadata</th><td><pre>${escapeHtml(JSON.stringify(p.metadata, null, 2))}</pre></td></tr>
</tbody></table>
${refundForm}
<h2>Refunds</h2><table><thead><tr><th scope="col">ID</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Created</th></tr></thead>
<tbody>${refunds || '<tr><td colspan="5">None</td></tr>'}</tbody></table>
<h2>Timeline</h2><ol data-testid="timeline">${timeline}</ol>
<h2>Raw WeChat payloads</h2>${payloads || '<p>None</p>'}`;
}

export function refundsView(
  rows: {
    id: string;
    payment_intent: string;
    amount: number;
    currency: string;
    status: string;
    created: number;
  }[],
): string {
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.id)}</td><td><a href="/dashboard/payments/${escapeHtml(r.payment_intent)}">${escapeHtml(
          r.payment_intent,
        )}</a></td><td>${escapeHtml(formatAmount(r.amount, r.currency))}</td><td>${escapeHtml(r.status)}</td><td>${date(r.created)}</td></tr>`,
    )
    .join('');
  return `<h1>Refunds</h1><table><thead><tr><th scope="col">ID</th><th scope="col">Payment</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Created (CST)</th></tr></thead>
<tbody>${body || '<tr><td colspan="5">No refunds yet.</td></tr>'}</tbody></table>`;
}
