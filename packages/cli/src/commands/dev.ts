// `wxpay dev` (what `npm start` runs): the gateway with an in-process sandbox, in test mode, on SQLite.
import { startDev } from '@wxpay/gateway';
import { parseNumberOption, waitForSignal } from '../options.js';

export interface DevCommandOptions {
  port: string;
  sandboxPort: string;
  dir: string;
}

export async function runDev(options: DevCommandOptions): Promise<void> {
  const dev = await startDev({
    dir: options.dir,
    port: parseNumberOption(options.port, '--port', { min: 0, max: 65535, integer: true }),
    sandboxPort: parseNumberOption(options.sandboxPort, '--sandbox-port', {
      min: 0,
      max: 65535,
      integer: true,
    }),
  });
  const info = dev as typeof dev & { dashboard_url?: string };
  const lines = [
    'wxpay dev is running (test mode, SQLite under .wxpay/)',
    `  gateway     ${dev.gateway_url}`,
    ...(info.dashboard_url ? [`  dashboard   ${info.dashboard_url}`] : []),
    `  secret key  ${dev.secret_key}`,
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
