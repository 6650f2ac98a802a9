// Exactly-once payouts: the record and its WeChat number are stored before WeChat is called; an unknown
// outcome leaves it `sending` for the recovery job, which queries and resends with the SAME number.
import {
  BusinessError,
  mchBillno,
  partnerTradeNo,
  raisedBeforeSending,
  type WechatPay,
  WechatPayError,
} from '@wxpay/sdk';
import type { Updateable } from 'kysely';
import type { AccountRow } from '../db/schema.js';
import type { PayoutRow, PayoutsTable } from '../db/schema-payouts.js';
import { type AuthContext, loadAccount, type ServiceContext } from './context.js';
import { ApiError } from './errors.js';
import { recordEventAbout } from './events.js';
import { linkToIdempotencyKey } from './idempotency.js';
import { randomToken } from './ids.js';
import {
  ACCEPTED_STATUS,
  eventTypeFor,
  isFinal,
  nextAttemptAt,
  type PayoutKind,
  redpackStatusOf,
  transferStatusOf,
} from './payout-state.js';
import { payoutView } from './payout-view.js';
import { wechatCallLeaseMs } from './wechat-lease.js';
import { wechatText } from './wechat-text.js';

/**
 * How long a freshly stored record is left to its own request before the recovery job may take it over: longer
 * than the client's whole call ((retries + 1) × timeout + backoff + margin), so the two never send at once.
 */
export function sendLeaseMs(ctx: Pick<ServiceContext, 'config'>): number {
  return wechatCallLeaseMs({ timeoutMs: ctx.config.wechatTimeoutMs });
}

/** The id prefix of each payout kind (also how an Idempotency-Key's recorded object is recognised). */
export const PAYOUT_ID_PREFIX: Record<PayoutKind, string> = { redpack: 'rp', transfer: 'tr', coupon: 'cpn' };
const NUMBER_FIELD: Record<PayoutKind, string> = {
  redpack: 'mch_billno',
  transfer: 'partner_trade_no',
  coupon: 'partner_trade_no',
};

type WireFields = Record<string, string>;

export interface NewPayout {
  kind: PayoutKind;
  /** normal | fission for red packets. */
  subtype?: 'normal' | 'fission';
  source?: 'api' | 'baas';
  /** Fen; omitted for coupons. */
  amount?: number;
  openid: string;
  /** WeChat's request fields, without the merchant number (chosen and stored here). */
  fields: Record<string, string | number | undefined>;
}

/** Payouts need the merchant's client certificate; without one nothing is stored or sent. */
export function requireCertificate(account: AccountRow): void {
  if (!account.cert_p12) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'account_certificate_missing',
      'Payouts need the merchant client certificate (apiclient_cert.p12), and this account has none configured',
    );
  }
}

/**
 * Step 1 alone: stores the record as `sending` with its WeChat number (no event), in one transaction with its
 * link to the request's Idempotency-Key.
 */
export async function storePayout(
  ctx: ServiceContext,
  auth: AuthContext,
  input: NewPayout,
): Promise<PayoutRow> {
  const account = await loadAccount(ctx, auth.accountId);
  requireCertificate(account);
  const now = ctx.now();
  const number =
    input.kind === 'redpack' ? mchBillno(account.mch_id, new Date(now)) : partnerTradeNo(new Date(now));
  const request: WireFields = {};
  for (const [name, value] of Object.entries(input.fields)) {
    if (value !== undefined && value !== '') request[name] = String(value);
  }
  request[NUMBER_FIELD[input.kind]] = number;
  const row: PayoutRow = {
    id: `${PAYOUT_ID_PREFIX[input.kind]}_${randomToken(24)}`,
    account_id: auth.accountId,
    livemode: auth.livemode ? 1 : 0,
    kind: input.kind,
    subtype: input.subtype ?? null,
    source: input.source ?? 'api',
    wechat_no: number,
    status: 'sending',
    amount: input.amount ?? null,
    openid: input.openid,
    request: JSON.stringify(request),
    result: null,
    wechat_id: null,
    detail: null,
    hblist: null,
    failure_code: null,
    failure_message: null,
    superseded_numbers: '[]',
    raw_result: null,
    attempts: 0,
    // If this process dies before WeChat answers, the recovery job takes the record after the lease.
    next_attempt_at: now + sendLeaseMs(ctx),
    created: now,
    updated: now,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('payouts').values(row).execute();
    await linkToIdempotencyKey(trx, row.id);
  });
  return row;
}

/** Stores the record, then calls WeChat once. An unknown outcome answers the record still `sending`. */
export async function createPayout(
  ctx: ServiceContext,
  auth: AuthContext,
  input: NewPayout,
): Promise<PayoutRow> {
  const row = await storePayout(ctx, auth, input);
  return sendPayout(ctx, row);
}

function callSend(client: WechatPay, row: PayoutRow): Promise<Record<string, string | undefined>> {
  const fields = JSON.parse(row.request) as WireFields;
  switch (row.kind as PayoutKind) {
    case 'redpack':
      return row.subtype === 'fission'
        ? client.sendGroupRedpack(fields as never)
        : client.sendRedpack(fields as never);
    case 'transfer':
      return client.transfer(fields as never);
    case 'coupon':
      return client.sendCoupon(fields as never);
  }
}

