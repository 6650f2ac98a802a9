// PaymentIntents: create, confirm (the WeChat call each terminal type needs), retrieve, list, cancel, client_result.
import {
  BusinessError,
  type MicropayReply,
  mwebUrlWithRedirect,
  ProtocolError,
  raisedBeforeSending,
  type UnifiedOrderReply,
  type WechatPay,
  WechatPayError,
} from '@wxpay/sdk';
import { sql } from 'kysely';
import { insertRow } from '../db/insert-row.js';
import type { AccountRow, Db, IntentRow } from '../db/schema.js';
import { type AuthContext, loadAccount, type ServiceContext } from './context.js';
import { ApiError, notFound } from './errors.js';
import { recordEvent } from './events.js';
import { linkToIdempotencyKey } from './idempotency.js';
import { newId } from './ids.js';
import { type IntentView, intentView } from './intent-view.js';
import { awaitMicropayResult, micropayOutcomeUnknown } from './micropay.js';
import { checkAmount, isCurrency } from './money.js';
import { type ListParams, type ListResult, paginate } from './pagination.js';
import { intentsByOrderNumber, intentsByTransaction } from './payment-references.js';
import {
  amountMatches,
  cancelIfNoOrder,
  closeIntent,
  queryIntent,
  queryOrder,
  recordAmountMismatch,
} from './reconcile.js';
import { nextOrderNumber, retireOrder } from './retired-orders.js';
import { canApply, isOpen, nextQueryAt } from './state.js';
import { wechatTime } from './time.js';
import {
  markIntentCanceled,
  markIntentSucceeded,
  markPaymentFailed,
  neverOrdered,
  type PayloadKind,
  recordPayload,
  stillOrdering,
  transition,
} from './transitions.js';
import { wechatCallLeaseMs } from './wechat-lease.js';
import { wechatText } from './wechat-text.js';

export const TERMINAL_TYPES = ['WEB', 'WAP', 'SCAN_CODE', 'OFFICIAL_ACCOUNT', 'MINI_PROGRAM', 'APP'] as const;
export type TerminalType = (typeof TERMINAL_TYPES)[number];

export interface WechatPayOptionsInput {
  terminal_type?: TerminalType;
  client_ip?: string;
  os_type?: string;
  openid?: string;
  app_id?: string;
}

export interface ConfirmInput {
  payment_method_data?: { type: 'wechat_pay'; wechat_pay?: { payment_code?: string } };
  payment_method_options?: { wechat_pay?: WechatPayOptionsInput };
  return_url?: string;
  /** The caller's address, used when client_ip is not given. */
  requestIp?: string;
}

export interface CreateInput extends ConfirmInput {
  amount: number;
  currency: string;
  confirm?: boolean;
  description?: string;
  metadata?: Record<string, string>;
}

const TRADE_TYPE: Record<TerminalType, 'NATIVE' | 'MWEB' | 'JSAPI' | 'APP' | 'MICROPAY'> = {
  WEB: 'NATIVE',
  WAP: 'MWEB',
  OFFICIAL_ACCOUNT: 'JSAPI',
  MINI_PROGRAM: 'JSAPI',
  APP: 'APP',
  SCAN_CODE: 'MICROPAY',
};

const OPTIONS_PARAM = 'payment_method_options.wechat_pay';

async function loadIntent(ctx: ServiceContext, auth: AuthContext, id: string): Promise<IntentRow> {
  const row = await ctx.db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', auth.accountId)
    .where('livemode', '=', auth.livemode ? 1 : 0)
    .executeTakeFirst();
  if (!row) throw notFound('payment_intent', id);
  return row;
}

function unexpectedState(row: IntentRow, doing: string): ApiError {
  return new ApiError(
    400,
    'invalid_request_error',
    'payment_intent_unexpected_state',
    `You cannot ${doing} this PaymentIntent because it has a status of ${row.status}.`,
  );
}

