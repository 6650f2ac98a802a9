// Every wxpay CLI test file.
import './sandbox-command.test.ts';
