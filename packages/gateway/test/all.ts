// Every gateway test file, loaded by the workspace's single test entry.
import './unit.test.ts';
import './payment-intents.test.ts';
import './http.test.ts';
import './sandbox.test.ts';
import './compat.test.ts';
import './payouts.test.ts';
import './micropay-reverse.test.ts';
import './claims.test.ts';
import './baas.test.ts';
import './checkout.test.ts';
import './browser/checkout.test.ts';
import './browser/dashboard.test.ts';
import './refunds.test.ts';
import './webhooks.test.ts';
import './payout-crash.test.ts';
import './compat-sandbox.test.ts';