export async function createIntent(
  ctx: ServiceContext,
  auth: AuthContext,
  input: CreateInput,
): Promise<IntentView> {
  const currency = input.currency.toUpperCase();
  if (!isCurrency(currency)) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'currency_unsupported',
      `currency must be one of CNY, HKD, USD, EUR, GBP`,
      'currency',
    );
  }
  checkAmount(input.amount, currency, ctx.config.fxUsdPerUnit, ctx.config.maxAmountUsd);
  const options = input.payment_method_options?.wechat_pay ?? {};
  if (input.confirm && !options.terminal_type) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'parameter_missing',
      'confirm: true needs a terminal_type',
      `${OPTIONS_PARAM}.terminal_type`,
    );
  }
  const now = ctx.now();
  const id = newId('pi');
  const row: IntentRow = {
    id,
    account_id: auth.accountId,
    livemode: auth.livemode ? 1 : 0,
    amount: input.amount,
    currency,
    status: options.terminal_type ? 'requires_confirmation' : 'requires_payment_method',
    // 24 characters of the id: unique, ≤ 32, and fixed before WeChat ever sees the order.
    out_trade_no: id.slice(3),
    terminal_type: options.terminal_type ?? null,
    trade_type: null,
    description: input.description ?? null,
    metadata: JSON.stringify(input.metadata ?? {}),
    return_url: input.return_url ?? null,
    client_ip: options.client_ip ?? null,
    os_type: options.os_type ?? null,
    openid: options.openid ?? null,
    next_action: null,
    payment_failed: null,
    client_result: null,
    cancellation_reason: null,
    wechat_prepay_id: null,
    wechat_transaction_id: null,
    ordered_at: null,
    close_at: null,
    next_query_at: null,
    query_count: 0,
    amount_refunded: 0,
    refund_count: 0,
    confirming_until: null,
    expires_at: now + ctx.config.intentTtlSeconds * 1000,
    created: now,
    updated: now,
    next_close_at: null,
    close_failures: 0,
    prepay_at: null,
  };
  const insert = (stored: IntentRow) =>
    ctx.db.transaction().execute(async (trx) => {
      await insertRow(trx, 'payment_intents', stored);
      await linkToIdempotencyKey(trx, id);
      await recordEvent(
        trx,
        {
          accountId: auth.accountId,
          livemode: auth.livemode,
          type: 'payment_intent.created',
          objectId: id,
          data: intentView(row),
        },
        now,
      );
    });
  if (!input.confirm) {
    await insert(row);
    return intentView(row);
  }
  // create + confirm: the checks a confirm makes come first. If one fails, the intent is still created (as a
  // create followed by a refused confirm leaves it) and the error is answered.
  let plan: ConfirmPlan;
  let account: AccountRow;
  try {
    plan = planConfirm(row, input);
    account = await loadAccount(ctx, row.account_id);
    checkAppId(plan, account);
  } catch (error) {
    await insert(row);
    throw error;
  }
  // The intent is inserted already holding the confirm's lease, with its terminal and order time stored:
  // one transaction (intent + created event) before WeChat is called, instead of an insert and an UPDATE.
  const lease = now + wechatCallLeaseMs({ timeoutMs: ctx.config.wechatTimeoutMs });
  const ordered: IntentRow = { ...row, ...confirmFields(ctx, row, plan, input, now, lease) };
  await insert(ordered);
  return placeOrderHoldingLease(ctx, auth, account, ordered, plan, lease);
}

export async function retrieveIntent(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
  expand: readonly string[] = [],
): Promise<IntentView> {
  const row = await loadIntent(ctx, auth, id);
  if (!expand.includes('wechat_payloads')) return intentView(row);
  const payloads = await ctx.db
    .selectFrom('wechat_payloads')
    .select(['kind', 'body', 'created'])
    .where('intent_id', '=', id)
    .orderBy('created', 'asc')
    .orderBy('id', 'asc')
    .execute();
  return intentView(
    row,
    payloads.map((p) => ({ kind: p.kind, body: p.body, created: p.created })),
  );
}

export interface IntentListParams extends ListParams {
  status?: string;
  /** The payment's order number, current or one it gave up after a failed payment (as a WeChat bill shows it). */
  out_trade_no?: string;
  /** WeChat's transaction_id of the payment. */
  transaction_id?: string;
}

export async function listIntents(
  ctx: ServiceContext,
  auth: AuthContext,
  params: IntentListParams,
): Promise<ListResult<IntentView>> {
  // WeChat's numbers are resolved to the account's payments first, each on its own index.
  let ids: string[] | undefined;
  if (params.out_trade_no !== undefined) ids = await intentsByOrderNumber(ctx.db, auth, params.out_trade_no);
  if (params.transaction_id !== undefined) {
    const paid = await intentsByTransaction(ctx.db, auth, params.transaction_id);
    ids = ids === undefined ? paid : ids.filter((id) => paid.includes(id));
  }
  const matching = ids;
  return paginate(
    ctx.db,
    'payment_intents',
    auth,
    params,
    (query) => {
      let q = params.status ? query.where('status', '=', params.status) : query;
      if (matching !== undefined)
        q = matching.length ? q.where('id', 'in', matching) : q.where(sql<boolean>`1 = 0`);
      return q;
    },
    (row) => intentView(row as unknown as IntentRow),
  );
}

interface ConfirmPlan {
  terminalType: TerminalType;
  openid: string | null;
  paymentCode: string | undefined;
  given: WechatPayOptionsInput;
  clientIp: string;
}

