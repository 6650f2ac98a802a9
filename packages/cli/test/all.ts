// Every wxpay CLI test file.
import './sandbox-command.test.ts';
import './dev-command.test.ts';
import './dev-restart-command.test.ts';
import './database-url-command.test.ts';
import './usage-errors-command.test.ts';
