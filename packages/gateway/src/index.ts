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
export { ApiError } from './domain/errors.js';
export { CURRENCIES, type Currency, DEFAULT_FX_USD_PER_UNIT } from './domain/money.js';
export { INTENT_STATUSES, type IntentStatus } from './domain/state.js';
export { buildGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { runCloses, runFollowUps, startWorker } from './jobs/index.js';
export { ensureMerchantAccount, type MerchantAccount } from './domain/bootstrap.js';
