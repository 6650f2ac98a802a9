// `wxpay sandbox`: runs the WeChat Pay simulator until interrupted, and prints how to point an SDK at it.
import { resolve } from 'node:path';
import { type Sandbox, startSandbox } from '@wxpay/sandbox';
import { parseNumberOption, waitForSignal } from '../options.js';
import { portInUse } from '../start-errors.js';

export interface SandboxCommandOptions {
  port: string;
  host: string;
  data: string;
  timeScale: string;
  seed?: string;
}

export async function runSandbox(options: SandboxCommandOptions): Promise<void> {
  const dataDir = resolve(options.data);
  const port = parseNumberOption(options.port, '--port', { min: 0, max: 65535, integer: true });
  const timeScale = parseNumberOption(options.timeScale, '--time-scale', { min: 0.001, max: 1_000_000 });
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({ port, host: options.host, dataDir, timeScale, seed: options.seed });
  } catch (error) {
    throw portInUse(error, 'wxpay sandbox', { '--port': port });
  }
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
