// Every gateway test file, loaded by the workspace's single test entry.
import './unit.test.ts';
import './payment-intents.test.ts';
import './http.test.ts';
import './sandbox.test.ts';
