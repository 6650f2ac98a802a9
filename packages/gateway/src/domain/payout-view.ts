// The API representations of payout rows: /v1 red packets, transfers, coupons, and the BaaS red-packet object.
import { fenToYuan, type RedpackReceipt } from '@wxpay/sdk';
import type { PayoutRow } from '../db/schema-payouts.js';
import type { PayoutKind } from './payout-state.js';
import { toUnixSeconds } from './time.js';

type Fields = Record<string, string | undefined>;

const parse = <T>(text: string | null, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);
const fieldsOf = (row: PayoutRow): Fields => parse<Fields>(row.request, {});
const orNull = (value: string | undefined): string | null =>
  value === undefined || value === '' ? null : value;

function common(row: PayoutRow) {
  return {
    id: row.id,
    status: row.status,
    livemode: row.livemode === 1,
    created: toUnixSeconds(row.created),
    failure_code: row.failure_code,
    failure_message: row.failure_message,
    raw_result: row.raw_result,
  };
}

export function redpackView(row: PayoutRow) {
  const f = fieldsOf(row);
  const detail = parse<Fields>(row.detail, {});
  return {
    ...common(row),
    object: 'redpack' as const,
    type: row.subtype as 'normal' | 'fission',
    mch_billno: row.wechat_no,
    send_listid: row.wechat_id,
    re_openid: row.openid,
    send_name: f.send_name ?? null,
    total_amount: row.amount ?? 0,
    total_num: Number(f.total_num ?? 1),
    wishing: f.wishing ?? null,
    act_name: f.act_name ?? null,
    remark: f.remark ?? null,
    scene_id: orNull(f.scene_id),
    risk_info: orNull(f.risk_info),
    consume_mch_id: orNull(f.consume_mch_id),
    amt_type: orNull(f.amt_type),
    hblist: parse<RedpackReceipt[]>(row.hblist, []),
    refund_amount: detail.refund_amount === undefined ? null : Number(detail.refund_amount),
    superseded_mch_billnos: parse<string[]>(row.superseded_numbers, []),
  };
}

export function transferView(row: PayoutRow) {
  const f = fieldsOf(row);
  const detail = parse<Fields>(row.detail, {});
  return {
    ...common(row),
    object: 'transfer' as const,
    openid: row.openid,
    amount: row.amount ?? 0,
    description: f.desc ?? null,
    check_name: f.check_name ?? 'NO_CHECK',
    re_user_name: orNull(f.re_user_name),
    partner_trade_no: row.wechat_no,
    payment_no: row.wechat_id,
    payment_time: orNull(detail.payment_time ?? parse<Fields>(row.result, {}).payment_time),
    superseded_partner_trade_nos: parse<string[]>(row.superseded_numbers, []),
  };
}

export function couponView(row: PayoutRow) {
  const f = fieldsOf(row);
  return {
    ...common(row),
    object: 'coupon' as const,
    coupon_stock_id: f.coupon_stock_id ?? null,
    openid: row.openid,
    coupon_id: row.wechat_id,
    partner_trade_no: row.wechat_no,
  };
}

export function payoutView(row: PayoutRow) {
  const views: Record<PayoutKind, (r: PayoutRow) => object> = {
    redpack: redpackView,
    transfer: transferView,
    coupon: couponView,
  };
  return views[row.kind as PayoutKind](row);
}

/** The BaaS platform's red-packet record: yuan amounts, Unix-second times, WeChat's send result. */
export function baasRedpackObject(row: PayoutRow) {
  const f = fieldsOf(row);
  const sent = parse<Fields | null>(row.result, null);
  return {
    act_name: f.act_name ?? null,
    amt_type: orNull(f.amt_type),
    created_at: toUnixSeconds(row.created),
    id: row.id,
    mch_billno: row.wechat_no,
    miniapp_id: null,
    official_account_id: f.wxappid ?? null,
    pk: row.id,
    raw_result: row.raw_result,
    re_openid: row.openid,
    remark: f.remark ?? null,
    result: sent
      ? {
          mch_billno: sent.mch_billno ?? row.wechat_no,
          send_listid: sent.send_listid ?? '',
          return_code: 'SUCCESS',
        }
      : null,
    risk_info: orNull(f.risk_info),
    scene_id: orNull(f.scene_id),
    send_name: f.send_name ?? null,
    status: row.status,
    total_amount: Number(fenToYuan(row.amount ?? 0)),
    total_num: Number(f.total_num ?? 1),
    type: row.subtype,
    updated_at: toUnixSeconds(row.updated),
    wishing: f.wishing ?? null,
  };
}