/** Sends (or resends, with the same number and fields) a `sending` record and settles what WeChat says. */
export async function sendPayout(ctx: ServiceContext, row: PayoutRow): Promise<PayoutRow> {
  const account = await loadAccount(ctx, row.account_id);
  const client = ctx.wechat(account, row.livemode === 1);
  let reply: Record<string, string | undefined>;
  try {
    reply = await callSend(client, row);
  } catch (error) {
    return settleError(ctx, row, error, 'send');
  }
  const body = wechatText(reply);
  const kind = row.kind as PayoutKind;
  // send_coupon answers result_code SUCCESS with ret_code FAILED when this one coupon was refused.
  if (kind === 'coupon' && reply.ret_code === 'FAILED') {
    return settled(ctx, row, {
      status: 'failed',
      patch: {
        failure_code: 'FAILED',
        failure_message: reply.ret_msg ?? null,
        raw_result: body,
        result: JSON.stringify(reply),
      },
      reply: { kind: 'send', body },
    });
  }
  return settled(ctx, row, {
    status: ACCEPTED_STATUS[kind],
    patch: {
      result: JSON.stringify(reply),
      wechat_id: reply.send_listid ?? reply.payment_no ?? reply.coupon_id ?? null,
      raw_result: body,
    },
    reply: { kind: 'send', body },
  });
}

/**
 * A failed call. Only a business refusal that is not SYSTEMERROR-like, or a request refused before it left
 * (first attempt only), is final; anything else (timeout, network, HTTP 500, an unverifiable reply) keeps
 * the record `sending`: the money may have moved. A refusal after the SDK resent the request
 * (earlierAttemptUnknown) proves only that the last try did not pay, and rate limiting (FREQ_LIMIT) means WeChat
 * processed nothing: both keep it `sending` too, for the recovery job to query and resend with the same number.
 */
async function settleError(
  ctx: ServiceContext,
  row: PayoutRow,
  error: unknown,
  step: 'send' | 'query',
): Promise<PayoutRow> {
  if (!(error instanceof WechatPayError)) {
    ctx.log.warn({ payout: row.id, err: (error as Error).message }, 'payout call failed; kept for recovery');
    return keepTrying(ctx, row, `${(error as Error).message}`);
  }
  const body = error.rawBody ?? `${error.code}: ${error.message}`;
  const notSent = raisedBeforeSending(error);
  const earlierTryMayHavePaid = error.earlierAttemptUnknown;
  const definitive =
    step === 'send' &&
    error instanceof BusinessError &&
    !error.retryable &&
    !error.rateLimited &&
    !earlierTryMayHavePaid;
  const neverLeft =
    step === 'send' && notSent && row.attempts === 0 && row.result === null && !earlierTryMayHavePaid;
  if (definitive || neverLeft) {
    return settled(ctx, row, {
      status: 'failed',
      patch: {
        failure_code: error instanceof BusinessError ? error.errCode : error.code,
        failure_message: error instanceof BusinessError ? error.errCodeDes : error.message,
        raw_result: body,
      },
      reply: { kind: step, body },
    });
  }
  return keepTrying(ctx, row, body, step);
}

async function keepTrying(
  ctx: ServiceContext,
  row: PayoutRow,
  body: string,
  step: 'send' | 'query' = 'send',
): Promise<PayoutRow> {
  return settled(ctx, row, {
    status: row.status,
    patch: { raw_result: body, attempts: row.attempts + 1 },
    reply: { kind: step, body },
    nextAttemptAt: nextAttemptAt(ctx.now(), row.attempts + 1),
  });
}

interface Settlement {
  status: string;
  patch: Updateable<PayoutsTable>;
  reply?: { kind: 'send' | 'query'; body: string };
  nextAttemptAt?: number;
}

/**
 * `UPDATE … WHERE id = ? AND status = ?` with the reply and the event in the same transaction. When another
 * process moved the record first, nothing changes (the reply is still kept) and the current row is returned.
 */
async function settled(ctx: ServiceContext, row: PayoutRow, next: Settlement): Promise<PayoutRow> {
  const now = ctx.now();
  const kind = row.kind as PayoutKind;
  const updated = await ctx.db.transaction().execute(async (trx) => {
    if (next.reply) {
      await trx
        .insertInto('payout_replies')
        .values({
          id: `pr_${randomToken(24)}`,
          payout_id: row.id,
          kind: next.reply.kind,
          body: next.reply.body,
          created: now,
        })
        .execute();
    }
    const final = isFinal(kind, next.status);
    const result = await trx
      .updateTable('payouts')
      .set({
        ...next.patch,
        status: next.status,
        updated: now,
        next_attempt_at: final ? null : (next.nextAttemptAt ?? nextAttemptAt(now, 0)),
      })
      .where('id', '=', row.id)
      .where('status', '=', row.status)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    const fresh = await trx
      .selectFrom('payouts')
      .selectAll()
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    const type = next.status !== row.status ? eventTypeFor(kind, next.status) : undefined;
    if (type) {
      await recordEventAbout(trx, fresh, type, payoutView(fresh), now);
    }
    return fresh;
  });
  return (
    updated ??
    (await ctx.db.selectFrom('payouts').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow())
  );
}

