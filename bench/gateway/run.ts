// Gateway benchmark: WEB intents end to end (gateway → sandbox → SQLite, or PostgreSQL with --pg URL) against a
// bare Fastify route making the same sandbox call (the ceiling), the gateway's latency at a fixed 200 req/s, and
// notify ingestion. Each run also reports each process's CPU per request, and the whole machine's.
// Run: npm install && npm run bench -w bench/gateway [-- --duration 10 --connections 10]
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildXml, nonce, sign } from '@wxpay/sdk';
import autocannon from 'autocannon';
import type { GatewayInfo, SandboxInfo } from './servers.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    notifies: { type: 'string', default: '3000' },
    json: { type: 'boolean', default: false },
    synchronous: { type: 'string', default: '' },
    // The gateway on PostgreSQL instead of SQLite: a fresh database on the server this URL names.
    pg: { type: 'string', default: '' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const rounds = Number(args.rounds);

const serversPath = fileURLToPath(new URL('./servers.ts', import.meta.url));

function start<T>(role: string, ...rest: string[]): Promise<{ child: ChildProcess; info: T }> {
  const child = fork(serversPath, [role, ...rest], {
    execArgv: [
      '--conditions=source',
      '--import',
      'tsx',
      ...(process.env.BENCH_CPU_PROF && role === 'gateway'
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: args.pg ? { ...process.env, WXPAY_TEST_PG_URL: args.pg } : process.env,
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
    child.once('message', (message: { info: T }) => resolve({ child, info: message.info }));
  });
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string } & T) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type });
  });
}

interface Figures {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  /**
   * CPU milliseconds per request in each process (server = gateway + ceiling process; serverLoop = the time its
   * event loop was busy, which excludes libuv's pool and GC threads) and on the whole machine (PostgreSQL's
   * processes included), when measured.
   */
  cpu?: { server: number; serverLoop: number; sandbox: number; client: number; machine: number };
}

async function load(options: autocannon.Options): Promise<Figures> {
  const result = await autocannon({ ...options });
  return {
    // A fixed amount ends mid-second: count it over the run's own duration.
    reqPerSec: options.amount ? result.requests.total / result.duration : result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

const intentBody = JSON.stringify({
  amount: 100,
  currency: 'CNY',
  confirm: true,
  description: 'bench',
  payment_method_options: { wechat_pay: { terminal_type: 'WEB', client_ip: '203.0.113.9' } },
});

function createLoad(url: string, key: string, extra: Partial<autocannon.Options> = {}): Promise<Figures> {
  return load({
    url: `${url}/v1/payment_intents`,
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: intentBody,
    connections,
    duration,
    ...extra,
  });
}

/**
 * Open-loop load at a constant rate: request i is sent at t0 + i/rate, and its latency is counted from that
 * scheduled time, so queueing anywhere (client included) shows. autocannon's overallRate sends each second's
 * budget in a burst at the start of the second, which measures burst draining rather than a steady 200 req/s.
 */
async function paced(url: string, key: string, rate: number, seconds: number): Promise<Figures> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(`${url}/v1/payment_intents`);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const total = Math.round(rate * seconds);
  const t0 = performance.now() + 50;
  const one = (scheduled: number) =>
    new Promise<void>((resolve) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - scheduled);
            if ((res.statusCode ?? 0) >= 300) non2xx++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(intentBody);
    });
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(one(scheduled));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10;
  return {
    reqPerSec: latencies.length / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
    requests: latencies.length,
    non2xx,
    errors,
  };
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const loadBefore = loadavg()[0]!;
const sandbox = await start<SandboxInfo>('sandbox');
const databaseKind = args.pg ? 'postgres' : 'sqlite';
const databaseName = args.pg ? 'PostgreSQL' : 'SQLite';
const gateway = await start<GatewayInfo>(
  'gateway',
  JSON.stringify(sandbox.info),
  databaseKind,
  args.synchronous,
);

