// `wxpay dev` (what `npm start` runs): the gateway with an in-process sandbox, in test mode, on SQLite.
import { type DevServer, startDev } from '@wxpay/gateway';
import { parseNumberOption, waitForSignal } from '../options.js';
import { portInUse } from '../start-errors.js';

export interface DevCommandOptions {
  port: string;
  sandboxPort: string;
  dir: string;
}

export async function runDev(options: DevCommandOptions): Promise<void> {
  const port = parseNumberOption(options.port, '--port', { min: 0, max: 65535, integer: true });
  const sandboxPort = parseNumberOption(options.sandboxPort, '--sandbox-port', {
    min: 0,
    max: 65535,
    integer: true,
  });
  let dev: DevServer;
  try {
    dev = await startDev({ dir: options.dir, port, sandboxPort });
  } catch (error) {
    throw portInUse(error, 'wxpay dev', { '--port': port, '--sandbox-port': sandboxPort });
  }
  const lines = [
    'wxpay dev is running (test mode, SQLite under .wxpay/)',
    `  gateway     ${dev.gateway_url}`,
    `  dashboard   ${dev.dashboard_url}`,
    `  secret key  ${dev.secret_key}`,
    ...(dev.replacedKey
      ? ['              the test key in .wxpay/dev.json no longer worked (revoked?); created a new one']
      : []),
    `  sandbox     ${dev.sandbox_url}`,
    `  account     ${dev.account_id}`,
    '  (the same, as JSON: .wxpay/dev.json)',
    '',
    'Try it:',
    `  curl ${dev.gateway_url}/v1/payment_intents -u ${dev.secret_key}: \\`,
    `    -H 'content-type: application/json' \\`,
    `    -d '{"amount":100,"currency":"CNY","confirm":true,"payment_method_data":{"type":"wechat_pay"},"payment_method_options":{"wechat_pay":{"terminal_type":"WEB"}}}'`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  await waitForSignal();
  await dev.close();
}
