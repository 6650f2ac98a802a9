// The dashboard's Payouts views: red packets, transfers and coupons (tabs, keyset pages) and one payout with its raw replies.
import type { PayoutKind } from '../../domain/payout-state.js';
import type { couponView, redpackView, transferView } from '../../domain/payout-view.js';
import { escapeHtml, formatAmount } from '../html.js';
import { date } from './views.js';

type AnyPayoutView =
  | ReturnType<typeof redpackView>
  | ReturnType<typeof transferView>
  | ReturnType<typeof couponView>;

const TABS: { kind: PayoutKind; label: string }[] = [
  { kind: 'redpack', label: 'Red packets' },
  { kind: 'transfer', label: 'Transfers' },
  { kind: 'coupon', label: 'Coupons' },
];

function amountOf(p: AnyPayoutView): string {
  if (p.object === 'redpack') return formatAmount(p.total_amount, 'CNY');
  if (p.object === 'transfer') return formatAmount(p.amount, 'CNY');
  return '';
}

function summaryOf(p: AnyPayoutView): string {
  if (p.object === 'redpack') return `${p.type} · ${p.act_name ?? ''} · ${p.total_num}`;
  if (p.object === 'transfer') return p.description ?? '';
  return `stock ${p.coupon_stock_id ?? ''}`;
}

export interface PayoutsViewInput {
  kind: PayoutKind;
  data: AnyPayoutView[];
  hasMore: boolean;
  startingAfter: string | undefined;
}

export function payoutsView(input: PayoutsViewInput): string {
  const tabs = TABS.map(
    (t) =>
      `<a href="/dashboard/payouts?kind=${t.kind}"${t.kind === input.kind ? ' aria-current="page"' : ''}>${t.label}</a>`,
  ).join('');
  const rows = input.data
    .map(
      (p) =>
        `<tr data-testid="payout-row"><td><a href="/dashboard/payouts/${escapeHtml(p.id)}">${escapeHtml(p.id)}</a></td><td>${escapeHtml(
          amountOf(p),
        )}</td><td>${escapeHtml(p.status)}</td><td>${escapeHtml(p.object === 'redpack' ? p.re_openid : p.openid)}</td><td>${escapeHtml(summaryOf(p))}</td><td>${date(p.created)}</td></tr>`,
    )
    .join('');
  const lastId = input.data[input.data.length - 1]?.id;
  const pager = `<p>${input.startingAfter ? `<a href="/dashboard/payouts?kind=${input.kind}">← Newest</a> ` : ''}${
    input.hasMore && lastId
      ? `<a href="/dashboard/payouts?kind=${input.kind}&amp;starting_after=${escapeHtml(encodeURIComponent(lastId))}" rel="next">Older →</a>`
      : ''
  }</p>`;
  const label = TABS.find((t) => t.kind === input.kind)?.label ?? '';
  return `<h1>Payouts</h1><nav class="tabs" aria-label="Payout kinds">${tabs}</nav>
<table><caption class="sr">${escapeHtml(label)}, newest first</caption><thead><tr><th scope="col">ID</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">openid</th><th scope="col">What</th><th scope="col">Created (CST)</th></tr></thead>
<tbody>${rows || `<tr><td colspan="6">No ${escapeHtml(label.toLowerCase())} yet.</td></tr>`}</tbody></table>${pager}`;
}

export function payoutDetailView(
  view: AnyPayoutView,
  replies: { kind: string; body: string; created: number }[],
): string {
  const fields = Object.entries(view)
    .filter(([key]) => key !== 'raw_result' && key !== 'id' && key !== 'object')
    .map(
      ([key, value]) =>
        `<tr><th scope="row">${escapeHtml(key)}</th><td>${escapeHtml(
          typeof value === 'object' && value !== null ? JSON.stringify(value) : (value ?? ''),
        )}</td></tr>`,
    )
    .join('');
  const raw = replies
    .map(
      (r) =>
        `<h3>${escapeHtml(r.kind)} · ${date(Math.floor(r.created / 1000))}</h3><pre data-testid="payout-reply">${escapeHtml(r.body)}</pre>`,
    )
    .join('');
  return `<h1>${escapeHtml(view.object === 'redpack' ? 'Red packet' : view.object === 'transfer' ? 'Transfer' : 'Coupon')} ${escapeHtml(view.id)}</h1>
<p><a href="/dashboard/payouts?kind=${escapeHtml(view.object)}">← All</a></p>
<table><tbody><tr><th scope="row">Amount</th><td data-testid="payout-amount">${escapeHtml(amountOf(view))}</td></tr>${fields}</tbody></table>
<h2>Raw WeChat replies</h2>${raw || (view.raw_result ? `<pre data-testid="payout-reply">${escapeHtml(view.raw_result)}</pre>` : '<p>None yet</p>')}`;
}