/** A cancel of the intent is waiting for WeChat's 5-minute closeorder rule (or for a close that failed). */
function cancelPending(intent: IntentRow): boolean {
  return intent.close_at !== null || intent.cancellation_reason !== null;
}

/** Whether an order may be placed or renewed for the intent, and so shown to a payer: no cancel pending, not expired. */
export function stillWanted(intent: IntentRow, now: number): boolean {
  return !cancelPending(intent) && intent.expires_at > now;
}

/**
 * Refuses to confirm an intent that is past its expiry (the expiry job is canceling it) or whose cancel is waiting
 * for WeChat's 5-minute closeorder rule: placing or renewing an order would hand the payer one the merchant has
 * given up.
 */
function checkStillWanted(intent: IntentRow, now: number): void {
  if (cancelPending(intent))
    throw new ApiError(
      400,
      'invalid_request_error',
      'payment_intent_unexpected_state',
      `You cannot confirm this PaymentIntent because it is being canceled (${intent.cancellation_reason ?? 'requested'}).`,
    );
  if (intent.expires_at <= now)
    throw new ApiError(
      400,
      'invalid_request_error',
      'payment_intent_unexpected_state',
      'You cannot confirm this PaymentIntent because it has expired; create a new one.',
    );
}

function changedMeanwhile(): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    'lock_timeout',
    'Another confirm of this PaymentIntent is in progress, or it changed concurrently; retry',
  );
}

/**
 * A confirm of an intent whose order is open at WeChat (requires_action) places that order again, to renew its
 * prepay: WeChat's prepay_id and code_url last 2 hours whatever time_expire says, an H5 order's mweb_url 5 minutes
 * (prepayLifetimeMs), and unifiedorder resent with the same out_trade_no and parameters then issues a new one (any
 * other parameters are refused). So nothing the order was placed with may change.
 */
function checkSameOrder(intent: IntentRow, input: ConfirmInput): void {
  const given = input.payment_method_options?.wechat_pay ?? {};
  const kept: [param: string, given: unknown, stored: unknown][] = [
    [`${OPTIONS_PARAM}.terminal_type`, given.terminal_type, intent.terminal_type],
    [`${OPTIONS_PARAM}.openid`, given.openid, intent.openid],
    [`${OPTIONS_PARAM}.client_ip`, given.client_ip, intent.client_ip],
    [`${OPTIONS_PARAM}.os_type`, given.os_type, intent.os_type],
    ['return_url', input.return_url, intent.return_url],
    [
      'payment_method_data.wechat_pay.payment_code',
      input.payment_method_data?.wechat_pay?.payment_code,
      undefined,
    ],
  ];
  for (const [param, value, stored] of kept) {
    if (value !== undefined && value !== stored)
      throw new ApiError(
        400,
        'invalid_request_error',
        'parameter_invalid',
        `${param} cannot change while this PaymentIntent's order is open at WeChat (requires_action): a confirm ` +
          'now renews that same order. To pay another way, cancel it and create a new PaymentIntent.',
        param,
      );
  }
}

/** The checks of a confirm that need no database: status, terminal type and its parameters. */
function planConfirm(intent: IntentRow, input: ConfirmInput): ConfirmPlan {
  if (!canApply('require_action', intent.status)) throw unexpectedState(intent, 'confirm');
  if (intent.status === 'requires_action') checkSameOrder(intent, input);
  const given = input.payment_method_options?.wechat_pay ?? {};
  const terminalType = (given.terminal_type ?? intent.terminal_type) as TerminalType | null;
  if (!terminalType) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'parameter_missing',
      'terminal_type is required to confirm',
      `${OPTIONS_PARAM}.terminal_type`,
    );
  }
  const openid = given.openid ?? intent.openid;
  if ((terminalType === 'OFFICIAL_ACCOUNT' || terminalType === 'MINI_PROGRAM') && !openid) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'parameter_missing',
      `${terminalType} needs the payer's openid`,
      `${OPTIONS_PARAM}.openid`,
    );
  }
  const paymentCode = input.payment_method_data?.wechat_pay?.payment_code;
  if (terminalType === 'SCAN_CODE' && !paymentCode) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'parameter_missing',
      'SCAN_CODE needs the payer’s payment code',
      'payment_method_data.wechat_pay.payment_code',
    );
  }
  if (paymentCode !== undefined && !/^\d{16,24}$/.test(paymentCode)) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'parameter_invalid',
      'payment_code must be the 18-digit code',
      'payment_method_data.wechat_pay.payment_code',
    );
  }
  const clientIp = given.client_ip ?? intent.client_ip ?? input.requestIp ?? '127.0.0.1';
  return { terminalType, openid, paymentCode, given, clientIp };
}

