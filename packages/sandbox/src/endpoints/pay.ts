// The payment endpoints: unifiedorder, micropay, orderquery, closeorder, reverse.
import {
  close,
  mwebUrlExpired,
  type Order,
  prepayExpired,
  reverse,
  TRADE_STATE_DESC,
  type TradeType,
} from '../ledger/orders.js';
import { paidFields } from '../notify-bodies.js';
import { payOrder } from '../payments.js';
import { parseCompactTime } from '../time.js';
import { fingerprint, IP, URL_RULE } from '../validate.js';
import { NONCE, ORDER_REF_RULES, OUT_TRADE_NO, PAY_ROW, SIGN_TYPE } from './common.js';
import { type Answer, type CallContext, type EndpointDef, refused, type Services } from './types.js';

/** Unpaid orders expire after two hours unless time_expire says otherwise. */
const DEFAULT_EXPIRY_MS = 2 * 60 * 60 * 1000;
/** A USERPAYING micropay completes after the payer has "typed the password" for this long. */
const USERPAYING_SECONDS = 10;

const ORDER_RULES = [
  { name: 'appid', required: true, max: 32 },
  { name: 'mch_id', required: true, max: 32 },
  { name: 'device_info', max: 32 },
  NONCE,
  SIGN_TYPE,
  { name: 'body', required: true, max: 128 },
  { name: 'detail', max: 6000 },
  { name: 'attach', max: 127 },
  { ...OUT_TRADE_NO, required: true },
  { name: 'fee_type', oneOf: ['CNY'] },
  { name: 'total_fee', required: true, int: { min: 1, max: 100_000_000_000 } },
  { name: 'spbill_create_ip', required: true, max: 64, pattern: IP },
  { name: 'time_start', pattern: /^\d{14}$/ },
  { name: 'time_expire', pattern: /^\d{14}$/ },
  { name: 'goods_tag', max: 32 },
  { name: 'limit_pay', oneOf: ['no_credit'] },
  { name: 'receipt', oneOf: ['Y'] },
] as const;

function newOrder(ctx: CallContext, tradeType: TradeType): Order {
  const { fields, now, ledger } = ctx;
  const expire = fields.time_expire ? parseCompactTime(fields.time_expire) : undefined;
  return {
    mchId: ctx.merchant.mchId,
    appid: fields.appid ?? ctx.merchant.appid,
    outTradeNo: fields.out_trade_no!,
    transactionId: ledger.newId('transaction', now),
    tradeType,
    state: 'NOTPAY',
    body: fields.body!,
    totalFee: Number(fields.total_fee),
    feeType: fields.fee_type || 'CNY',
    openid: fields.openid || undefined,
    attach: fields.attach || undefined,
    deviceInfo: fields.device_info || undefined,
    notifyUrl: fields.notify_url || undefined,
    signType: ctx.signType,
    keyRealm: ctx.keyRealm,
    createdAt: now,
    expiresAt: expire ?? now + DEFAULT_EXPIRY_MS,
    paidAt: undefined,
    prepayId: undefined,
    codeUrl: undefined,
    mwebUrl: undefined,
    fingerprint: fingerprint(fields),
    refundedFee: 0,
    refundCount: 0,
  };
}

function prepayReply(order: Order): Answer {
  return {
    kind: 'ok',
    fields: {
      device_info: order.deviceInfo,
      trade_type: order.tradeType,
      prepay_id: order.prepayId,
      code_url: order.codeUrl,
      mweb_url: order.mwebUrl,
    },
  };
}

/**
 * A resent out_trade_no: the same request gets the same answer, a different one is refused. Once the prepay has
 * expired (PREPAY_TTL_MS), the same request gets a new prepay for the same order, while it can still be paid; once
 * an MWEB order's mweb_url has (MWEB_URL_TTL_MS), a new mweb_url under the same prepay_id.
 */
function existingOrder(order: Order, ctx: CallContext): Answer {
  if (order.state === 'SUCCESS' || order.state === 'REFUND') return refused('ORDERPAID', '该订单已支付');
  if (order.state === 'CLOSED') return refused('ORDERCLOSED', '该订单已关');
  if (order.state === 'REVOKED') return refused('ORDERREVERSED', '该订单已撤销');
  if (order.tradeType === 'MICROPAY') return refused('OUT_TRADE_NO_USED', '商户订单号重复');
  if (order.fingerprint !== fingerprint(ctx.fields)) return refused('INVALID_REQUEST', '201 商户订单号重复');
  if (order.state === 'NOTPAY' && prepayExpired(order, ctx.now)) {
    const replaced = { prepayId: order.prepayId!, ...(order.codeUrl ? { codeUrl: order.codeUrl } : {}) };
    return prepayReply(
      ctx.ledger.saveOrder(
        issuePrepay(ctx, {
          ...withMwebUrlReplaced(order),
          replacedPrepays: [...(order.replacedPrepays ?? []), replaced],
        }),
      ),
    );
  }
  if (order.state === 'NOTPAY' && mwebUrlExpired(order, ctx.now)) {
    return prepayReply(
      ctx.ledger.saveOrder({
        ...withMwebUrlReplaced(order),
        mwebUrl: newMwebUrl(ctx, order.prepayId!),
        mwebAt: ctx.now,
      }),
    );
  }
  return prepayReply(order);
}

