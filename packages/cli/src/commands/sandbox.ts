// `wxpay sandbox`: runs the WeChat Pay simulator until interrupted, and prints how to point an SDK at it.
import { resolve } from 'node:path';
import { startSandbox } from '@wxpay/sandbox';
import { parseNumberOption, waitForSignal } from '../options.js';

export interface SandboxCommandOptions {
  port: string;
  host: string;
  data: string;
  timeScale: string;
  seed?: string;
}

export async function runSandbox(options: SandboxCommandOptions): Promise<void> {
  const dataDir = resolve(options.data);
  const sandbox = await startSandbox({
    port: parseNumberOption(options.port, '--port', { min: 0, max: 65535, integer: true }),
    host: options.host,
    dataDir,
    timeScale: parseNumberOption(options.timeScale, '--time-scale', { min: 0.001, max: 1_000_000 }),
    seed: options.seed,
  });
  const lines = [
    `wxpay sandbox listening on ${sandbox.url}`,
    `  data dir    ${dataDir} (CA: ca.pem; merchants/<mch_id>/apiclient_cert.p12, .pem, apiclient_key.pem)`,
    `  time scale  ${sandbox.clock.timeScale}`,
    ...sandbox.merchants.map((m) => `  merchant    appid=${m.appid} mch_id=${m.mchId} key=${m.key}`),
    `  control API ${sandbox.url}/sandbox/v1/ (pay, payment_codes, clock/advance, ledger, faults)`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  await waitForSignal();
  await sandbox.close();
}