function checkAppId(plan: ConfirmPlan, account: AccountRow): void {
  if (plan.given.app_id !== undefined && plan.given.app_id !== account.appid) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'parameter_invalid',
      `app_id ${plan.given.app_id} is not the appid of this account's merchant configuration`,
      `${OPTIONS_PARAM}.app_id`,
    );
  }
}

/** What a confirm stores before calling WeChat: the terminal, the order time and the lease. */
function confirmFields(
  ctx: ServiceContext,
  intent: IntentRow,
  plan: ConfirmPlan,
  input: ConfirmInput,
  now: number,
  lease: number,
) {
  return {
    terminal_type: plan.terminalType,
    trade_type: TRADE_TYPE[plan.terminalType],
    client_ip: plan.clientIp,
    os_type: plan.given.os_type ?? intent.os_type,
    openid: plan.openid,
    return_url: input.return_url ?? intent.return_url,
    status: 'requires_confirmation',
    ordered_at: intent.ordered_at ?? now,
    // If this process dies during the call, the follow-up job resumes the order once the lease has run out: at
    // once for a micropay (the payer may have been charged; it is polled, then reversed), else on the schedule.
    next_query_at:
      TRADE_TYPE[plan.terminalType] === 'MICROPAY'
        ? lease
        : nextQueryAt(
            intent.ordered_at ?? now,
            0,
            ctx.config.followUpScheduleSeconds,
            ctx.config.followUpEverySeconds,
            intent.expires_at,
          ),
    confirming_until: lease,
    // As Stripe's last_payment_error: the failure of the previous confirm, cleared by the next.
    payment_failed: null,
    updated: now,
  } satisfies Partial<IntentRow>;
}

export async function confirmIntent(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
  input: ConfirmInput,
): Promise<IntentView> {
  const intent = await loadIntent(ctx, auth, id);
  const plan = planConfirm(intent, input);
  checkStillWanted(intent, ctx.now());
  const account = await loadAccount(ctx, intent.account_id);
  checkAppId(plan, account);
  let retiring: string | undefined;
  if (intent.payment_failed !== null && intent.ordered_at !== null) {
    const checked = await afterFailedPayment(ctx, intent);
    // What WeChat said is about the order `intent` was read with: it decides only while the intent still is as
    // read. A payment that landed after all, or a confirm that placed a new order meanwhile, ends this one here.
    if (checked.intent.status !== intent.status || checked.intent.out_trade_no !== intent.out_trade_no) {
      if (!canApply('require_action', checked.intent.status))
        throw unexpectedState(checked.intent, 'confirm');
      throw changedMeanwhile();
    }
    retiring = checked.retiring;
  }
  const now = ctx.now();
  // One confirm at a time calls WeChat: the lease outlasts the client's whole call (retries included), and only
  // the caller whose conditional UPDATE takes it sends; a concurrent confirm is refused with a 409.
  const lease = now + wechatCallLeaseMs({ timeoutMs: ctx.config.wechatTimeoutMs });
  // Store the terminal and the order time before the call: if the reply is lost, the follow-up job queries it.
  // A retired number's order is replaced by a new one, placed now, of which nothing is known yet. Renewing the
  // prepay of an open order (requires_action) takes the lease only: the order, its status and its follow-up
  // schedule stay as they are, whatever the call's outcome.
  const renewing = intent.status === 'requires_action';
  const fields = renewing
    ? { confirming_until: lease, updated: now }
    : retiring
      ? {
          ...confirmFields(ctx, { ...intent, ordered_at: null }, plan, input, now, lease),
          out_trade_no: nextOrderNumber(intent.out_trade_no),
          wechat_prepay_id: null,
          prepay_at: null,
          query_count: 0,
          next_action: null,
        }
      : confirmFields(ctx, intent, plan, input, now, lease);
  const takeLease = (db: Db) =>
    db
      .updateTable('payment_intents')
      .set(fields)
      .where('id', '=', id)
      .where('status', '=', intent.status)
      .where('out_trade_no', '=', intent.out_trade_no)
      // Still wanted (checkStillWanted): no cancel scheduled, not expired, since it was read.
      .where('close_at', 'is', null)
      .where('expires_at', '>', now)
      .where((eb) => eb.or([eb('confirming_until', 'is', null), eb('confirming_until', '<=', now)]))
      .executeTakeFirst();
  const stored =
    retiring && !renewing
      ? await ctx.db.transaction().execute(async (trx) => {
          const taken = await takeLease(trx);
          if (Number(taken.numUpdatedRows) === 1)
            await retireOrder(trx, intent, retiring, now, ctx.config.closeDelaySeconds * 1000);
          return taken;
        })
      : await takeLease(ctx.db);
  if (Number(stored.numUpdatedRows) !== 1) throw changedMeanwhile();
  return placeOrderHoldingLease(ctx, auth, account, { ...intent, ...fields }, plan, lease);
}

