// `wxpay serve`: the gateway alone, configured from the environment and/or WXPAY_CONFIG (a JSON file).
import { buildGateway, ensureMerchantAccount, type Gateway, loadConfig } from '@wxpay/gateway';
import { parseNumberOption, waitForSignal } from '../options.js';
import { portInUse, unreachableDatabase } from '../start-errors.js';

export interface ServeCommandOptions {
  port: string;
  host: string;
}

export async function runServe(options: ServeCommandOptions): Promise<void> {
  const port = parseNumberOption(options.port, '--port', { min: 0, max: 65535, integer: true });
  const config = loadConfig(process.env);
  let gateway: Gateway;
  try {
    gateway = await buildGateway({ ...config, logger: true, worker: true });
  } catch (error) {
    throw unreachableDatabase(error);
  }
  try {
    const lines: string[] = [];
    if (config.merchant) {
      const account = await ensureMerchantAccount(gateway.ctx.db, config.merchant);
      lines.push(`  account     ${account.accountId} (mch_id ${config.merchant.mchId})`);
      if (account.updated?.length)
        lines.push(`  updated     ${account.updated.join(', ')} (from the configuration)`);
      if (account.newKeys) {
        lines.push(
          `  test key    ${account.newKeys.test}`,
          `  live key    ${account.newKeys.live}`,
          '  (the keys are shown only now; they are stored hashed)',
        );
      }
    }
    const url = await gateway.listen({ port, host: options.host });
    process.stdout.write([`wxpay gateway listening on ${url}`, ...lines, ''].join('\n'));
  } catch (error) {
    await gateway.close();
    throw portInUse(error, 'wxpay serve', { '--port': port });
  }
  await waitForSignal();
  await gateway.close();
}
