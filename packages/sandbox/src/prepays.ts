// Finding an order by a prepay a payer holds (prepay_id, code_url, mweb_url), as WeChat's client does: a prepay
// lasts 2 hours (PREPAY_TTL_MS), and one replaced by a later unifiedorder of the same order is expired too.
import type { Services } from './endpoints/types.js';
import { type Order, prepayExpired } from './ledger/orders.js';
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