/**
 * gethbinfo / gettransferinfo replies are not signed: before their status is adopted, the number and the amount
 * they carry must be this record's. Returns what differs, or undefined when everything present matches.
 */
export function replyMismatch(
  row: Pick<PayoutRow, 'wechat_no' | 'amount'>,
  number: string | undefined,
  amount: string | undefined,
): { reason: 'number_mismatch' | 'amount_mismatch'; got: string } | undefined {
  if (number !== undefined && number !== row.wechat_no) return { reason: 'number_mismatch', got: number };
  if (amount !== undefined && row.amount !== null && amount.trim() !== String(row.amount))
    return { reason: 'amount_mismatch', got: amount };
  return undefined;
}

/** A status reply about another number or amount: kept with the record, alerted, and the state left as it is. */
async function rejectReply(
  ctx: ServiceContext,
  row: PayoutRow,
  body: string,
  mismatch: { reason: string; got: string },
): Promise<PayoutRow> {
  const now = ctx.now();
  ctx.log.warn(
    { payout: row.id, reason: mismatch.reason },
    'payout status reply does not describe this record; state left unchanged',
  );
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('payout_replies')
      .values({ id: `pr_${randomToken(24)}`, payout_id: row.id, kind: 'query', body, created: now })
      .execute();
    await trx
      .updateTable('payouts')
      .set({
        attempts: row.attempts + 1,
        next_attempt_at: nextAttemptAt(now, row.attempts + 1),
        updated: now,
      })
      .where('id', '=', row.id)
      .where('status', '=', row.status)
      .execute();
    await recordEventAbout(
      trx,
      row,
      `${row.kind}.query_rejected`,
      {
        reason: mismatch.reason,
        expected: mismatch.reason === 'number_mismatch' ? row.wechat_no : String(row.amount),
        received: mismatch.got,
        status: row.status,
      },
      now,
    );
  });
  return ctx.db.selectFrom('payouts').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
}

const notFound = (error: unknown) =>
  error instanceof BusinessError && (error.errCode === 'NOT_FOUND' || error.errCode === 'ORDERNOTEXIST');

/**
 * One step of recovery / status sync for a record that is not final. A `sending` red packet or transfer is
 * queried first: found, its status is adopted; NOT_FOUND, it is resent with the same number (re-entrant at
 * WeChat). A coupon has no query by number, so it is resent. Other statuses are polled until final.
 */
export async function advancePayout(ctx: ServiceContext, row: PayoutRow): Promise<PayoutRow> {
  const kind = row.kind as PayoutKind;
  if (isFinal(kind, row.status)) return row;
  if (row.status === 'sending' && kind === 'coupon') return sendPayout(ctx, row);
  const account = await loadAccount(ctx, row.account_id);
  const client = ctx.wechat(account, row.livemode === 1);
  try {
    if (kind === 'redpack') {
      const info = await client.getRedpackInfo({ mch_billno: row.wechat_no });
      const mismatch = replyMismatch(row, info.mch_billno, info.total_amount);
      if (mismatch) return rejectReply(ctx, row, wechatText(info), mismatch);
      const status = redpackStatusOf(info.status) ?? row.status;
      return settled(ctx, row, {
        status,
        patch: {
          detail: JSON.stringify(info),
          hblist: JSON.stringify(info.hblist ?? []),
          wechat_id: row.wechat_id ?? info.detail_id ?? null,
          raw_result: wechatText(info),
          attempts: row.attempts + 1,
          ...(status === 'failed' ? { failure_code: 'FAILED', failure_message: info.reason ?? null } : {}),
        },
        reply: { kind: 'query', body: wechatText(info) },
        nextAttemptAt: nextAttemptAt(ctx.now(), row.attempts + 1),
      });
    }
    const info = await client.getTransferInfo({ partner_trade_no: row.wechat_no });
    const mismatch = replyMismatch(row, info.partner_trade_no, info.payment_amount);
    if (mismatch) return rejectReply(ctx, row, wechatText(info), mismatch);
    const status = transferStatusOf(info.status) ?? row.status;
    return settled(ctx, row, {
      status: status,
      patch: {
        detail: JSON.stringify(info),
        wechat_id: row.wechat_id ?? info.detail_id ?? null,
        raw_result: wechatText(info),
        attempts: row.attempts + 1,
        ...(status === 'failed' ? { failure_code: 'FAILED', failure_message: info.reason ?? null } : {}),
      },
      reply: { kind: 'query', body: wechatText(info) },
      nextAttemptAt: nextAttemptAt(ctx.now(), row.attempts + 1),
    });
  } catch (error) {
    // WeChat has no record of this number: the first call never landed, so resend it, same number.
    if (row.status === 'sending' && notFound(error)) return sendPayout(ctx, row);
    return settleError(ctx, row, error, 'query');
  }
}