/**
 * The WeChat call of a confirm whose lease this caller holds (`intent` is the row as that conditional write
 * left it). A successful prepay releases the lease in its own transition; otherwise it is released here.
 */
async function placeOrderHoldingLease(
  ctx: ServiceContext,
  auth: AuthContext,
  account: AccountRow,
  intent: IntentRow,
  plan: ConfirmPlan,
  lease: number,
): Promise<IntentView> {
  let released = false;
  try {
    const placed = await placeOrder(ctx, auth, account, intent, plan, lease);
    released = placed.released;
    return placed.view;
  } finally {
    if (!released)
      await ctx.db
        .updateTable('payment_intents')
        .set({ confirming_until: null })
        .where('id', '=', intent.id)
        .where('confirming_until', '=', lease)
        .execute();
  }
}

async function placeOrder(
  ctx: ServiceContext,
  auth: AuthContext,
  account: AccountRow,
  intent: IntentRow,
  plan: ConfirmPlan,
  lease: number,
): Promise<{ view: IntentView; released: boolean }> {
  const { terminalType, clientIp, openid, paymentCode } = plan;
  const id = intent.id;
  const tradeType = TRADE_TYPE[terminalType];
  const client = ctx.wechat(account, auth.livemode);
  if (tradeType === 'MICROPAY')
    return { view: await micropay(ctx, client, intent, paymentCode!), released: false };
  let reply: UnifiedOrderReply;
  try {
    reply = await client.unifiedOrder({
      body: (intent.description ?? 'wxpay').slice(0, 120),
      out_trade_no: intent.out_trade_no,
      total_fee: intent.amount,
      fee_type: intent.currency,
      spbill_create_ip: clientIp,
      trade_type: tradeType,
      notify_url: `${ctx.publicUrl()}/notify/wechatpay/${intent.account_id}`,
      time_start: wechatTime(intent.created),
      time_expire: wechatTime(intent.expires_at),
      product_id: tradeType === 'NATIVE' ? intent.out_trade_no : undefined,
      openid: tradeType === 'JSAPI' ? (openid ?? undefined) : undefined,
      scene_info:
        tradeType === 'MWEB'
          ? JSON.stringify({
              h5_info: { type: 'Wap', wap_url: intent.return_url ?? ctx.publicUrl(), wap_name: 'wxpay' },
            })
          : undefined,
    });
  } catch (error) {
    if (!(error instanceof WechatPayError)) throw error;
    const payload = { kind: 'prepay' as const, body: failureBody(error) };
    if (error instanceof BusinessError && ORDER_EXISTS.has(error.errCode)) {
      await followExistingOrder(ctx, intent, error, payload);
      return { view: intentView(await loadIntent(ctx, auth, id)), released: false };
    }
    // No prepay reached anyone, so the payer cannot have paid this order: the error is answered as it is.
    await recordPayload(ctx.db, id, payload.kind, payload.body, ctx.now());
    throw toApiError(error);
  }
  // A renewal WeChat answered with what the payer already has (not outlived yet): nothing changes.
  if (intent.status === 'requires_action' && alreadyShown(intent, reply))
    return { view: intentView(await loadIntent(ctx, auth, id)), released: false };
  const nextAction = buildNextAction(ctx, client, account, intent, terminalType, reply);
  const updated = await transition(ctx, id, 'require_action', {
    patch: {
      next_action: JSON.stringify(nextAction),
      wechat_prepay_id: reply.prepay_id ?? null,
      prepay_at: ctx.now(),
    },
    payload: { kind: 'prepay', body: wechatText(reply) },
    releaseLease: lease,
    // Only over the order and prepay this call was made for: a late reply (its process stalled past the lease)
    // must not replace what a later confirm has shown the payer, nor put back an order given up since. An H5
    // renewal keeps its prepay_id, so prepay_at tells its mweb_url apart.
    only: (eb) =>
      eb.and([
        stillOrdering(intent.out_trade_no)(eb),
        intent.wechat_prepay_id === null
          ? eb('wechat_prepay_id', 'is', null)
          : eb('wechat_prepay_id', '=', intent.wechat_prepay_id),
        intent.prepay_at === null ? eb('prepay_at', 'is', null) : eb('prepay_at', '=', intent.prepay_at),
      ]),
  });
  if (updated) return { view: intentView(updated), released: true };
  return { view: intentView(await loadIntent(ctx, auth, id)), released: false };
}

