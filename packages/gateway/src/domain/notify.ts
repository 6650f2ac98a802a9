// Payment notifies: verify the raw bytes, check them against our record, then change state with its event.
import { type PaymentNotify, parsePaymentNotify, parseXml } from '@wxpay/sdk';
import type { IntentRow } from '../db/schema.js';
import { findAccount, merchantIdentity, type ServiceContext } from './context.js';
import { alertRejectedNotify } from './notify-rejection.js';
import { amountMatches } from './reconcile.js';
import { alertRetiredOrderPaid, intentOfRetiredOrder } from './retired-orders.js';
import { markIntentSucceeded, recordPayload } from './transitions.js';

export interface NotifyOutcome {
  /** true: answer SUCCESS (WeChat stops resending); false: answer FAIL. */
  accepted: boolean;
  message: string;
  intentId?: string;
}

/** Best effort, for the rejection record only: the out_trade_no of a body that failed verification. */
function unverifiedOutTradeNo(rawBody: Buffer): string | undefined {
  try {
    return parseXml(rawBody.toString('utf8')).out_trade_no;
  } catch {
    return undefined;
  }
}

async function reject(
  ctx: ServiceContext,
  accountId: string,
  intent: IntentRow | undefined,
  reason: string,
  rawBody: Buffer,
  detail: Record<string, unknown> = {},
): Promise<NotifyOutcome> {
  ctx.log.warn({ account: accountId, intent: intent?.id, reason }, 'payment notify refused');
  await alertRejectedNotify(ctx, {
    accountId,
    subject: intent,
    type: 'payment_intent.notify_rejected',
    reason,
    data: { payment_intent: intent?.id ?? null, ...detail },
    keep: intent
      ? (trx, now) => recordPayload(trx, intent.id, 'notify_rejected', rawBody.toString('utf8'), now)
      : undefined,
  });
  return { accepted: false, message: reason, intentId: intent?.id };
}

export async function handlePaymentNotify(
  ctx: ServiceContext,
  accountId: string,
  rawBody: Buffer,
): Promise<NotifyOutcome> {
  const account = await findAccount(ctx, accountId);
  if (!account) {
    ctx.log.warn({ account: accountId }, 'payment notify for an unknown account');
    return { accepted: false, message: 'unknown account' };
  }
  /** The intent whose current order `outTradeNo` is, or (retired: true) one that gave that number up. */
  const findIntent = async (
    outTradeNo: string | undefined,
  ): Promise<{ intent: IntentRow; retired: boolean } | undefined> => {
    if (!outTradeNo) return undefined;
    const current = await ctx.db
      .selectFrom('payment_intents')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('out_trade_no', '=', outTradeNo)
      .executeTakeFirst();
    if (current) return { intent: current, retired: false };
    const gaveUp = await intentOfRetiredOrder(ctx.db, accountId, outTradeNo);
    return gaveUp && { intent: gaveUp, retired: true };
  };

  let notify: PaymentNotify;
  try {
    // Verifies the signature on the exact bytes, and that appid and mch_id are this account's.
    notify = parsePaymentNotify(rawBody, merchantIdentity(account));
  } catch (error) {
    const found = await findIntent(unverifiedOutTradeNo(rawBody));
    return reject(ctx, accountId, found?.intent, 'signature_invalid', rawBody, {
      error: (error as Error).message,
    });
  }
  const found = await findIntent(notify.out_trade_no);
  if (!found)
    return reject(ctx, accountId, undefined, 'unknown_out_trade_no', rawBody, {
      out_trade_no: notify.out_trade_no,
    });
  const { intent, retired } = found;
  if (notify.return_code !== 'SUCCESS' || notify.result_code !== 'SUCCESS') {
    await recordPayload(ctx.db, intent.id, 'notify', rawBody.toString('utf8'), ctx.now());
    return { accepted: true, message: 'OK', intentId: intent.id };
  }
  if (!amountMatches(intent, notify)) {
    return reject(ctx, accountId, intent, 'amount_mismatch', rawBody, {
      expected: { total_fee: String(intent.amount), fee_type: intent.currency },
      received: { total_fee: notify.total_fee, fee_type: notify.fee_type ?? 'CNY' },
    });
  }
  if (retired) {
    // An order the intent gave up after WeChat said it failed: its payment is alerted, never applied.
    await recordPayload(ctx.db, intent.id, 'notify', rawBody.toString('utf8'), ctx.now());
    await alertRetiredOrderPaid(ctx, intent, notify.out_trade_no, notify, 'notify');
    return { accepted: true, message: 'OK', intentId: intent.id };
  }
  // Conditional: a duplicate notify updates no row and writes no event, and is still acknowledged; one for an
  // intent we canceled is recorded on it and alerted once.
  await markIntentSucceeded(ctx, intent, notify, { kind: 'notify', body: rawBody.toString('utf8') });
  return { accepted: true, message: 'OK', intentId: intent.id };
}
