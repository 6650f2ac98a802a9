// The commands of the wxpay command line, parsed with commander.
import { Command } from 'commander';
import { runSandbox } from './commands/sandbox.js';

export function buildProgram(): Command {
  const program = new Command('wxpay')
    .description('WeChat Pay (微信支付) platform: SDK, sandbox, gateway')
    .version('0.1.0')
    .showHelpAfterError();

  program
    .command('sandbox')
    .description('run the WeChat Pay simulator (HTTPS with mutual TLS) for tests and local development')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8443')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--data <dir>', 'where the CA, certificates and merchants are kept', '.wxpay/sandbox')
    .option(
      '--time-scale <n>',
      'simulated seconds per real second (1000 replays 24 h of notify retries in ~86 s)',
      '1',
    )
    .option('--seed <seed>', 'makes ids, keys and random splits reproducible')
    .action(runSandbox);

  return program;
}
