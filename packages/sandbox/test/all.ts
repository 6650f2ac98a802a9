// Every @wxpay/sandbox test file.
import './pay.test.ts';
import './wire.test.ts';
import './refund.test.ts';
import './notify.test.ts';
import './faults.test.ts';
import './bills.test.ts';
import './payouts.test.ts';
import './start.test.ts';
import './units.test.ts';
import './sandboxnew.test.ts';
import './payer-signature.test.ts';
import './persistence.test.ts';
import './data-dir-lock.test.ts';
