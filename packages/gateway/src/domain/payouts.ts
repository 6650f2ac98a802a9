// Red packets, transfers and coupons: create (rules, then store-then-send), retrieve, list, coupon queries.
import { type QueryCouponStockReply, type QueryCouponsInfoReply, WechatPayError } from '@wxpay/sdk';
import type { PayoutRow } from '../db/schema-payouts.js';
import { type AuthContext, loadAccount, type ServiceContext } from './context.js';
import { notFound } from './errors.js';
import { type ListParams, type ListResult, paginate } from './pagination.js';
import { toApiError } from './payment-intents.js';
import { checkRedpackRules, checkTransferRules } from './payout-rules.js';
import { createPayout, type NewPayout } from './payout-sending.js';
import type { PayoutKind } from './payout-state.js';

export interface RedpackInput {
  type: 'normal' | 'fission';
  re_openid: string;
  send_name: string;
  total_amount: number;
  total_num: number;
  wishing: string;
  act_name: string;
  remark: string;
  scene_id?: string;
  risk_info?: string;
  consume_mch_id?: string;
  amt_type?: 'ALL_RAND';
  /** The official account's appid (BaaS official_account_id); default the account's appid. */
  wxappid?: string;
  /** The calling server's IPv4, which sendredpack requires. */
  client_ip?: string;
}

/** Checks WeChat's rules, then stores and sends. Nothing is stored when a rule is broken. */
export function redpackPayout(input: RedpackInput, source: 'api' | 'baas' = 'api'): NewPayout {
  checkRedpackRules(input);
  const fission = input.type === 'fission';
  return {
    kind: 'redpack',
    subtype: input.type,
    source,
    amount: input.total_amount,
    openid: input.re_openid,
    fields: {
      wxappid: input.wxappid,
      send_name: input.send_name,
      re_openid: input.re_openid,
      total_amount: input.total_amount,
      total_num: input.total_num,
      wishing: input.wishing,
      act_name: input.act_name,
      remark: input.remark,
      scene_id: input.scene_id,
      risk_info: input.risk_info,
      consume_mch_id: input.consume_mch_id,
      ...(fission
        ? { amt_type: input.amt_type ?? 'ALL_RAND' }
        : { client_ip: input.client_ip ?? '127.0.0.1' }),
    },
  };
}

export function createRedpack(
  ctx: ServiceContext,
  auth: AuthContext,
  input: RedpackInput,
  source?: 'api' | 'baas',
) {
  return createPayout(ctx, auth, redpackPayout(input, source));
}

export interface TransferInput {
  openid: string;
  amount: number;
  description: string;
  check_name: 'NO_CHECK' | 'FORCE_CHECK';
  re_user_name?: string;
  spbill_create_ip?: string;
}

export function createTransfer(ctx: ServiceContext, auth: AuthContext, input: TransferInput) {
  checkTransferRules(input);
  return createPayout(ctx, auth, {
    kind: 'transfer',
    amount: input.amount,
    openid: input.openid,
    fields: {
      openid: input.openid,
      amount: input.amount,
      desc: input.description,
      check_name: input.check_name,
      re_user_name: input.re_user_name,
      spbill_create_ip: input.spbill_create_ip,
    },
  });
}

export function createCoupon(
  ctx: ServiceContext,
  auth: AuthContext,
  input: { coupon_stock_id: string; openid: string },
) {
  return createPayout(ctx, auth, {
    kind: 'coupon',
    openid: input.openid,
    fields: { coupon_stock_id: input.coupon_stock_id, openid: input.openid },
  });
}

export async function retrievePayout(
  ctx: ServiceContext,
  auth: AuthContext,
  kind: PayoutKind,
  id: string,
): Promise<PayoutRow> {
  const row = await ctx.db
    .selectFrom('payouts')
    .selectAll()
    .where('id', '=', id)
    .where('kind', '=', kind)
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!row) throw notFound(kind, id);
  return row;
}

export async function findRedpackByBillno(
  ctx: ServiceContext,
  auth: AuthContext,
  billno: string,
): Promise<PayoutRow> {
  const row = await ctx.db
    .selectFrom('payouts')
    .selectAll()
    .where('wechat_no', '=', billno)
    .where('kind', '=', 'redpack')
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!row) throw notFound('redpack', billno, 'mch_billno');
  return row;
}

export interface PayoutListParams extends ListParams {
  status?: string;
}

/** Newest first by (created, id), with the shared keyset pagination; `view` renders each record. */
export function listPayouts<T>(
  ctx: ServiceContext,
  auth: AuthContext,
  kind: PayoutKind,
  params: PayoutListParams,
  view: (row: PayoutRow) => T,
): Promise<ListResult<T>> {
  return paginate(
    ctx.db,
    'payouts',
    auth,
    params,
    (q) => {
      const ofKind = q.where('kind', '=', kind);
      return params.status ? ofKind.where('status', '=', params.status) : ofKind;
    },
    (row) => view(row as unknown as PayoutRow),
  );
}

/** Offset pagination for the BaaS list, with its total count. */
export async function pageRedpacks(
  ctx: ServiceContext,
  auth: AuthContext,
  limit: number,
  offset: number,
): Promise<{ rows: PayoutRow[]; total: number }> {
  const scoped = ctx.db
    .selectFrom('payouts')
    .where('kind', '=', 'redpack')
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0);
  const counted = await scoped.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  const rows = await scoped
    .selectAll()
    .orderBy('created', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
  return { rows, total: Number(counted.n) };
}

async function wechatQuery<T>(
  ctx: ServiceContext,
  auth: AuthContext,
  call: (client: ReturnType<ServiceContext['wechat']>, mchId: string) => Promise<T>,
): Promise<T> {
  const account = await loadAccount(ctx, auth.accountId);
  try {
    return await call(ctx.wechat(account, auth.livemode), account.mch_id);
  } catch (error) {
    if (error instanceof WechatPayError) throw toApiError(error);
    throw error;
  }
}

export function retrieveCouponStock(
  ctx: ServiceContext,
  auth: AuthContext,
  stockId: string,
): Promise<QueryCouponStockReply> {
  return wechatQuery(ctx, auth, (client) => client.queryCouponStock({ coupon_stock_id: stockId }));
}

export function retrieveCoupon(
  ctx: ServiceContext,
  auth: AuthContext,
  input: { coupon_id: string; openid: string; stock_id: string },
): Promise<QueryCouponsInfoReply> {
  return wechatQuery(ctx, auth, (client) => client.queryCouponsInfo(input));
}
