// Micropay (付款码) whose outcome is unknown: poll orderquery until the deadline, then reverse (撤销), resending
// the reverse while WeChat answers recall=Y. Micropay has no notify, so only these calls settle it.
import { BusinessError, raisedBeforeSending, WechatPayError } from '@wxpay/sdk';
import type { IntentRow } from '../db/schema.js';
import { loadAccount, type ServiceContext } from './context.js';
import {
  confirmLeaseAbandoned,
  markIntentCanceled,
  type PayloadKind,
  recordPayload,
  transition,
} from './transitions.js';
import { wechatText } from './wechat-text.js';

/**
 * Whether the payer may have been charged although the micropay call failed: always, except for an error raised
 * before the request left and a signed, verified refusal with a final err_code. An unreadable or unverifiable
 * reply, return_code FAIL, an HTTP error, a timeout, SYSTEMERROR, BANKERROR, USERPAYING: only orderquery knows.
 */
export function micropayOutcomeUnknown(error: unknown): boolean {
  if (raisedBeforeSending(error)) return false;
  return !(error instanceof BusinessError) || error.retryable;
}

/**
 * Leaves a micropay whose outcome is unknown to the follow-up job: processing, orderquery after
 * micropayPollSeconds, and reversed at the deadline if it is still not settled.
 */
export async function awaitMicropayResult(
  ctx: ServiceContext,
  intent: IntentRow,
  payload?: { kind: PayloadKind; body: string },
): Promise<void> {
  await transition(ctx, intent.id, 'await_result', {
    patch: { next_query_at: ctx.now() + ctx.config.micropayPollSeconds * 1000 },
    payload,
  });
}

/**
 * Takes over a micropay whose confirm died during the call (its lease ran out unreleased, see claimFollowUps):
 * WeChat may have charged the payer, so it is left processing, as a lost reply leaves it, for the follow-up job to
 * poll and then reverse, and a new confirm is refused rather than charging another code. Conditional on the
 * lease still being that abandoned one: a confirm that has taken it since is left to finish. Returns the row, or
 * undefined when such a confirm holds it.
 */
export function resumeAbandonedMicropay(
  ctx: ServiceContext,
  intent: IntentRow,
): Promise<IntentRow | undefined> {
  const now = ctx.now();
  return transition(ctx, intent.id, 'await_result', {
    patch: { confirming_until: null, next_query_at: now + ctx.config.micropayPollSeconds * 1000 },
    only: (eb) => eb.and([eb('status', '=', 'requires_confirmation'), confirmLeaseAbandoned(now)(eb)]),
  });
}

/** After this, an order still USERPAYING (or unknown) is reversed rather than polled. */
export function micropayDeadline(ctx: ServiceContext, intent: IntentRow): number {
  return (intent.ordered_at ?? intent.created) + ctx.config.micropayDeadlineSeconds * 1000;
}

export type ReverseOutcome =
  /** WeChat reversed the order (refunding the payer if it had been paid); the intent is canceled. */
  | 'reversed'
  /** recall=Y, SYSTEMERROR or no answer: the same reverse is sent again after micropayPollSeconds. */
  | 'recall'
  /** WeChat refused the reverse for good (or the client certificate is missing): back to the normal schedule. */
  | 'refused';

async function scheduleQuery(ctx: ServiceContext, intent: IntentRow, at: number | null): Promise<void> {
  await ctx.db
    .updateTable('payment_intents')
    .set({ next_query_at: at, query_count: intent.query_count + 1 })
    .where('id', '=', intent.id)
    .execute();
}

/** Calls reverse once and applies the answer. */
export async function reverseMicropay(ctx: ServiceContext, intent: IntentRow): Promise<ReverseOutcome> {
  const account = await loadAccount(ctx, intent.account_id);
  const client = ctx.wechat(account, intent.livemode === 1);
  let body: string;
  let outcome: ReverseOutcome;
  try {
    const reply = await client.reverse({ out_trade_no: intent.out_trade_no });
    body = wechatText(reply);
    outcome = reply.recall === 'Y' ? 'recall' : 'reversed';
  } catch (error) {
    if (!(error instanceof WechatPayError)) throw error;
    body = error.rawBody ?? `${error.code}: ${error.message}`;
    if (error instanceof BusinessError && error.errCode === 'ORDERNOTEXIST') {
      // The order never reached WeChat: nothing was or can be charged.
      outcome = 'reversed';
    } else if (error.retryable || error.reply?.recall === 'Y') {
      outcome = 'recall';
    } else {
      outcome = 'refused';
      ctx.log.warn(
        { intent: intent.id, err: error.message },
        'reverse refused; the order is queried as usual',
      );
    }
  }
  const now = ctx.now();
  if (outcome === 'reversed') {
    const canceled = await markIntentCanceled(ctx, intent, 'reversed', { kind: 'reverse', body });
    if (!canceled) {
      ctx.log.warn(
        { intent: intent.id },
        'reverse succeeded but the intent had already left the open states',
      );
    }
    return outcome;
  }
  await recordPayload(ctx.db, intent.id, 'reverse', body, now);
  await scheduleQuery(
    ctx,
    intent,
    outcome === 'recall'
      ? now + ctx.config.micropayPollSeconds * 1000
      : now + ctx.config.followUpEverySeconds * 1000,
  );
  return outcome;
}

/**
 * The follow-up of an open micropay intent that orderquery just left open: query again soon, up to the
 * deadline, then reverse.
 */
export async function followUpMicropay(ctx: ServiceContext, intent: IntentRow): Promise<void> {
  const now = ctx.now();
  const deadline = micropayDeadline(ctx, intent);
  if (now < deadline) {
    await scheduleQuery(ctx, intent, Math.min(now + ctx.config.micropayPollSeconds * 1000, deadline));
    return;
  }
  await reverseMicropay(ctx, intent);
}
