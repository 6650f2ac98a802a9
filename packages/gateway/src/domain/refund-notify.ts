// Refund notifies: decrypt req_info with the merchant key (that is what authenticates them), match the refund by
// out_refund_no, check refund_fee and out_trade_no against our record, then apply the status with its events. A
// refused one is alerted (refund.notify_rejected): a refund notify the merchant cannot read is otherwise silent.
import { parseRefundNotify, type RefundNotify } from '@wxpay/sdk';
import type { RefundRow } from '../db/schema-refunds-webhooks.js';
import { findAccount, merchantIdentity, type ServiceContext } from './context.js';
import type { NotifyOutcome } from './notify.js';
import { alertRejectedNotify } from './notify-rejection.js';
import { recordRefundPayload } from './refund-transitions.js';
import { applyWechatRefundStatus } from './refunds.js';

/**
 * Refuses a refund notify (WeChat sends it again) and alerts the merchant with refund.notify_rejected, in one
 * transaction with the notify kept on the refund's payment when the refund is known.
 */
async function reject(
  ctx: ServiceContext,
  accountId: string,
  refund: RefundRow | undefined,
  reason: string,
  detail: Record<string, unknown>,
  kept?: string,
): Promise<NotifyOutcome> {
  ctx.log.warn({ account: accountId, refund: refund?.id, reason }, 'refund notify refused');
  await alertRejectedNotify(ctx, {
    accountId,
    subject: refund,
    type: 'refund.notify_rejected',
    reason,
    data: { refund: refund?.id ?? null, payment_intent: refund?.payment_intent ?? null, ...detail },
    keep:
      refund && kept !== undefined
        ? (trx, now) => recordRefundPayload(trx, refund, 'refund_notify_rejected', kept, now)
        : undefined,
  });
  return { accepted: false, message: reason };
}

export async function handleRefundNotify(
  ctx: ServiceContext,
  accountId: string,
  rawBody: Buffer,
): Promise<NotifyOutcome> {
  const account = await findAccount(ctx, accountId);
  if (!account) {
    ctx.log.warn({ account: accountId }, 'refund notify for an unknown account');
    return { accepted: false, message: 'unknown account' };
  }
  let notify: RefundNotify;
  try {
    notify = parseRefundNotify(rawBody, merchantIdentity(account));
  } catch (error) {
    // The SDK's message says what to fix (most often: req_info was not encrypted with this account's APIv2 key).
    return reject(ctx, accountId, undefined, 'req_info_invalid', { error: (error as Error).message });
  }
  const refund = await ctx.db
    .selectFrom('refunds')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('out_refund_no', '=', notify.out_refund_no)
    .executeTakeFirst();
  if (!refund)
    return reject(ctx, accountId, undefined, 'unknown_out_refund_no', {
      out_refund_no: notify.out_refund_no,
      out_trade_no: notify.out_trade_no,
    });
  const intent = await ctx.db
    .selectFrom('payment_intents')
    .select(['out_trade_no'])
    .where('id', '=', refund.payment_intent)
    .executeTakeFirstOrThrow();
  const body = JSON.stringify(notify);
  if (notify.out_trade_no !== intent.out_trade_no)
    return reject(
      ctx,
      accountId,
      refund,
      'out_trade_no_mismatch',
      { expected: { out_trade_no: intent.out_trade_no }, received: { out_trade_no: notify.out_trade_no } },
      body,
    );
  if (notify.refund_fee !== String(refund.amount))
    return reject(
      ctx,
      accountId,
      refund,
      'refund_fee_mismatch',
      { expected: { refund_fee: String(refund.amount) }, received: { refund_fee: notify.refund_fee } },
      body,
    );
  await recordRefundPayload(ctx.db, refund, 'refund_notify', body, ctx.now());
  // Conditional: a duplicate notify changes nothing and is still acknowledged.
  await applyWechatRefundStatus(ctx, refund, notify);
  return { accepted: true, message: 'OK' };
}