/** The order with its current mweb_url (if any) kept among the replaced ones, which a payer is told expired. */
function withMwebUrlReplaced(order: Order): Order {
  if (order.mwebUrl === undefined) return order;
  return { ...order, replacedMwebUrls: [...(order.replacedMwebUrls ?? []), order.mwebUrl] };
}

/** An mweb_url of the sandbox's payer page; like WeChat's checkmweb URL it names the prepay_id and a package. */
function newMwebUrl(ctx: CallContext, prepayId: string): string {
  return `${ctx.baseUrl()}/sandbox/pay?prepay_id=${prepayId}&package=${ctx.ledger.random.digits(10)}`;
}

/** A new prepay_id for the order, with the code_url (NATIVE) or mweb_url (MWEB) that goes with it. */
function issuePrepay(ctx: CallContext, order: Order): Order {
  const { ledger } = ctx;
  const prepayId = ledger.newId('prepay', ctx.now);
  const mweb = order.tradeType === 'MWEB';
  return {
    ...order,
    prepayId,
    prepayAt: ctx.now,
    codeUrl: order.tradeType === 'NATIVE' ? `weixin://wxpay/bizpayurl?pr=${ledger.newId('pr')}` : undefined,
    mwebUrl: mweb ? newMwebUrl(ctx, prepayId) : undefined,
    mwebAt: mweb ? ctx.now : undefined,
  };
}

export const unifiedOrder: EndpointDef = {
  ...PAY_ROW,
  name: 'unifiedorder',
  path: '/pay/unifiedorder',
  rules: [
    ...ORDER_RULES,
    { name: 'notify_url', required: true, max: 256, pattern: URL_RULE },
    { name: 'trade_type', required: true, oneOf: ['JSAPI', 'NATIVE', 'APP', 'MWEB'] },
    { name: 'product_id', max: 32 },
    { name: 'openid', max: 128 },
    { name: 'scene_info', max: 256 },
  ],
  handle(ctx) {
    const { fields, ledger } = ctx;
    const tradeType = fields.trade_type as TradeType;
    if (tradeType === 'JSAPI' && !fields.openid && !fields.sub_openid) {
      return refused('PARAM_ERROR', 'JSAPI支付必须传openid');
    }
    if (tradeType === 'NATIVE' && !fields.product_id) {
      return refused('PARAM_ERROR', 'trade_type为NATIVE时，product_id为必填参数');
    }
    const existing = ledger.order(ctx.merchant.mchId, fields.out_trade_no!);
    if (existing) return existingOrder(existing, ctx);
    return prepayReply(ledger.saveOrder(issuePrepay(ctx, newOrder(ctx, tradeType))));
  },
};

function micropayReply(order: Order): Answer {
  return { kind: 'ok', fields: paidFields(order) };
}

function micropayState(order: Order): Answer {
  switch (order.state) {
    case 'SUCCESS':
    case 'REFUND':
      return micropayReply(order);
    case 'USERPAYING':
    case 'NOTPAY':
      return refused('USERPAYING', '需要用户输入支付密码');
    case 'PAYERROR':
      return refused('TRADE_ERROR', '交易错误');
    case 'REVOKED':
      return refused('ORDERREVERSED', '该订单已撤销');
    case 'CLOSED':
      return refused('ORDERCLOSED', '该订单已关');
  }
}

export const micropay: EndpointDef = {
  ...PAY_ROW,
  name: 'micropay',
  path: '/pay/micropay',
  rules: [...ORDER_RULES, { name: 'auth_code', required: true, max: 128, pattern: /^1[0-5]\d{16}$/ }],
  handle(ctx) {
    const { fields, ledger } = ctx;
    const existing = ledger.order(ctx.merchant.mchId, fields.out_trade_no!);
    if (existing) {
      // A resend of the same micropay (after a timeout or SYSTEMERROR) reports the order as it stands.
      if (existing.tradeType !== 'MICROPAY' || existing.fingerprint !== fingerprint(fields)) {
        return refused('OUT_TRADE_NO_USED', '商户订单号重复');
      }
      return micropayState(existing);
    }
    const code = ledger.paymentCodes.get(fields.auth_code!);
    if (!code) return refused('AUTH_CODE_INVALID', '授权码检验错误');
    if (code.used) return refused('AUTHCODEEXPIRE', '二维码已过期，请用户在微信上刷新后再试');
    ledger.savePaymentCode({ ...code, used: true });
    const order = ledger.saveOrder({ ...newOrder(ctx, 'MICROPAY'), openid: code.openid });
    const negative = String(ctx.headers['wechatpay-negative-test'] ?? '').toUpperCase();
    switch (negative) {
      case 'MICROPAY_USERPAYING': {
        const waiting = payOrder(
          ctx,
          ledger.saveOrder({ ...order, payerFinishesAt: ctx.clock.now() + USERPAYING_SECONDS * 1000 }),
          'USERPAYING',
        );
        if (waiting.ok) scheduleUserpayingSuccess(ctx, waiting.value);
        return waiting.ok
          ? refused('USERPAYING', '需要用户输入支付密码')
          : refused(waiting.error.code, waiting.error.des);
      }
      case 'MICROPAY_PAYERROR':
        payOrder(ctx, order, 'PAYERROR');
        return refused('TRADE_ERROR', '交易错误');
      case 'MICROPAY_TIMEOUT':
        payOrder(ctx, order, 'SUCCESS');
        return { kind: 'hang' };
      case 'MICROPAY_PAY_QUERY_TIMEOUT':
        payOrder(ctx, order, 'SUCCESS');
        return refused('SYSTEMERROR', '系统超时');
    }
    const paid = payOrder(ctx, order, 'SUCCESS', code.openid);
    return paid.ok ? micropayReply(paid.value) : refused(paid.error.code, paid.error.des);
  },
};

