// The commands of the wxpay command line, parsed with commander.
import { Command } from 'commander';
import { runDev } from './commands/dev.js';
import { runMigrate } from './commands/migrate.js';
import { runSandbox } from './commands/sandbox.js';
import { runServe } from './commands/serve.js';

/** The exit codes, as the help tells them and bin.ts sets them. */
const EXIT_CODES = `
Exit codes:
  0  done (or --help, --version)
  1  an unexpected failure (a bug): the stack trace is printed
  2  something to fix before it can run (a flag, a setting, a file, a port in use, a database out of reach): told in one line`;

export function buildProgram(): Command {
  const program = new Command('wxpay')
    .description('WeChat Pay (微信支付) platform: SDK, sandbox, gateway')
    .version('0.1.0')
    .showHelpAfterError()
    // Commander's own exit (an unknown option, --help) is thrown instead, for bin.ts to pick the exit code;
    // the commands below inherit this.
    .exitOverride()
    .addHelpText('after', EXIT_CODES);

  program
    .command('dev')
    .description('run the gateway with an in-process sandbox, in test mode, on SQLite under ./.wxpay/')
    .option('--port <port>', 'gateway port', '4242')
    .option('--sandbox-port <port>', 'sandbox port (0 picks a free one)', '0')
    .option('--dir <dir>', 'project directory; state goes to <dir>/.wxpay/', '.')
    .action(runDev);

  program
    .command('serve')
    .description(
      'run the gateway alone, configured by the environment (DATABASE_URL, WXPAY_*) or WXPAY_CONFIG',
    )
    .option('--port <port>', 'port to listen on', '4242')
    .option('--host <host>', 'interface to listen on', '0.0.0.0')
    .action(runServe);

  program
    .command('migrate')
    .description('bring the database named by DATABASE_URL up to date (the gateway also does this on start)')
    .action(runMigrate);

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
