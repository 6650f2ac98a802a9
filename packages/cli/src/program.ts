// The commands of the wxpay command line, parsed with commander.
import { Command } from 'commander';

export function buildProgram(): Command {
  const program = new Command('wxpay')
    .description('WeChat Pay (微信支付) platform: SDK, sandbox, gateway')
    .version('0.1.0');

  program
    .command('dev')
    .description('run everything locally (the default of `npm start`)')
    .action(() => {
      process.stdout.write(
        [
          'wxpay: the gateway is not part of this build yet. Available now:',
          '  @wxpay/sdk   a typed WeChat Pay v2 client: import { WechatPay } from "@wxpay/sdk"',
          '  npm test     runs every test',
          '',
        ].join('\n'),
      );
    });

  return program;
}
