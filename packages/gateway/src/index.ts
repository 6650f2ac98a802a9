// @wxpay/gateway: the payment service (PaymentIntents over WeChat Pay), its data layer and jobs.
export {
  ConfigurationError,
  type GatewayConfig,
  type GatewayConfigInput,
  loadConfig,
  resolveConfig,
} from './config.js';
export { type Connection, connect, dialectOf } from './db/connect.js';
export { migrate } from './db/migrations.js';
export { type DevInfo, type DevOptions, type DevServer, startDev } from './dev.js';
export { authenticate, createAccount, createApiKey, type NewAccount } from './domain/accounts.js';
export { ensureMerchantAccount, type MerchantAccount } from './domain/bootstrap.js';
export {
  type CheckoutFlow,
  createSession,
  expireSession,
  retrieveSession,
  runCheckoutSessions,
  type SessionView,
} from './domain/checkout-sessions.js';
export {
  type CloseOrderAnswer,
  compatAccount,
  doCloseOrder,
  parseYuanPrice,
  type QueryOrderAnswer,
  queryOrder,
  type ToPayAnswer,
  type ToPayInput,
  toPay,
} from './domain/compat.js';
export { ApiError } from './domain/errors.js';
export {
  followUpMicropay,
  micropayDeadline,
  type ReverseOutcome,
  reverseMicropay,
} from './domain/micropay.js';
export { CURRENCIES, type Currency, DEFAULT_FX_USD_PER_UNIT } from './domain/money.js';
export { COUPON_STATUSES, REDPACK_STATUSES, TRANSFER_STATUSES } from './domain/payout-state.js';
export { REFUND_REASONS, REFUND_STATUSES, type RefundStatus } from './domain/refund-state.js';
export { INTENT_STATUSES, type IntentStatus } from './domain/state.js';
export { buildGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { claimFollowUps, FOLLOW_UP_LEASE_MS, isPostgres } from './jobs/claim.js';
export { runCloses, runFollowUps, startWorker } from './jobs/index.js';
export { runPayoutRecovery } from './jobs/payout-recovery.js';
export { runRefundQueries, runRefundResends, runRefundSync } from './jobs/refund-sync.js';
export { runRefundAndWebhookJobs, runWebhookDeliveries } from './jobs/webhook-delivery.js';