/**
 * Whether WeChat answered a renewal with what the intent's next_action already holds: the same prepay and, for H5,
 * the same mweb_url (WeChat issues a new one under the same prepay_id once the old one's 5 minutes are over).
 */
function alreadyShown(intent: IntentRow, reply: UnifiedOrderReply): boolean {
  if (reply.prepay_id !== intent.wechat_prepay_id) return false;
  if (intent.trade_type !== 'MWEB') return true;
  return (
    reply.mweb_url !== undefined &&
    mwebUrlOf(intent) === mwebUrlWithRedirect(reply.mweb_url, intent.return_url ?? undefined)
  );
}

/** An H5 order's mweb_url (with its redirect_url), as the intent's next_action hands it to the payer. */
export function mwebUrlOf(intent: IntentRow): string | undefined {
  const url = intent.next_action
    ? (JSON.parse(intent.next_action) as { wechat_pay_redirect_to_web?: { url?: unknown } })
        .wechat_pay_redirect_to_web?.url
    : undefined;
  return typeof url === 'string' ? url : undefined;
}

function buildNextAction(
  ctx: ServiceContext,
  client: WechatPay,
  account: AccountRow,
  intent: IntentRow,
  terminalType: TerminalType,
  reply: { code_url?: string; mweb_url?: string; prepay_id?: string },
): Record<string, unknown> {
  const need = (value: string | undefined, field: string): string => {
    if (!value)
      throw new ApiError(
        502,
        'wechat_error',
        'wechat_reply_incomplete',
        `WeChat's reply carries no ${field}`,
      );
    return value;
  };
  switch (terminalType) {
    case 'WEB':
      return {
        type: 'wechat_pay_display_qr_code',
        wechat_pay_display_qr_code: {
          image_data_url: need(reply.code_url, 'code_url'),
          image_url_svg: `${ctx.publicUrl()}/qr/${intent.id}.svg`,
        },
      };
    case 'WAP':
      return {
        type: 'wechat_pay_redirect_to_web',
        wechat_pay_redirect_to_web: {
          url: mwebUrlWithRedirect(need(reply.mweb_url, 'mweb_url'), intent.return_url ?? undefined),
        },
      };
    case 'OFFICIAL_ACCOUNT':
      return {
        type: 'wechat_pay_official_account_params',
        wechat_pay_official_account_params: client.jsapiParams(need(reply.prepay_id, 'prepay_id'), {
          appId: account.appid,
        }),
      };
    case 'MINI_PROGRAM':
      return {
        type: 'wechat_pay_mini_program_params',
        wechat_pay_mini_program_params: client.jsapiParams(need(reply.prepay_id, 'prepay_id'), {
          appId: account.appid,
        }),
      };
    case 'APP':
      return {
        type: 'wechat_pay_app_params',
        wechat_pay_app_params: client.appParams(need(reply.prepay_id, 'prepay_id')),
      };
    case 'SCAN_CODE':
      return {};
  }
}

/** WeChat's answers to an out_trade_no that already names an order: that order, not this call, says how it ended. */
const ORDER_EXISTS: ReadonlySet<string> = new Set(['ORDERPAID', 'OUT_TRADE_NO_USED']);

