// Finding an order by a prepay a payer holds (prepay_id, code_url, mweb_url), as WeChat's client does: a prepay
// lasts 2 hours (PREPAY_TTL_MS), an mweb_url 5 minutes (MWEB_URL_TTL_MS), and one replaced by a later unifiedorder
// of the same order is expired too.
import type { Services } from './endpoints/types.js';
import { mwebUrlExpired, type Order, prepayExpired } from './ledger/orders.js';
import { ok, type Result, refuse } from './result.js';

/** The order a prepay_id was issued for, if that prepay can still be used (see PREPAY_TTL_MS). */
export function orderOfPrepayId(services: Services, prepayId: string): Result<Order> {
  return orderOfPrepay(
    services,
    `prepay_id ${prepayId}`,
    (o) => o.prepayId === prepayId,
    (r) => r.prepayId === prepayId,
  );
}

export function orderOfPrepay(
  services: Services,
  what: string,
  current: (order: Order) => boolean,
  replaced: (prepay: { prepayId: string; codeUrl?: string }) => boolean,
): Result<Order> {
  const { ledger } = services;
  const order = ledger.orderWhere(current);
  if (order && !prepayExpired(order, services.clock.now())) return ok(order);
  if (order || ledger.orderWhere((o) => (o.replacedPrepays ?? []).some(replaced)))
    return refuse(
      'PREPAY_EXPIRED',
      `该订单已过期，请重新下单: ${what} was issued more than 2 hours ago. Call unifiedorder again with the ` +
        'same out_trade_no and parameters for a new one.',
    );
  return refuse('ORDERNOTEXIST', 'no such order');
}

/**
 * What names an mweb_url: its prepay_id and package, whatever the host it was reached by and whatever the
 * merchant appended (`&redirect_url=…`). A resent unifiedorder may give a new package under the same prepay_id.
 */
export function mwebUrlKey(mwebUrl: string): string | undefined {
  try {
    const params = new URL(mwebUrl).searchParams;
    const prepayId = params.get('prepay_id');
    const pkg = params.get('package');
    return prepayId && pkg ? `${prepayId}&${pkg}` : undefined;
  } catch {
    return undefined;
  }
}

/** The order whose current mweb_url this is (`current`), or one that was issued this mweb_url and replaced it. */
export function orderNamingMwebUrl(
  services: Services,
  mwebUrl: string,
): { order: Order; current: boolean } | undefined {
  const key = mwebUrlKey(mwebUrl);
  if (key === undefined) return undefined;
  const { ledger } = services;
  const named = (url: string | undefined) => url !== undefined && mwebUrlKey(url) === key;
  const order = ledger.orderWhere((o) => named(o.mwebUrl));
  if (order) return { order, current: true };
  const replaced = ledger.orderWhere((o) => (o.replacedMwebUrls ?? []).some(named));
  return replaced && { order: replaced, current: false };
}

/** The order an mweb_url was issued for, if that mweb_url can still be opened (see MWEB_URL_TTL_MS). */
export function orderOfMwebUrl(services: Services, mwebUrl: string): Result<Order> {
  const found = orderNamingMwebUrl(services, mwebUrl);
  if (found?.current && !mwebUrlExpired(found.order, services.clock.now())) return ok(found.order);
  if (found)
    return refuse(
      'MWEB_URL_EXPIRED',
      `支付请求已失效，请重新发起支付: mweb_url ${mwebUrl} was issued more than 5 minutes ago (an mweb_url lasts ` +
        '5 minutes, its prepay_id 2 hours). Call unifiedorder again with the same out_trade_no and parameters ' +
        'for a new one.',
    );
  return refuse('ORDERNOTEXIST', 'no such order');
}
