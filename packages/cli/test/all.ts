// Every wxpay CLI test file.
import './sandbox-command.test.ts';
import './dev-command.test.ts';