/** What is kept with the intent of a failed WeChat call: the reply exactly as received, or what went wrong. */
function failureBody(error: unknown): string {
  if (error instanceof WechatPayError) return error.rawBody ?? `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * A confirm refused because its out_trade_no already names an order at WeChat (charged by an earlier confirm whose
 * answer was lost, say): orderquery says how that order ended and is applied, SUCCESS through the verified path.
 * An order WeChat reports unpaid or failed leaves the refusal to be answered as it is; if the query cannot tell
 * (it failed, or the payer is still entering a password), the intent is left processing for the follow-up job,
 * except a renewal's (requires_action), which the job follows already. It is never marked failed on a guess.
 */
async function followExistingOrder(
  ctx: ServiceContext,
  intent: IntentRow,
  refusal: BusinessError,
  payload: { kind: PayloadKind; body: string },
): Promise<void> {
  await recordPayload(ctx.db, intent.id, payload.kind, payload.body, ctx.now());
  let queried: Awaited<ReturnType<typeof queryOrder>> | undefined;
  try {
    queried = await queryOrder(ctx, intent);
  } catch (error) {
    ctx.log.warn(
      { intent: intent.id, err: (error as Error).message },
      'orderquery of an order WeChat already has failed; the follow-up job queries again',
    );
  }
  if (queried && queried.intent.status !== intent.status) return;
  const known = queried?.tradeState !== undefined && queried.tradeState !== 'USERPAYING';
  if (known) throw toApiError(refusal);
  // A renewal's order was open and followed up already: unless the payer is paying it now, it stays as it was.
  if (intent.status === 'requires_action' && queried?.tradeState !== 'USERPAYING') throw toApiError(refusal);
  if (intent.trade_type === 'MICROPAY') await awaitMicropayResult(ctx, intent);
  else await transition(ctx, intent.id, 'await_result');
}

export function toApiError(error: WechatPayError): ApiError {
  if (error instanceof BusinessError) {
    return new ApiError(
      402,
      'wechat_error',
      error.errCode,
      `WeChat refused the order: ${error.errCode} ${error.errCodeDes}`,
      undefined,
      error.reply,
    );
  }
  const code = `wechat_${error.code.toLowerCase()}`;
  if (raisedBeforeSending(error))
    return new ApiError(400, 'wechat_error', code, `The request was not sent to WeChat: ${error.message}`);
  if (error instanceof ProtocolError && !error.retryable)
    return new ApiError(
      400,
      'wechat_error',
      code,
      `WeChat refused the request: ${error.message}`,
      undefined,
      error.reply,
    );
  // A timeout, a network or HTTP failure, or a reply that cannot be read or verified: WeChat may have acted.
  return new ApiError(
    502,
    'wechat_error',
    code,
    error.retryable
      ? 'WeChat did not answer; the outcome is unknown. Confirm again: the same out_trade_no is reused.'
      : `WeChat's answer could not be read or verified (${error.message}); the outcome is unknown. ` +
          'Retrying reuses the same merchant number.',
    undefined,
    error.reply,
  );
}

async function micropay(
  ctx: ServiceContext,
  client: WechatPay,
  intent: IntentRow,
  authCode: string,
): Promise<IntentView> {
  const auth = { accountId: intent.account_id, livemode: intent.livemode === 1 };
  let reply: MicropayReply;
  try {
    reply = await client.micropay({
      body: (intent.description ?? 'wxpay').slice(0, 120),
      out_trade_no: intent.out_trade_no,
      total_fee: intent.amount,
      fee_type: intent.currency,
      spbill_create_ip: intent.client_ip ?? '127.0.0.1',
      auth_code: authCode,
      time_expire: wechatTime(intent.expires_at),
    });
  } catch (error) {
    await applyMicropayFailure(ctx, intent, error);
    return intentView(await loadIntent(ctx, auth, intent.id));
  }
  // A signed, verified micropay reply is a WeChat result, like orderquery's, and is checked the same
  // way: an amount or currency other than ours is refused and left to orderquery to settle.
  const body = wechatText(reply);
  if (!amountMatches(intent, reply)) {
    await recordAmountMismatch(ctx, intent, 'micropay', reply);
    await awaitMicropayResult(ctx, intent, { kind: 'micropay', body });
  } else {
    // A cancel that won a race with this payment leaves the intent canceled: the payment is recorded on it and
    // alerted (payment_intent.wechat_status_conflict), so that it can be refunded.
    await markIntentSucceeded(ctx, intent, reply, { kind: 'micropay', body });
  }
  return intentView(await loadIntent(ctx, auth, intent.id));
}

/**
 * A micropay call that did not return a paid order. Only a signed, final refusal marks the payment failed; when
 * the payer may have been charged, the answer is the intent processing (never "refused"), so that the cashier does
 * not charge another code, and the follow-up job polls orderquery, then reverses at the deadline.
 */
async function applyMicropayFailure(ctx: ServiceContext, intent: IntentRow, error: unknown): Promise<void> {
  const payload = { kind: 'micropay' as const, body: failureBody(error) };
  if (raisedBeforeSending(error)) {
    await recordPayload(ctx.db, intent.id, payload.kind, payload.body, ctx.now());
    throw toApiError(error as WechatPayError);
  }
  if (error instanceof BusinessError && ORDER_EXISTS.has(error.errCode)) {
    await followExistingOrder(ctx, intent, error, payload);
  } else if (error instanceof BusinessError && !micropayOutcomeUnknown(error)) {
    await markPaymentFailed(ctx, intent, { code: error.errCode, message: error.errCodeDes }, payload);
  } else {
    if (!(error instanceof WechatPayError))
      ctx.log.warn(
        { intent: intent.id, err: payload.body },
        'micropay failed unexpectedly; orderquery settles it',
      );
    await awaitMicropayResult(ctx, intent, payload);
  }
}

/**
 * Cancels. Before the order is sent to WeChat this is immediate; otherwise closeorder is called, unless the
 * order is younger than WeChat's 5-minute minimum: then the close is scheduled (cancellation_scheduled_at)
 * and the intent stays payable until it runs. An order WeChat never received (its unifiedorder failed) needs
 * no close: once orderquery says WeChat has none, and no order call can still reach it, it is canceled at once.
 */
