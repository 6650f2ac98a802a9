// After a stored ledger is loaded, re-arms the timers of what was still in flight, from their stored times:
// a due time already past fires at once.
import { scheduleBankSettlement } from './endpoints/bank.js';
import { scheduleUserpayingSuccess } from './endpoints/pay.js';
import { scheduleRedpack } from './endpoints/redpacks.js';
import { scheduleTransferSettlement } from './endpoints/transfers.js';
import type { Services } from './endpoints/types.js';
import { scheduleRefundSuccess } from './payments.js';

export function resumeInFlight(services: Services): void {
  const { ledger } = services;
  for (const order of ledger.orders.values())
    if (order.state === 'USERPAYING') scheduleUserpayingSuccess(services, order);
  for (const refund of ledger.refunds.values())
    if (refund.status === 'PROCESSING') scheduleRefundSuccess(services, refund);
  for (const transfer of ledger.transfers.values())
    if (transfer.status === 'PROCESSING') scheduleTransferSettlement(services, transfer);
  for (const payout of ledger.bankPayouts.values())
    if (payout.status === 'PROCESSING') scheduleBankSettlement(services, payout);
  for (const redpack of ledger.redpacks.values())
    if (redpack.status === 'SENDING' || redpack.status === 'SENT') scheduleRedpack(services, redpack);
}
