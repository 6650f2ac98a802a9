// 代金券: send_coupon (idempotent by partner_trade_no), query_coupon_stock and querycouponsinfo.
import { type Coupon, type CouponStock, STOCK_ACTIVE, takeCoupon } from '../ledger/coupons.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Merchant } from '../merchants.js';
import { dateTime } from '../time.js';
import { MERCHANT_NO } from '../validate.js';
import { NONCE, PAYOUT_ROW } from './common.js';
import { type Answer, type EndpointDef, refused } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every merchant starts with one active stock: 5 yuan off orders of 10 yuan, 100 coupons, 3 per user. */
export function seedCouponStock(ledger: Ledger, merchant: Merchant, now: number): CouponStock {
  return ledger.saveStock({
    mchId: merchant.mchId,
    stockId: merchant.couponStockId,
    name: '沙箱代金券',
    value: 500,
    minimum: 1000,
    total: 100,
    sent: 0,
    maxPerUser: 3,
    beginAt: now - DAY_MS,
    endAt: now + 365 * DAY_MS,
    createdAt: now - DAY_MS,
  });
}

const COUPON_ROW = { ...PAYOUT_ROW, reply: 'signed' } as const;
const IDS = [
  { name: 'appid', required: true, max: 32 },
  { name: 'mch_id', required: true, max: 32 },
  NONCE,
] as const;

function sentReply(coupon: Coupon): Answer {
  return {
    kind: 'ok',
    fields: {
      coupon_stock_id: coupon.stockId,
      resp_count: 1,
      success_count: 1,
      failed_count: 0,
      openid: coupon.openid,
      ret_code: 'SUCCESS',
      coupon_id: coupon.couponId,
      ret_msg: '',
    },
  };
}

export const sendCoupon: EndpointDef = {
  ...COUPON_ROW,
  name: 'send_coupon',
  path: '/mmpaymkttransfers/send_coupon',
  rules: [
    ...IDS,
    { name: 'coupon_stock_id', required: true, max: 64 },
    { name: 'openid_count', required: true, oneOf: ['1'] },
    { name: 'partner_trade_no', required: true, max: 64, pattern: MERCHANT_NO },
    { name: 'openid', required: true, max: 64 },
    { name: 'op_user_id', max: 32 },
    { name: 'device_info', max: 32 },
    { name: 'version', max: 32 },
    { name: 'type', max: 32 },
  ],
  handle(ctx) {
    const { fields, ledger, now } = ctx;
    const mchId = ctx.merchant.mchId;
    const previous = [...ledger.coupons.values()].find(
      (c) => c.mchId === mchId && c.partnerTradeNo === fields.partner_trade_no,
    );
    if (previous) {
      if (previous.openid !== fields.openid || previous.stockId !== fields.coupon_stock_id) {
        return refused('PARAM_ERROR', '商户单据号重复，且参数与原请求不一致');
      }
      return sentReply(previous);
    }
    const stock = ledger.stock(mchId, fields.coupon_stock_id!);
    if (!stock) return refused('NOT_FOUND', '指定的代金券批次不存在');
    const held = [...ledger.coupons.values()].filter(
      (c) => c.mchId === mchId && c.stockId === stock.stockId && c.openid === fields.openid,
    ).length;
    const next = takeCoupon(stock, held, now);
    if (!next.ok) return refused(next.error.code, next.error.des);
    ledger.saveStock(next.value);
    const coupon = ledger.saveCoupon({
      mchId,
      stockId: stock.stockId,
      couponId: ledger.newId('coupon'),
      openid: fields.openid!,
      partnerTradeNo: fields.partner_trade_no!,
      state: 'SENDED',
      sentAt: now,
    });
    return sentReply(coupon);
  },
};

export const queryCouponStock: EndpointDef = {
  ...COUPON_ROW,
  cert: false,
  name: 'query_coupon_stock',
  path: '/mmpaymkttransfers/query_coupon_stock',
  rules: [...IDS, { name: 'coupon_stock_id', required: true, max: 64 }, { name: 'op_user_id', max: 32 }],
  handle(ctx) {
    const stock = ctx.ledger.stock(ctx.merchant.mchId, ctx.fields.coupon_stock_id!);
    if (!stock) return refused('NOT_FOUND', '指定的代金券批次不存在');
    return {
      kind: 'ok',
      fields: {
        coupon_stock_id: stock.stockId,
        coupon_name: stock.name,
        coupon_value: stock.value,
        // Spelled this way by WeChat.
        coupon_mininumn: stock.minimum,
        coupon_stock_status: STOCK_ACTIVE,
        coupon_total: stock.total,
        max_quota: stock.maxPerUser,
        is_send_num: stock.sent,
        begin_time: dateTime(stock.beginAt),
        end_time: dateTime(stock.endAt),
        create_time: dateTime(stock.createdAt),
        coupon_budget: stock.total * stock.value,
      },
    };
  },
};

export const queryCouponsInfo: EndpointDef = {
  ...COUPON_ROW,
  cert: false,
  name: 'querycouponsinfo',
  path: '/mmpaymkttransfers/querycouponsinfo',
  rules: [
    ...IDS,
    { name: 'coupon_id', required: true, max: 64 },
    { name: 'openid', required: true, max: 64 },
    { name: 'stock_id', required: true, max: 64 },
  ],
  handle(ctx) {
    const { fields } = ctx;
    const coupon = ctx.ledger.coupon(ctx.merchant.mchId, fields.coupon_id!);
    if (!coupon || coupon.openid !== fields.openid || coupon.stockId !== fields.stock_id) {
      return refused('NOT_FOUND', '指定的代金券不存在');
    }
    const stock = ctx.ledger.stock(coupon.mchId, coupon.stockId);
    return {
      kind: 'ok',
      fields: {
        coupon_stock_id: coupon.stockId,
        coupon_id: coupon.couponId,
        coupon_value: stock?.value,
        coupon_mininum: stock?.minimum,
        coupon_name: stock?.name,
        coupon_state: coupon.state,
        coupon_desc: stock?.name,
        coupon_use_value: 0,
        coupon_remain_value: stock?.value,
        begin_time: stock ? dateTime(stock.beginAt) : undefined,
        end_time: stock ? dateTime(stock.endAt) : undefined,
        send_time: dateTime(coupon.sentAt),
        send_source: 'FULL_SEND',
        is_partial_use: '0',
      },
    };
  },
};
