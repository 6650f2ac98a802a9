// The older Thinkjs + MySQL service's three operations (toPay, queryOrder, doCloseOrder) over PaymentIntents,
// for one configured account, with that service's request and answer shapes.
import { WechatPayError, yuanToFen } from '@wxpay/sdk';
import type { IntentRow } from '../db/schema.js';
import type { AuthContext, ServiceContext } from './context.js';
import { ApiError } from './errors.js';
import { checkAmount } from './money.js';
import { confirmIntent, createIntent, toApiError } from './payment-intents.js';
import { closeIntent, queryIntent } from './reconcile.js';
import { isOpen, wasPaid } from './state.js';
import { readWechatText } from './wechat-text.js';

/** The old `deal` table's int(11) columns. */
const INT11_MAX = 2_147_483_647;

export interface ToPayInput {
  merchantId: number | string;
  productId: number | string;
  /** Yuan, as the decimal text received (never a float that was multiplied). */
  price: string;
  requestIp?: string;
}

export interface ToPayAnswer {
  code_url: [string];
  order_id: string;
  code: 0;
  msg: '';
}

export interface QueryOrderAnswer {
  trade_state: string;
  trade_state_desc: string;
}

export interface CloseOrderAnswer {
  code: 0 | 1;
  msg: string;
}

/** WeChat's descriptions, used when no orderquery reply of that state is on record. */
const TRADE_STATE_DESC: Record<string, string> = {
  SUCCESS: '支付成功',
  REFUND: '转入退款',
  NOTPAY: '未支付',
  CLOSED: '已关闭',
  REVOKED: '已撤销（付款码支付）',
  USERPAYING: '用户支付中（付款码支付）',
  PAYERROR: '支付失败(其他原因，如银行返回失败)',
};

function badParam(param: string, message: string): ApiError {
  return new ApiError(400, 'invalid_request_error', 'parameter_invalid', message, param);
}

