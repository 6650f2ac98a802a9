// The gateway process of the crash test: serves the API on a fixed port and runs payout recovery in a loop,
// on a clock that runs 60× faster than real time (monotonic across restarts), until it is SIGKILLed.
import { buildGateway, runPayoutRecovery } from '../../src/index.ts';
import { CRASH_CLOCK_SPEED, CRASH_GATEWAY_OPTIONS } from './payout-crash-config.ts';

const env = process.env;
const t0 = Number(env.CRASH_T0);
const gateway = await buildGateway({
  ...CRASH_GATEWAY_OPTIONS,
  databaseUrl: env.CRASH_DB_URL!,
  testWechat: { baseUrl: env.CRASH_SANDBOX_URL!, ca: env.CRASH_SANDBOX_CA! },
  now: () => t0 + (Date.now() - t0) * CRASH_CLOCK_SPEED,
});
await gateway.listen({ port: Number(env.CRASH_PORT) });
let stopped = false;
(async () => {
  while (!stopped) {
    try {
      await runPayoutRecovery(gateway.ctx, { limit: 200 });
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
})();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  stopped = true;
  await gateway.close();
  process.exit(0);
});
