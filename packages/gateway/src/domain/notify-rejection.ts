// A refused notify (payment or refund): WeChat sends it again, and the merchant is alerted with a *.notify_rejected
// event. Shared by both notify handlers.
import type { Db } from '../db/schema.js';
import { unattributedMode, unverifiedAlertRaised } from './alerts.js';
import type { ServiceContext } from './context.js';
import { recordEvent } from './events.js';

export interface Rejection {
  accountId: string;
  /** The payment or refund the notify named, if one of the account's. */
  subject: { id: string; livemode: number } | undefined;
  type: 'payment_intent.notify_rejected' | 'refund.notify_rejected';
  reason: string;
  data: Record<string, unknown>;
  /** Whatever the caller keeps with the event (the notify's body), in its transaction. */
  keep?: (trx: Db, now: number) => Promise<void>;
}

/**
 * Writes the alert and what the caller keeps, in one transaction, under the subject's mode (else
 * unattributedMode's); one anyone could have sent is raised once per window (see unverifiedAlertRaised).
 */
export async function alertRejectedNotify(ctx: ServiceContext, rejection: Rejection): Promise<void> {
  const { accountId, subject, type, reason } = rejection;
  const now = ctx.now();
  const livemode = subject ? subject.livemode === 1 : await unattributedMode(ctx, accountId);
  const objectId = subject?.id ?? null;
  if (await unverifiedAlertRaised(ctx.db, { accountId, livemode, type, reason, objectId }, now)) return;
  await ctx.db.transaction().execute(async (trx) => {
    await rejection.keep?.(trx, now);
    await recordEvent(trx, { accountId, livemode, type, objectId, data: { reason, ...rejection.data } }, now);
  });
}