/** An id of the old service: a whole number that fits its int(11) column, as a JSON number or digits. */
export function parseCompatId(value: number | string, param: string): number {
  const text = typeof value === 'string' ? value.trim() : '';
  const n = typeof value === 'number' ? value : /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > INT11_MAX) {
    throw badParam(
      param,
      `${param} must be a whole number from 0 to ${INT11_MAX}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Yuan text → fen, through the SDK's exact parser. More than two decimals is refused, not rounded. */
export function parseYuanPrice(text: string): number {
  const trimmed = text.trim();
  const match = /^(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!match) {
    throw badParam('price', `price must be a yuan amount such as 12.30, got ${JSON.stringify(text)}`);
  }
  if ((match[2] ?? '').length > 2) {
    throw badParam('price', `price has more than two decimal places (${trimmed}); amounts are whole fen`);
  }
  const fen = yuanToFen(trimmed);
  if (fen < 1) throw badParam('price', 'price must be at least 0.01 yuan');
  return fen;
}

/** The account the compatible routes act for: the configured one, else the only account, else the one named `dev`. */
export async function compatAccount(ctx: ServiceContext): Promise<AuthContext> {
  const livemode = ctx.config.compatLivemode;
  const configured = ctx.config.compatAccount;
  if (configured) {
    const row = await ctx.db
      .selectFrom('accounts')
      .select('id')
      .where('id', '=', configured)
      .executeTakeFirst();
    if (!row) {
      throw new ApiError(
        503,
        'api_error',
        'compat_account_missing',
        `WXPAY_COMPAT_ACCOUNT names the account ${configured}, which does not exist`,
      );
    }
    return { accountId: row.id, livemode };
  }
  const accounts = await ctx.db.selectFrom('accounts').select(['id', 'name']).limit(50).execute();
  const chosen =
    accounts.length === 1
      ? accounts[0]
      : accounts.filter((a) => a.name === 'dev').length === 1
        ? accounts.find((a) => a.name === 'dev')
        : undefined;
  if (!chosen) {
    throw new ApiError(
      503,
      'api_error',
      'compat_account_missing',
      'The /wxPay routes need one account: set WXPAY_COMPAT_ACCOUNT to its id',
    );
  }
  return { accountId: chosen.id, livemode };
}

async function loadDealIntent(ctx: ServiceContext, auth: AuthContext, orderId: string): Promise<IntentRow> {
  const row = await ctx.db
    .selectFrom('compat_deals as cd')
    .innerJoin('payment_intents as pi', 'pi.id', 'cd.intent_id')
    .selectAll('pi')
    .where('cd.account_id', '=', auth.accountId)
    .where('cd.order_id', '=', orderId)
    .where('pi.livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!row) {
    throw new ApiError(
      404,
      'invalid_request_error',
      'resource_missing',
      `订单不存在: ${orderId}`,
      'order_id',
    );
  }
  return row;
}

/** POST /wxPay/toPay: a NATIVE order for the product; answers its code_url and the local order id. */
export async function toPay(ctx: ServiceContext, input: ToPayInput): Promise<ToPayAnswer> {
  const merchantId = parseCompatId(input.merchantId, 'merchant_id');
  const productId = parseCompatId(input.productId, 'product_id');
  const amount = parseYuanPrice(input.price);
  try {
    checkAmount(amount, 'CNY', ctx.config.fxUsdPerUnit, ctx.config.maxAmountUsd);
  } catch (error) {
    if (error instanceof ApiError) {
      throw badParam(
        'price',
        `price ${input.price.trim()} yuan is above the largest amount accepted (${ctx.config.maxAmountUsd} USD at ${ctx.config.fxUsdPerUnit.CNY} USD per CNY)`,
      );
    }
    throw error;
  }
  const auth = await compatAccount(ctx);
  const created = await createIntent(ctx, auth, {
    amount,
    currency: 'CNY',
    description: `商品${productId}`,
    metadata: { merchant_id: String(merchantId), product_id: String(productId) },
    payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
  });
  // The deal row exists before WeChat is called, so the `deal` view shows the order even if the call fails.
  await ctx.db
    .insertInto('compat_deals')
    .values({
      intent_id: created.id,
      account_id: auth.accountId,
      order_id: created.wechat_pay.out_trade_no,
      merchant_id: merchantId,
      product_id: productId,
      created: ctx.now(),
    })
    .execute();
  const confirmed = await confirmIntent(ctx, auth, created.id, { requestIp: input.requestIp });
  const codeUrl = (
    confirmed.next_action as { wechat_pay_display_qr_code?: { image_data_url?: string } } | null
  )?.wechat_pay_display_qr_code?.image_data_url;
  if (!codeUrl) {
    throw new ApiError(502, 'wechat_error', 'wechat_reply_incomplete', "WeChat's reply carries no code_url");
  }
  return { code_url: [codeUrl], order_id: created.wechat_pay.out_trade_no, code: 0, msg: '' };
}

/** The trade_state of an order as we know it; WeChat's own description when an orderquery said so. */
async function tradeStateOf(ctx: ServiceContext, intent: IntentRow): Promise<QueryOrderAnswer> {
  const recent = await ctx.db
    .selectFrom('wechat_payloads')
    .select('body')
    .where('intent_id', '=', intent.id)
    .where('kind', '=', 'query')
    .orderBy('created', 'desc')
    .limit(10)
    .execute();
  // An error reply (ORDERNOTEXIST…) carries no trade_state; a transport failure is kept as text.
  const replies = recent.flatMap((row) => {
    const reply = readWechatText(row.body);
    return reply ? [reply] : [];
  });
  const said = (state: string) => replies.find((reply) => reply.trade_state === state);
  let state: string;
  // What WeChat says the money did: a canceled intent WeChat then reported paid (its transaction recorded) is paid.
  if (wasPaid(intent.status, intent.wechat_transaction_id)) state = 'SUCCESS';
  else if (intent.status === 'canceled') state = said('REVOKED') ? 'REVOKED' : 'CLOSED';
  else if (intent.payment_failed && intent.status === 'requires_payment_method') state = 'PAYERROR';
  else state = replies[0]?.trade_state === 'USERPAYING' ? 'USERPAYING' : 'NOTPAY';
  return { trade_state: state, trade_state_desc: said(state)?.trade_state_desc || TRADE_STATE_DESC[state]! };
}

/** POST /wxPay/queryOrder: asks WeChat (orderquery, applied to the intent) while the order is open. */
export async function queryOrder(ctx: ServiceContext, orderId: string): Promise<QueryOrderAnswer> {
  const auth = await compatAccount(ctx);
  let intent = await loadDealIntent(ctx, auth, orderId);
  if (isOpen(intent.status) && intent.ordered_at !== null) {
    try {
      intent = await queryIntent(ctx, intent);
    } catch (error) {
      if (!(error instanceof WechatPayError)) throw error;
      // WeChat did not answer: say what we know; the follow-up job keeps asking.
      ctx.log.warn({ intent: intent.id, err: error.message }, 'orderquery for /wxPay/queryOrder failed');
    }
  }
  return tradeStateOf(ctx, intent);
}

/**
 * POST /wxPay/doCloseOrder: closeorder. WeChat refuses it within 5 minutes of the order, so that case answers
 * code 1 and says when to retry, without calling WeChat.
 */
export async function doCloseOrder(ctx: ServiceContext, orderId: string): Promise<CloseOrderAnswer> {
  const auth = await compatAccount(ctx);
  const intent = await loadDealIntent(ctx, auth, orderId);
  if (intent.status === 'canceled') return { code: 0, msg: '关单成功' };
  if (intent.status === 'succeeded') return { code: 1, msg: '关单失败：订单已支付' };
  const now = ctx.now();
  const earliest = (intent.ordered_at ?? intent.created) + ctx.config.closeDelaySeconds * 1000;
  if (now < earliest) {
    const wait = Math.ceil((earliest - now) / 1000);
    return {
      code: 1,
      msg: `关单失败：订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟，请在${wait}秒后重试`,
    };
  }
  let after: IntentRow;
  try {
    after = await closeIntent(ctx, intent, 'requested_by_customer');
  } catch (error) {
    if (!(error instanceof WechatPayError)) throw error;
    const apiError = toApiError(error);
    if (apiError.status >= 500) throw apiError;
    return { code: 1, msg: `关单失败：${error.message}` };
  }
  if (after.status === 'canceled') return { code: 0, msg: '关单成功' };
  if (after.status === 'succeeded') return { code: 1, msg: '关单失败：订单已支付' };
  return { code: 1, msg: '关单失败' };
}