/** The payer of a USERPAYING negative-test micropay finishes at payerFinishesAt (re-armed after a restart). */
export function scheduleUserpayingSuccess(services: Services, order: Order): void {
  if (order.payerFinishesAt === undefined) return;
  services.clock.at(order.payerFinishesAt, () => {
    const current = services.ledger.order(order.mchId, order.outTradeNo);
    if (current?.state === 'USERPAYING') payOrder(services, current, 'SUCCESS');
  });
}

/** orderquery, closeorder and reverse name the order by transaction_id or out_trade_no. */
function findOrder(ctx: CallContext): Order | undefined {
  const { fields } = ctx;
  return ctx.ledger.findOrder(ctx.merchant.mchId, {
    transactionId: fields.transaction_id || undefined,
    outTradeNo: fields.out_trade_no || undefined,
  });
}

function needsOrderRef(ctx: CallContext): Answer | undefined {
  if (!ctx.fields.transaction_id && !ctx.fields.out_trade_no)
    return { kind: 'fail', msg: '缺少参数out_trade_no' };
  return undefined;
}

export const orderQuery: EndpointDef = {
  ...PAY_ROW,
  name: 'orderquery',
  path: '/pay/orderquery',
  rules: ORDER_REF_RULES,
  handle(ctx) {
    const missing = needsOrderRef(ctx);
    if (missing) return missing;
    const order = findOrder(ctx);
    if (!order) return refused('ORDERNOTEXIST', '此交易订单号不存在');
    const paid = order.state === 'SUCCESS' || order.state === 'REFUND';
    const fields = paid
      ? paidFields(order)
      : {
          out_trade_no: order.outTradeNo,
          total_fee: String(order.totalFee),
          fee_type: order.feeType,
          trade_type: order.tradeType,
          attach: order.attach,
          device_info: order.deviceInfo,
          openid: order.openid,
        };
    return {
      kind: 'ok',
      fields: { ...fields, trade_state: order.state, trade_state_desc: TRADE_STATE_DESC[order.state] },
    };
  },
};

export const closeOrder: EndpointDef = {
  ...PAY_ROW,
  name: 'closeorder',
  path: '/pay/closeorder',
  rules: [...ORDER_REF_RULES.filter((r) => r.name !== 'out_trade_no'), { ...OUT_TRADE_NO, required: true }],
  handle(ctx) {
    const order = ctx.ledger.order(ctx.merchant.mchId, ctx.fields.out_trade_no!);
    if (!order) return refused('ORDERNOTEXIST', '此交易订单号不存在');
    const closed = close(order, ctx.now);
    if (!closed.ok) return refused(closed.error.code, closed.error.des);
    ctx.ledger.saveOrder(closed.value);
    return { kind: 'ok', fields: { result_msg: 'OK' } };
  },
};

export const reverseOrder: EndpointDef = {
  ...PAY_ROW,
  cert: true,
  name: 'reverse',
  path: '/secapi/pay/reverse',
  rules: ORDER_REF_RULES,
  handle(ctx) {
    const missing = needsOrderRef(ctx);
    if (missing) return missing;
    const order = findOrder(ctx);
    if (!order) return refused('ORDERNOTEXIST', '此交易订单号不存在', { recall: 'N' });
    const reversed = reverse(order);
    if (!reversed.ok) return refused(reversed.error.code, reversed.error.des, { recall: 'N' });
    ctx.ledger.saveOrder(reversed.value.order);
    if (reversed.value.refundFee > 0) {
      ctx.ledger.move(
        order.mchId,
        'reverse',
        -reversed.value.refundFee,
        order.outTradeNo,
        order.transactionId,
        ctx.now,
      );
    }
    return { kind: 'ok', fields: { recall: 'N' } };
  },
};
