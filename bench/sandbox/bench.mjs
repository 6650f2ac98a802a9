// Drives unifiedorder + orderquery against @wxpay/sandbox over mutual TLS with keep-alive, and the
// same requests against a bare node:https server (same TLS setup) that answers a fixed XML string.
// Reports req/s and p99 for both and the sandbox's share of the ceiling.
// The two targets alternate for several rounds and the medians are reported, because the machines
// here are shared and noisy. Client and servers share one process, as the ceiling's client does.
// Run from the repository after `npm run build`:
//   node bench/sandbox/bench.mjs [seconds per round = 2] [concurrency = 10] [rounds = 5]
import { once } from 'node:events';
import { createServer } from 'node:https';
import { performance } from 'node:perf_hooks';
import { createCa, issueServerCert, startSandbox } from '@wxpay/sandbox';
import { buildXml, nonce, sign } from '@wxpay/sdk';
import { Agent, request } from 'undici';

const SECONDS = Number(process.argv[2] ?? 2);
const CONCURRENCY = Number(process.argv[3] ?? 10);
const ROUNDS = Number(process.argv[4] ?? 5);
const WARMUP_MS = 500;

const sandbox = await startSandbox({ seed: 'bench' });
const m = sandbox.merchants[0];

const FIXED = buildXml({
  return_code: 'SUCCESS',
  return_msg: 'OK',
  result_code: 'SUCCESS',
  prepay_id: 'wx1',
  trade_state: 'NOTPAY',
});
// The bare server has its own certificate of the same kind (RSA 2048) and asks for the client's
// certificate the same way, so both sides pay the same TLS costs.
const bareCa = createCa('bench CA');
const bareCert = issueServerCert(bareCa, ['127.0.0.1']);
const bare = createServer(
  {
    key: bareCert.keyPem,
    cert: bareCert.certPem,
    ca: sandbox.caCert,
    requestCert: true,
    rejectUnauthorized: false,
  },
  (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(FIXED));
  },
);
bare.listen(0, '127.0.0.1');
await once(bare, 'listening');
const bareUrl = `https://127.0.0.1:${bare.address().port}`;

let counter = 0;
function signed(fields) {
  const all = { appid: m.appid, mch_id: m.mchId, nonce_str: nonce(), ...fields };
  return buildXml({ ...all, sign: sign(all, m.key) });
}
function unifiedOrderBody(outTradeNo) {
  return signed({
    body: 'bench',
    out_trade_no: outTradeNo,
    total_fee: '1',
    spbill_create_ip: '127.0.0.1',
    notify_url: 'http://127.0.0.1:9/n',
    trade_type: 'APP',
  });
}

async function run(baseUrl) {
  const agent = new Agent({
    connections: CONCURRENCY,
    keepAliveTimeout: 30_000,
    connect: { ca: [sandbox.caCert, bareCa.certPem], pfx: m.pfx, passphrase: m.passphrase },
  });
  const latencies = [];
  let errors = 0;
  let measuring = false;
  const post = async (path, body) => {
    const started = performance.now();
    const res = await request(baseUrl + path, {
      method: 'POST',
      body,
      dispatcher: agent,
      headers: { 'content-type': 'text/xml' },
    });
    const text = await res.body.text();
    if (res.statusCode !== 200 || !text.includes('SUCCESS')) errors++;
    if (measuring) latencies.push(performance.now() - started);
  };
  const worker = async (until) => {
    while (performance.now() < until) {
      const no = `B${process.pid}${++counter}`;
      await post('/pay/unifiedorder', unifiedOrderBody(no));
      await post('/pay/orderquery', signed({ out_trade_no: no }));
    }
  };
  const warmEnd = performance.now() + WARMUP_MS;
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(warmEnd)));
  measuring = true;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(end)));
  const elapsed = (performance.now() - start) / 1000;
  await agent.close();
  latencies.sort((a, b) => a - b);
  const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: p(0.5), p99: p(0.99), errors };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  // Alternate which goes first, so neither always gets the quieter moment.
  const order = i % 2 === 0 ? ['bare', 'sandbox'] : ['sandbox', 'bare'];
  const round = {};
  for (const target of order) round[target] = await run(target === 'bare' ? bareUrl : sandbox.url);
  rounds.push(round);
}
bare.close();
await sandbox.close();

const summary = (target) => ({
  rps: median(rounds.map((r) => r[target].rps)),
  p50: median(rounds.map((r) => r[target].p50)),
  p99: median(rounds.map((r) => r[target].p99)),
  errors: rounds.reduce((a, r) => a + r[target].errors, 0),
});
const bareResult = summary('bare');
const sandboxResult = summary('sandbox');
const fmt = (r) =>
  `${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}`;
console.log(
  `node ${process.version}, ${ROUNDS} rounds × ${SECONDS}s per target, concurrency ${CONCURRENCY}, mTLS keep-alive (medians)`,
);
console.log(`bare node https (fixed XML): ${fmt(bareResult)}`);
console.log(`@wxpay/sandbox (unifiedorder + orderquery): ${fmt(sandboxResult)}`);
console.log(
  `throughput ratio sandbox/bare, per round: ${rounds.map((r) => (r.sandbox.rps / r.bare.rps).toFixed(2)).join(' ')}`,
);
console.log(
  `throughput ratio sandbox/bare, median: ${median(rounds.map((r) => r.sandbox.rps / r.bare.rps)).toFixed(2)}`,
);
console.log(
  `p99 ratio sandbox/bare, median: ${median(rounds.map((r) => r.sandbox.p99 / r.bare.p99)).toFixed(2)}`,
);
