// Refund notifies: decrypt req_info with the merchant key (that is what authenticates them), match the refund by
// out_refund_no, check refund_fee and out_trade_no against our record, then apply the status with its events.
import { parseRefundNotify, type RefundNotify } from '@wxpay/sdk';
import { findAccount, merchantIdentity, type ServiceContext } from './context.js';
import type { NotifyOutcome } from './notify.js';
import { recordRefundPayload } from './refund-transitions.js';
import { applyWechatRefundStatus } from './refunds.js';

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
    ctx.log.warn({ account: accountId, err: (error as Error).message }, 'refund notify refused');
    return { accepted: false, message: 'req_info invalid' };
  }
  const refund = await ctx.db
    .selectFrom('refunds')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('out_refund_no', '=', notify.out_refund_no)
    .executeTakeFirst();
  if (!refund) {
    ctx.log.warn(
      { account: accountId, out_refund_no: notify.out_refund_no },
      'refund notify for an unknown refund',
    );
    return { accepted: false, message: 'unknown out_refund_no' };
  }
  const intent = await ctx.db
    .selectFrom('payment_intents')
    .select(['out_trade_no'])
    .where('id', '=', refund.payment_intent)
    .executeTakeFirstOrThrow();
  const body = JSON.stringify(notify);
  const mismatch =
    notify.out_trade_no !== intent.out_trade_no
      ? 'out_trade_no_mismatch'
      : notify.refund_fee !== String(refund.amount)
        ? 'refund_fee_mismatch'
        : undefined;
  if (mismatch) {
    await recordRefundPayload(ctx.db, refund, 'refund_notify_rejected', body, ctx.now());
    ctx.log.warn({ refund: refund.id, reason: mismatch }, 'refund notify refused');
    return { accepted: false, message: mismatch };
  }
  await recordRefundPayload(ctx.db, refund, 'refund_notify', body, ctx.now());
  // Conditional: a duplicate notify changes nothing and is still acknowledged.
  await applyWechatRefundStatus(ctx, refund, notify);
  return { accepted: true, message: 'OK' };
}
