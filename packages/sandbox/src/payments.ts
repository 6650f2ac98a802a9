// What happens when the payer acts and when money goes back: the order moves, the balance moves,
// and the notify is raised. Shared by the wire endpoints and the control API.
import { checkClientParams, clientKindOf } from './client-params.js';
import type { Services } from './endpoints/types.js';
import { checkH5Opening } from './h5-referer.js';
import { type Order, type PayOutcome, settle } from './ledger/orders.js';
import { REFUND_SETTLE_SECONDS, type Refund, succeedRefund } from './ledger/refunds.js';
import { paymentNotify, refundNotify } from './notify-bodies.js';
import { orderNamingMwebUrl, orderOfMwebUrl, orderOfPrepay, orderOfPrepayId } from './prepays.js';
import { ok, type Result, refuse } from './result.js';

/** A new payer identity, shaped like an openid. */
export function newOpenid(services: Services): string {
  return `o${services.ledger.random.alnum(27)}`;
}

/**
 * Applies the payer's outcome to an order. SUCCESS credits the merchant and raises the payment
 * notify (micropay has no notify_url, so none is sent for it).
 */
export function payOrder(
  services: Services,
  order: Order,
  outcome: PayOutcome,
  openid?: string,
): Result<Order> {
  const now = services.clock.now();
  const next = settle(order, outcome, now);
  if (!next.ok) return next;
  // A JSAPI order names its payer (openid at unifiedorder); WeChat's client refuses anyone else.
  if (order.tradeType === 'JSAPI' && openid && order.openid && openid !== order.openid)
    return refuse('OPENID_MISMATCH', '下单账号与支付账号不一致，请核实后再支付');
  if (outcome === 'CANCEL') return next;
  const paid = services.ledger.saveOrder({
    ...next.value,
    openid: next.value.openid ?? openid ?? newOpenid(services),
  });
  if (paid.state !== 'SUCCESS') return ok(paid);
  services.ledger.move(paid.mchId, 'payment', paid.totalFee, paid.outTradeNo, paid.transactionId, now);
  const merchant = services.merchantById(paid.mchId);
  if (paid.notifyUrl && merchant) {
    const bodies = paymentNotify(paid, merchant, services.ledger.nonce());
    services.notifier.raise({
      kind: 'payment',
      mchId: paid.mchId,
      ref: paid.outTradeNo,
      url: paid.notifyUrl,
      ...bodies,
    });
  }
  return ok(paid);
}

/** After the settle delay the refund succeeds and its notify (if it has a notify_url) is raised. */
export function scheduleRefundSuccess(services: Services, refund: Refund): void {
  services.clock.at(refund.createdAt + REFUND_SETTLE_SECONDS * 1000, () => {
    const current = services.ledger.refund(refund.mchId, refund.outRefundNo);
    if (current?.status !== 'PROCESSING') return;
    const done = services.ledger.saveRefund(succeedRefund(current, services.clock.now()));
    const order = services.ledger.order(done.mchId, done.outTradeNo);
    const merchant = services.merchantById(done.mchId);
    if (!done.notifyUrl || !order || !merchant) return;
    const bodies = refundNotify(done, order, merchant, services.ledger.nonce());
    services.notifier.raise({
      kind: 'refund',
      mchId: done.mchId,
      ref: done.outRefundNo,
      url: done.notifyUrl,
      ...bodies,
    });
  });
}

/**
 * WeChat's H5 page checks where the payer came from before it shows an mweb_url's order (see h5-referer.ts).
 * `referer` is the Referer the browser sent: '' or null for none.
 */
function checkMwebReferer(services: Services, mwebUrl: string, referer: unknown): Result<void> {
  if (referer !== null && typeof referer !== 'string')
    return refuse(
      'PARAM_ERROR',
      'referer must be a string: the Referer the payer\'s browser sent ("" for none)',
    );
  const order = orderNamingMwebUrl(services, mwebUrl)?.order;
  const domains = (order && services.merchantById(order.mchId)?.h5Domains) ?? [];
  let redirectUrl: string | undefined;
  try {
    redirectUrl = new URL(mwebUrl).searchParams.get('redirect_url') ?? undefined;
  } catch {
    redirectUrl = undefined;
  }
  const setting = `PUT /sandbox/v1/merchants/${order?.mchId ?? '{mch_id}'}/h5_domains`;
  return checkH5Opening(referer ?? '', redirectUrl, domains, setting);
}

/**
 * Finds the order a control-API payer call points at. The client's own parameters (`jsapi`, `app`) are
 * first checked as WeChat's client checks them; an mweb_url given with a `referer` (as the H5 page gives it) is
 * checked as WeChat's H5 page checks the browser that opens it.
 */
export function findPayable(
  services: Services,
  target: {
    code_url?: unknown;
    prepay_id?: unknown;
    mweb_url?: unknown;
    mch_id?: unknown;
    out_trade_no?: unknown;
    jsapi?: unknown;
    app?: unknown;
    referer?: unknown;
  },
): Result<Order> {
  const { ledger } = services;
  const client = clientKindOf(target);
  if (client) return checkClientParams(services, client, target[client]);
  if (typeof target.code_url === 'string') {
    const codeUrl = target.code_url;
    return orderOfPrepay(
      services,
      codeUrl,
      (o) => o.codeUrl === codeUrl,
      (r) => r.codeUrl === codeUrl,
    );
  }
  if (typeof target.prepay_id === 'string') return orderOfPrepayId(services, target.prepay_id);
  if (typeof target.mweb_url === 'string') {
    if (target.referer !== undefined) {
      const opened = checkMwebReferer(services, target.mweb_url, target.referer);
      if (!opened.ok) return opened;
    }
    return orderOfMwebUrl(services, target.mweb_url);
  }
  if (typeof target.mch_id === 'string' && typeof target.out_trade_no === 'string') {
    const order = ledger.order(target.mch_id, target.out_trade_no);
    return order ? ok(order) : refuse('ORDERNOTEXIST', 'no such order');
  }
  return refuse(
    'PARAM_ERROR',
    'give one of jsapi, app, code_url, prepay_id, mweb_url, or mch_id with out_trade_no',
  );
}