async function cpuNow(): Promise<{
  server: number;
  serverLoop: number;
  sandbox: number;
  client: number;
  machine: number;
}> {
  const [server, sandboxCpu] = await Promise.all([
    ask<{ micros: number; loopMicros: number }>(gateway.child, 'cpu'),
    ask<{ micros: number }>(sandbox.child, 'cpu'),
  ]);
  const own = process.cpuUsage();
  // Busy time of every core, in ms: os.cpus() counts since boot.
  const machineMs = cpus().reduce(
    (sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq,
    0,
  );
  return {
    server: server.micros,
    serverLoop: server.loopMicros,
    sandbox: sandboxCpu.micros,
    client: own.user + own.system,
    machine: machineMs * 1000,
  };
}

/** Runs a load and adds each process's CPU time per request to its figures. */
async function withCpu(run: () => Promise<Figures>): Promise<Figures> {
  const before = await cpuNow();
  const figures = await run();
  const after = await cpuNow();
  const per = (key: keyof typeof before) =>
    Math.round(((after[key] - before[key]) / 1000 / Math.max(1, figures.requests)) * 1000) / 1000;
  return {
    ...figures,
    cpu: {
      server: per('server'),
      serverLoop: per('serverLoop'),
      sandbox: per('sandbox'),
      client: per('client'),
      machine: per('machine'),
    },
  };
}
const { gatewayUrl, ceilingUrl, floorUrl, secretKey, accountId } = gateway.info;
try {
  // Warm up both paths (JIT, keep-alive connections, SQLite pages).
  await createLoad(ceilingUrl, secretKey, { duration: 3 });
  await createLoad(gatewayUrl, secretKey, { duration: 3 });
  if (floorUrl) await createLoad(floorUrl, secretKey, { duration: 3 });

  const ceilingRounds: Figures[] = [];
  const createRounds: Figures[] = [];
  const floorRounds: Figures[] = [];
  const runs: [Figures[], string][] = [
    [ceilingRounds, ceilingUrl],
    ...(floorUrl ? [[floorRounds, floorUrl] as [Figures[], string]] : []),
    [createRounds, gatewayUrl],
  ];
  for (let round = 0; round < rounds; round++) {
    // Alternate the order, so a noisy neighbour slows all alike.
    for (const [into, url] of round % 2 === 0 ? runs : [...runs].reverse())
      into.push(await withCpu(() => createLoad(url, secretKey)));
  }
  const atRate = await paced(gatewayUrl, secretKey, 200, duration);
  const ceilingAtRate = await paced(ceilingUrl, secretKey, 200, duration);
  // For context: the same at half the target rate.
  const atHalfRate = await paced(gatewayUrl, secretKey, 100, duration);
  const ceilingAtHalfRate = await paced(ceilingUrl, secretKey, 100, duration);

  // Notify ingestion: one signed, first-time notify per open intent, each a conditional update + event.
  const { rows } = await ask<{ rows: { out_trade_no: string; amount: number }[] }>(
    gateway.child,
    'open_intents',
  );
  const bodies = rows.slice(0, Number(args.notifies)).map((row, i) => {
    const fields: Record<string, string> = {
      return_code: 'SUCCESS',
      result_code: 'SUCCESS',
      appid: sandbox.info.merchant.appid,
      mch_id: sandbox.info.merchant.mchId,
      nonce_str: nonce(),
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      is_subscribe: 'N',
      trade_type: 'NATIVE',
      bank_type: 'CMC',
      total_fee: String(row.amount),
      fee_type: 'CNY',
      cash_fee: String(row.amount),
      transaction_id: `4200${String(i).padStart(24, '0')}`,
      out_trade_no: row.out_trade_no,
      time_end: '20261122120000',
    };
    return buildXml({ ...fields, sign: sign(fields, sandbox.info.merchant.key, 'MD5') });
  });
  let next = 0;
  const notify = await load({
    url: `${gatewayUrl}/notify/wechatpay/${accountId}`,
    connections,
    amount: bodies.length,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
      },
    ],
  });
  const counts = await ask<{ succeeded: number; open: number }>(gateway.child, 'counts');

  const ceiling = median(ceilingRounds.map((f) => f.reqPerSec));
  const create = median(createRounds.map((f) => f.reqPerSec));
  const floor = floorUrl ? median(floorRounds.map((f) => f.reqPerSec)) : undefined;
  const report = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadBefore.toFixed(1)} before / ${loadavg()[0]!.toFixed(1)} after`,
    settings: { duration, connections, rounds },
    ceilingRounds,
    createRounds,
    floorRounds,
    ratio: create / ceiling,
    floorRatio: floor === undefined ? undefined : floor / ceiling,
    atRate200: atRate,
    ceilingAtRate200: ceilingAtRate,
    atRate100: atHalfRate,
    ceilingAtRate100: ceilingAtHalfRate,
    notify: { ...notify, notifiesPerSec: notify.reqPerSec, sent: bodies.length, succeeded: counts.succeeded },
  };
  if (args.json) console.log(JSON.stringify(report, null, 2));
  const cpuCell = (f: Figures) =>
    f.cpu
      ? `${f.cpu.server} (${f.cpu.serverLoop}) / ${f.cpu.sandbox} / ${f.cpu.client} / ${f.cpu.machine}`
      : '';
  const row = (name: string, f: Figures) =>
    `| ${name} | ${f.reqPerSec.toFixed(0)} | ${f.p50} | ${f.p99} | ${f.requests} | ${f.non2xx + f.errors} | ${cpuCell(f)} |`;
  console.log(`\n${report.machine}; ${duration} s per run, ${connections} connections\n`);
  console.log(
    '| run | req/s | p50 ms | p99 ms | requests | non-2xx + errors | CPU ms/request: server (its event loop) / sandbox / client / machine |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [i, f] of ceilingRounds.entries())
    console.log(row(`ceiling (bare Fastify → sandbox), round ${i + 1}`, f));
  for (const [i, f] of floorRounds.entries())
    console.log(row(`floor (bare Fastify → sandbox, raw SQLite writes), round ${i + 1}`, f));
  for (const [i, f] of createRounds.entries()) {
    console.log(row(`create WEB intent (gateway → sandbox → ${databaseName}), round ${i + 1}`, f));
  }
  console.log(row('create, paced at 200 req/s', atRate));
  console.log(row('ceiling, paced at 200 req/s', ceilingAtRate));
  console.log(row('create, paced at 100 req/s', atHalfRate));
  console.log(row('ceiling, paced at 100 req/s', ceilingAtHalfRate));
  console.log(row(`notify ingestion (${bodies.length} first notifies)`, notify));
  console.log(
    `\ncreate / ceiling (medians): ${create.toFixed(0)} / ${ceiling.toFixed(0)} = ${(100 * report.ratio).toFixed(0)}% (target ≥ 50%)`,
  );
  if (floor !== undefined)
    console.log(
      `floor / ceiling (medians): ${floor.toFixed(0)} / ${ceiling.toFixed(0)} = ${((100 * floor) / ceiling).toFixed(0)}%; ` +
        `create / floor: ${((100 * create) / floor).toFixed(0)}%`,
    );
  console.log(`p99 at 200 req/s: ${atRate.p99} ms (target < 50 ms)`);
  console.log(
    `notifies: ${notify.reqPerSec.toFixed(0)}/s; intents succeeded afterwards: ${counts.succeeded}`,
  );
} finally {
  gateway.child.send({ type: 'stop' });
  sandbox.child.kill();
  await once(gateway.child, 'exit').catch(() => {});
}