export async function cancelIntent(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
  reason = 'requested_by_customer',
): Promise<IntentView> {
  let intent = await loadIntent(ctx, auth, id);
  if (!isOpen(intent.status)) throw unexpectedState(intent, 'cancel');
  if (intent.ordered_at === null) {
    // Conditional on the order still not being sent: a confirm may have stored its order time (and be calling
    // WeChat) since `intent` was read. Then it is canceled as a sent order is.
    const canceled = await markIntentCanceled(ctx, intent, reason, undefined, neverOrdered(ctx.now()));
    if (canceled) return intentView(canceled);
    intent = await loadIntent(ctx, auth, id);
    if (!isOpen(intent.status)) throw unexpectedState(intent, 'cancel');
  }
  const now = ctx.now();
  const earliest = (intent.ordered_at ?? now) + ctx.config.closeDelaySeconds * 1000;
  let row: IntentRow | undefined;
  try {
    row =
      earliest > now ? await cancelIfNoOrder(ctx, intent, reason) : await closeIntent(ctx, intent, reason);
  } catch (error) {
    if (!(error instanceof WechatPayError)) throw error;
    if (earliest <= now) throw toApiError(error);
    // The orderquery before a young order's cancel did not answer: its close is scheduled, as for any young order.
    ctx.log.warn(
      { intent: id, err: error.message },
      'orderquery before a cancel failed; the close is scheduled',
    );
  }
  if (!row) {
    await ctx.db
      .updateTable('payment_intents')
      .set({ close_at: earliest, cancellation_reason: reason, updated: now })
      .where('id', '=', id)
      .where('status', '=', intent.status)
      .execute();
    return intentView(await loadIntent(ctx, auth, id));
  }
  if (row.status === 'succeeded') throw unexpectedState(row, 'cancel');
  return intentView(row);
}

/**
 * Before a failed payment is confirmed again: WeChat refuses a second order on the number of a failed one
 * (OUT_TRADE_NO_USED), so orderquery is asked how the intent's order ended. PAYERROR gives the number up (`retiring`
 * is what WeChat said) for a new one; no order at WeChat, or one still open, keeps it. queryOrder applies what it
 * hears, so a payment that landed after all leaves the intent succeeded (and no longer confirmable). When WeChat
 * cannot be asked, nothing is placed: the confirm is refused, to be retried.
 */
async function afterFailedPayment(
  ctx: ServiceContext,
  intent: IntentRow,
): Promise<{ intent: IntentRow; retiring: string | undefined }> {
  let queried: Awaited<ReturnType<typeof queryOrder>>;
  try {
    queried = await queryOrder(ctx, intent);
  } catch (error) {
    if (!(error instanceof WechatPayError)) throw error;
    throw new ApiError(
      502,
      'wechat_error',
      `wechat_${error.code.toLowerCase()}`,
      `WeChat could not be asked how this PaymentIntent's failed order ended (${error.message}), so no new ` +
        'order was placed; confirm again.',
      undefined,
      error.reply,
    );
  }
  const retiring = queried.tradeState === 'PAYERROR' ? queried.tradeState : undefined;
  return { intent: queried.intent, retiring };
}

/**
 * Records what the payer's page reported. `ok` moves the intent to processing and queries WeChat at once;
 * it never marks the intent succeeded: only a verified notify or orderquery does.
 */
export async function recordClientResult(
  ctx: ServiceContext,
  auth: AuthContext,
  id: string,
  errMsg: string,
): Promise<IntentView> {
  const intent = await loadIntent(ctx, auth, id);
  const ok = /:ok$/.test(errMsg);
  if (!ok) {
    await ctx.db
      .updateTable('payment_intents')
      .set({ client_result: errMsg, updated: ctx.now() })
      .where('id', '=', id)
      .execute();
    return intentView(await loadIntent(ctx, auth, id));
  }
  if (intent.status !== 'requires_action' && intent.status !== 'processing')
    throw unexpectedState(intent, 'report a result for');
  await transition(ctx, id, 'await_result', { patch: { client_result: errMsg } });
  await ctx.db.updateTable('payment_intents').set({ client_result: errMsg }).where('id', '=', id).execute();
  try {
    await queryIntent(ctx, await loadIntent(ctx, auth, id));
  } catch (error) {
    // The follow-up job will query again; the payer's report is recorded either way.
    ctx.log.warn(
      { intent: id, err: (error as Error).message },
      'immediate orderquery after client_result failed',
    );
  }
  return intentView(await loadIntent(ctx, auth, id));
}
