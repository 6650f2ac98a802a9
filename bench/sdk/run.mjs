// Speed benchmark of @wxpay/sdk against tenpay and wechatpay-axios-plugin.
//
// One run measures, for each library and with that library's own signing and XML code:
//   - build + sign a 12-field unifiedorder request (fields → signed XML string);
//   - parse + verify a 20-field payment notify (XML string → verified object);
//   - the bare MD5 of the same signing strings, as the floor;
//   - XML alone: our parseXml/buildXml against fast-xml-parser and xml2js on the same data.
// Rounds of every case are interleaved, so a noisy neighbour slows all libraries alike, and each
// headline ratio is the median of per-round ratios against the faster competitor of that round.
//
// Usage (from the repo root): npm --prefix bench/sdk install && npm --prefix bench/sdk run bench
// Options: --rounds N (9)  --round-ms N (150)  --warmup-ms N (300)  --json FILE  --only REGEX
//          --sdk FILE (another build of the SDK's index.js, to try a change against the same rivals)
// The SDK is imported from its built output, packages/sdk/dist (the bench's prebench builds it).
import { createHash, hash as oneShotHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const Tenpay = require('tenpay');
const tenpayUtil = require('tenpay/lib/util');
const { Transformer, Hash } = require('wechatpay-axios-plugin');
const { XMLParser, XMLBuilder } = require('fast-xml-parser');
// xml2js is tenpay's own copy, not a dependency of the bench.
const xml2js = createRequire(require.resolve('tenpay'))('xml2js');

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    'round-ms': { type: 'string', default: '150' },
    'warmup-ms': { type: 'string', default: '300' },
    json: { type: 'string' },
    only: { type: 'string' },
    sdk: { type: 'string' },
  },
});
const sdkUrl = opts.sdk
  ? pathToFileURL(resolve(opts.sdk)).href
  : new URL('../../packages/sdk/dist/index.js', import.meta.url).href;
const {
  buildXml,
  nonce,
  parsePaymentNotify,
  parseXml,
  SignatureError,
  sign,
  signingString,
  verifySign,
  WechatPay,
} = await import(sdkUrl);
const ROUNDS = Math.max(1, Number(opts.rounds));
const ROUND_MS = Math.max(10, Number(opts['round-ms']));
const WARMUP_MS = Math.max(0, Number(opts['warmup-ms']));
const gc = globalThis.gc ?? (() => {});

// ---- the merchant and the data -------------------------------------------------------------------

const APPID = 'wx2421b1c4370ec43b';
const MCH_ID = '10000100';
const KEY = '192006250b4c09247ec02edce69f6a2d';
const NOTIFY_URL = 'https://merchant.example.com/wxpay/notify';

// What the merchant passes for a JSAPI unifiedorder. Each library adds appid, mch_id, notify_url,
// nonce_str, sign_type and sign, for 12 fields on the wire.
const ORDER = {
  body: 'Image形象店-深圳腾大-QQ公仔',
  out_trade_no: '1217752501201407033233368018',
  total_fee: 888,
  spbill_create_ip: '123.12.12.123',
  trade_type: 'JSAPI',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
};
const REQUEST_FIELD_COUNT = 12;

// A payment notify laid out as WeChat sends it (CDATA strings, bare total_fee, indented), 20 fields.
const NOTIFY_FIELDS = {
  appid: APPID,
  attach: '支付测试',
  bank_type: 'CFT',
  fee_type: 'CNY',
  is_subscribe: 'Y',
  mch_id: MCH_ID,
  nonce_str: '5d2b6c2a8db53831f7eda20af46e531c',
  openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
  out_trade_no: '1409811653202311180000000001',
  result_code: 'SUCCESS',
  return_code: 'SUCCESS',
  sign: '',
  time_end: '20140903131540',
  total_fee: '1',
  coupon_fee: '10',
  coupon_count: '1',
  coupon_type: 'CASH',
  coupon_id: '10000',
  trade_type: 'JSAPI',
  transaction_id: '1004400740201409030005092168',
};

// The reference signer, written out here from the protocol so that no library checks itself.
function referenceSigningString(fields) {
  return `${Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== undefined && fields[k] !== null && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&')}&key=${KEY}`;
}
const md5Upper = (text) => createHash('md5').update(text, 'utf8').digest('hex').toUpperCase();

NOTIFY_FIELDS.sign = md5Upper(referenceSigningString(NOTIFY_FIELDS));
function notifyXml(fields) {
  const lines = Object.entries(fields).map(([k, v]) =>
    k === 'total_fee' ? `  <${k}>${v}</${k}>` : `  <${k}><![CDATA[${v}]]></${k}>`,
  );
  return `<xml>\n${lines.join('\n')}\n</xml>`;
}
const NOTIFY_XML = notifyXml(NOTIFY_FIELDS);
const FORGED_NOTIFY_XML = notifyXml({ ...NOTIFY_FIELDS, total_fee: '100' });

// ---- each library, as its own client does it ------------------------------------------------------

// @wxpay/sdk: WechatPay#prepare fills appid, mch_id, notify_url, nonce_str, sign_type and signs;
// buildXml makes the body (exactly what WechatPay#call sends). parsePaymentNotify parses, checks
// return_code, verifies the sign in constant time and checks mch_id and appid.
const ours = new WechatPay({ appid: APPID, mchId: MCH_ID, key: KEY, notifyUrl: NOTIFY_URL });
const merchant = { appid: APPID, mchId: MCH_ID, key: KEY };
const oursBuild = (order) => buildXml(ours.prepare('unifiedOrder', order));
const oursNotify = (xml) => parsePaymentNotify(xml, merchant);

// tenpay: Payment#unifiedOrder builds the package (appid, mch_id, nonce_str, sign_type, notify_url,
// spbill_create_ip, trade_type) and hands it to _request, which signs with _getSign and serialises
// with util.buildXML (xml2js) before posting. The bench replaces only the post: its _request runs
// the first two lines of tenpay's own _request and returns the body. Notifies go through
// Payment#_parse(xml, 'middleware_pay'), which its Koa and Express middlewares await: xml2js,
// return_code and result_code, appid, mch_id and the sign (plain string compare).
const tenpay = Tenpay.init({ appid: APPID, mchid: MCH_ID, partnerKey: KEY, notify_url: NOTIFY_URL });
tenpay._request = function benchRequest(params) {
  params.sign = this._getSign(params, params.sign_type);
  return tenpayUtil.buildXML(params);
};
const tenpayBuild = (order) => tenpay.unifiedOrder(order);
const tenpayNotify = (xml) => tenpay._parse(xml, 'middleware_pay');

// wechatpay-axios-plugin: its v2 client (lib/decorator.js) turns the 32-character secret into a
// KeyObject and installs Transformer#request ([signer, stringify]) and Transformer#response
// ([parse, verifier]) as axios transforms, which axios calls with the request config as `this`.
// The caller passes appid, mch_id, notify_url and sign_type; the signer adds nonce_str and sign.
// The verifier returns (not throws) an Error on return_code/result_code FAIL or a bad sign
// (constant-time compare); it does not check appid.
const wxTrans = new Transformer(MCH_ID, Hash.keyObjectFrom(Buffer.from(KEY)));
const [wxSigner, wxStringify] = wxTrans.request;
const [wxParse, wxVerifier] = wxTrans.response;
const wxConfig = { method: 'post', url: '/pay/unifiedorder', baseURL: 'https://api.mch.weixin.qq.com/' };
const wxNotifyConfig = { method: 'post', url: '/wxpay/notify' };
const WX_ORDER = { appid: APPID, mch_id: MCH_ID, ...ORDER, notify_url: NOTIFY_URL, sign_type: 'MD5' };
const wxBuild = (data) => wxStringify.call(wxConfig, wxSigner.call(wxConfig, data));
const wxNotify = (xml) => {
  const out = wxVerifier.call(wxNotifyConfig, wxParse.call(wxNotifyConfig, xml));
  if (out instanceof Error) throw out;
  return out;
};

// XML baselines on their own.
const fxpParser = new XMLParser({ parseTagValue: false });
const fxpBuilder = new XMLBuilder(); // defaults: values entity-escaped, not in CDATA
const fxpParse = (xml) => fxpParser.parse(xml).xml;
const xml2jsOptions = { trim: true, explicitArray: false, explicitRoot: false };
const xml2jsParse = (xml) => {
  let out;
  // xml2js calls back synchronously when async is false (its default).
  xml2js.parseString(xml, xml2jsOptions, (err, res) => {
    if (err) throw err;
    out = res;
  });
  return out;
};

// ---- correctness: a broken comparison must not pass silently ---------------------------------------

const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
}
const sameFields = (a, b) =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.keys(a).every((k) => String(a[k]) === String(b[k]));

function checkCorrectness() {
  // 1. WeChat's published example, through every library's signer.
  const example = {
    appid: 'wxd930ea5d5a258f4f',
    mch_id: '10000100',
    device_info: '1000',
    body: 'test',
    nonce_str: 'ibuaiVcKdpRxkhJA',
  };
  const exampleSign = '9A0A8659F005D6984697E2CA0A9CF3B7';
  check(md5Upper(referenceSigningString(example)) === exampleSign, 'reference signer: WeChat example');
  check(sign(example, KEY, 'MD5') === exampleSign, '@wxpay/sdk sign: WeChat example');
  check(tenpay._getSign(example, 'MD5') === exampleSign, 'tenpay _getSign: WeChat example');
  check(
    Hash.sign('MD5', example, Hash.keyObjectFrom(Buffer.from(KEY))) === exampleSign,
    'wechatpay-axios-plugin Hash.sign: WeChat example',
  );

  // 2. Build + sign with a pinned nonce: all three must put the same 12 fields and the same sign on
  //    the wire. The XML is read back with fast-xml-parser, independent of every library's parser.
  const nonceStr = 'BenchNonce0123456789abcdefghijkl';
  const originalGenerate = tenpayUtil.generate;
  tenpayUtil.generate = () => nonceStr; // tenpay's unifiedOrder always draws its own nonce
  let bodies;
  try {
    bodies = {
      '@wxpay/sdk': oursBuild({ ...ORDER, nonce_str: nonceStr }),
      tenpay: tenpayBuild(ORDER),
      'wechatpay-axios-plugin': wxBuild({ ...WX_ORDER, nonce_str: nonceStr }),
    };
  } finally {
    tenpayUtil.generate = originalGenerate;
  }
  const expected = {
    ...ORDER,
    appid: APPID,
    mch_id: MCH_ID,
    notify_url: NOTIFY_URL,
    nonce_str: nonceStr,
    sign_type: 'MD5',
  };
  expected.sign = md5Upper(referenceSigningString(expected));
  for (const [lib, body] of Object.entries(bodies)) {
    const back = fxpParse(body);
    check(
      typeof body === 'string' && /^(<\?xml[^>]*\?>\s*)?<xml>[\s\S]*<\/xml>$/.test(body),
      `${lib} build: body is an <xml> document`,
    );
    check(
      Object.keys(back).length === REQUEST_FIELD_COUNT,
      `${lib} build: ${REQUEST_FIELD_COUNT} fields on the wire`,
    );
    check(
      sameFields(back, expected),
      `${lib} build: fields and sign equal the reference (${JSON.stringify(back)})`,
    );
    check(verifySign(back, KEY), `${lib} build: @wxpay/sdk verifySign accepts it`);
    check(parseXml(body).sign === expected.sign, `${lib} build: @wxpay/sdk parseXml reads the same sign`);
  }
  // Unpinned, every call draws a fresh nonce and still signs correctly.
  for (const [lib, build, input] of [
    ['@wxpay/sdk', oursBuild, ORDER],
    ['tenpay', tenpayBuild, ORDER],
    ['wechatpay-axios-plugin', wxBuild, WX_ORDER],
  ]) {
    const a = fxpParse(build(input));
    const b = fxpParse(build(input));
    check(a.nonce_str !== b.nonce_str, `${lib} build: a fresh nonce each call`);
    check(a.sign === md5Upper(referenceSigningString(a)), `${lib} build: unpinned sign is correct`);
  }

  // 3. The notify: every library accepts the genuine one with the same 20 string fields, and refuses
  //    the one whose total_fee was altered.
  return (async () => {
    const notifies = {
      '@wxpay/sdk': oursNotify(NOTIFY_XML),
      tenpay: await tenpayNotify(NOTIFY_XML),
      'wechatpay-axios-plugin': wxNotify(NOTIFY_XML),
    };
    for (const [lib, got] of Object.entries(notifies)) {
      check(sameFields(got, NOTIFY_FIELDS), `${lib} notify: the 20 fields come back as sent`);
      check(got.out_trade_no === NOTIFY_FIELDS.out_trade_no, `${lib} notify: out_trade_no kept as a string`);
    }
    const refused = async (fn) => {
      try {
        await fn(FORGED_NOTIFY_XML);
        return false;
      } catch {
        return true;
      }
    };
    check(await refused(oursNotify), '@wxpay/sdk notify: forged total_fee refused');
    check(await refused(tenpayNotify), 'tenpay notify: forged total_fee refused');
    check(await refused(wxNotify), 'wechatpay-axios-plugin notify: forged total_fee refused');
    try {
      oursNotify(FORGED_NOTIFY_XML);
    } catch (error) {
      check(error instanceof SignatureError, '@wxpay/sdk notify: forged total_fee is a SignatureError');
    }

    // 4. The XML baselines read the notify exactly as our codec does.
    check(sameFields(parseXml(NOTIFY_XML), NOTIFY_FIELDS), '@wxpay/sdk parseXml: notify fields');
    check(sameFields(fxpParse(NOTIFY_XML), NOTIFY_FIELDS), 'fast-xml-parser: notify fields');
    check(sameFields(xml2jsParse(NOTIFY_XML), NOTIFY_FIELDS), 'xml2js: notify fields');
    check(
      sameFields(wxParse.call(wxNotifyConfig, NOTIFY_XML), NOTIFY_FIELDS),
      'wechatpay toObject: notify fields',
    );
    const built = { ...expected };
    check(
      sameFields(fxpParse(buildXml(built)), built),
      '@wxpay/sdk buildXml round-trips through fast-xml-parser',
    );
    check(
      sameFields(parseXml(fxpBuilder.build({ xml: built })), built),
      'fast-xml-parser builder round-trips',
    );
  })();
}

// ---- the cases --------------------------------------------------------------------------------------

const REQUEST_SIGNING_STRING = referenceSigningString({
  ...ORDER,
  appid: APPID,
  mch_id: MCH_ID,
  notify_url: NOTIFY_URL,
  nonce_str: 'BenchNonce0123456789abcdefghijkl',
  sign_type: 'MD5',
});
const NOTIFY_SIGNING_STRING = referenceSigningString(NOTIFY_FIELDS);
const PARSED_NOTIFY = parseXml(NOTIFY_XML);
const PREPARED = ours.prepare('unifiedOrder', ORDER);
const md5Floor = (text) => createHash('md5').update(text, 'utf8').digest('hex');

// Each case returns something with a length, summed into a sink so nothing is optimised away.
const CASES = [
  { group: 'build', lib: '@wxpay/sdk', fn: () => oursBuild(ORDER) },
  { group: 'build', lib: 'tenpay', fn: () => tenpayBuild(ORDER) },
  { group: 'build', lib: 'wechatpay-axios-plugin', fn: () => wxBuild(WX_ORDER) },
  { group: 'build', lib: 'MD5 floor', fn: () => md5Floor(REQUEST_SIGNING_STRING) },
  {
    group: 'build',
    lib: 'MD5 floor, one-shot crypto.hash',
    fn: () => oneShotHash('md5', REQUEST_SIGNING_STRING),
  },
  { group: 'notify', lib: '@wxpay/sdk', fn: () => oursNotify(NOTIFY_XML).sign },
  { group: 'notify', lib: 'tenpay', fn: async () => (await tenpayNotify(NOTIFY_XML)).sign, async: true },
  { group: 'notify', lib: 'wechatpay-axios-plugin', fn: () => wxNotify(NOTIFY_XML).sign },
  { group: 'notify', lib: 'MD5 floor', fn: () => md5Floor(NOTIFY_SIGNING_STRING) },
  {
    group: 'notify',
    lib: 'MD5 floor, one-shot crypto.hash',
    fn: () => oneShotHash('md5', NOTIFY_SIGNING_STRING),
  },
  { group: 'parse', lib: '@wxpay/sdk parseXml', fn: () => parseXml(NOTIFY_XML).sign },
  { group: 'parse', lib: 'fast-xml-parser 5', fn: () => fxpParse(NOTIFY_XML).sign },
  { group: 'parse', lib: 'xml2js 0.4', fn: () => xml2jsParse(NOTIFY_XML).sign },
  { group: 'xmlbuild', lib: '@wxpay/sdk buildXml', fn: () => buildXml(PREPARED) },
  { group: 'xmlbuild', lib: 'fast-xml-parser 5', fn: () => fxpBuilder.build({ xml: PREPARED }) },
  { group: 'xmlbuild', lib: 'xml2js 0.4', fn: () => tenpayUtil.buildXML(PREPARED) },
  { group: 'ours', lib: 'prepare (fill + sign)', fn: () => ours.prepare('unifiedOrder', ORDER).sign },
  { group: 'ours', lib: 'nonce()', fn: () => nonce() },
  { group: 'ours', lib: 'sign (12 fields)', fn: () => sign(PREPARED, KEY, 'MD5') },
  { group: 'ours', lib: 'verifySign (20 fields)', fn: () => (verifySign(PARSED_NOTIFY, KEY) ? 'ok' : '') },
  { group: 'ours', lib: 'signingString (20 fields)', fn: () => signingString(PARSED_NOTIFY) },
];

const selected = opts.only ? CASES.filter((c) => new RegExp(opts.only).test(`${c.group} ${c.lib}`)) : CASES;
let sink = 0;
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function runBatch(c, n) {
  gc();
  const start = now();
  if (c.async) {
    for (let i = 0; i < n; i++) sink += (await c.fn()).length;
  } else {
    for (let i = 0; i < n; i++) sink += c.fn().length;
  }
  return now() - start;
}

async function calibrate(c) {
  // Double the batch until one takes 10 ms (bounded), then size it to ROUND_MS.
  let n = 1;
  let ms = 0;
  for (let step = 0; step < 30; step++) {
    ms = await runBatch(c, n);
    if (ms >= 10) break;
    n *= 2;
  }
  return Math.max(1, Math.round((n * ROUND_MS) / Math.max(ms, 0.001)));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---- run ----------------------------------------------------------------------------------------------

await checkCorrectness();
if (failures.length) {
  console.error('correctness checks FAILED; no timings taken:');
  for (const f of failures) console.error(`  - ${f}`);
  process.exitCode = 1;
  await ours.close();
} else {
  console.log(
    `correctness: all checks passed (same MD5 sign from every library, forged notify refused by all)`,
  );
  const startedAt = new Date();
  for (const c of selected) {
    c.batch = await calibrate(c);
    const until = now() + WARMUP_MS;
    for (let i = 0; i < 1000 && now() < until; i++) await runBatch(c, Math.max(1, c.batch >> 3));
    c.rounds = [];
  }
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the starting case each round so no case always runs right after the same neighbour.
    for (let k = 0; k < selected.length; k++) {
      const c = selected[(k + r) % selected.length];
      const ms = await runBatch(c, c.batch);
      c.rounds.push((c.batch * 1000) / ms);
    }
  }
  await ours.close();

  const cpu = os.cpus();
  const machine = {
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: `${cpu.length} × ${cpu[0]?.model ?? '?'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((x) => x.toFixed(2)),
    date: startedAt.toISOString(),
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    warmupMs: WARMUP_MS,
    exposeGc: typeof globalThis.gc === 'function',
    sdk: sdkUrl,
  };
  const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
  const spread = (c) => {
    const s = [...c.rounds].sort((a, b) => a - b);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return `${fmt(q(0.25))}–${fmt(q(0.75))}`;
  };
  const results = {};
  for (const c of selected) {
    results[`${c.group}/${c.lib}`] = {
      group: c.group,
      lib: c.lib,
      median: median(c.rounds),
      rounds: c.rounds,
    };
  }
  // Per-round ratio of ours to the faster of the two competitors, then the median over rounds.
  const ratioAgainstFaster = (group, oursLib, rivals) => {
    const o = selected.find((c) => c.group === group && c.lib === oursLib);
    const rs = rivals.map((lib) => selected.find((c) => c.group === group && c.lib === lib)).filter(Boolean);
    if (!o || rs.length === 0) return undefined;
    const perRound = o.rounds.map((v, i) => v / Math.max(...rs.map((c) => c.rounds[i])));
    const fasterByMedian = rs.reduce((a, b) => (median(a.rounds) >= median(b.rounds) ? a : b));
    return {
      against: fasterByMedian.lib,
      ratio: median(perRound),
      ratioOfMedians: median(o.rounds) / median(fasterByMedian.rounds),
      min: Math.min(...perRound),
      max: Math.max(...perRound),
    };
  };
  const competitors = ['tenpay', 'wechatpay-axios-plugin'];
  const headline = {
    build: { ...ratioAgainstFaster('build', '@wxpay/sdk', competitors), target: 3 },
    notify: { ...ratioAgainstFaster('notify', '@wxpay/sdk', competitors), target: 5 },
    parse: ratioAgainstFaster('parse', '@wxpay/sdk parseXml', ['fast-xml-parser 5', 'xml2js 0.4']),
    xmlbuild: ratioAgainstFaster('xmlbuild', '@wxpay/sdk buildXml', ['fast-xml-parser 5', 'xml2js 0.4']),
  };

  console.log(
    `\n${machine.node} (V8 ${machine.v8}), ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, ` +
      `load ${machine.loadavg.join(' ')}`,
  );
  console.log(
    `${ROUNDS} rounds × ${ROUND_MS} ms per case after ${WARMUP_MS} ms warm-up, interleaved; ` +
      `gc between batches: ${machine.exposeGc ? 'yes' : 'no'}; ${machine.date}\n`,
  );
  const titles = {
    build: 'Build + sign a 12-field unifiedorder request (fields → signed XML)',
    notify: 'Parse + verify a 20-field payment notify (XML → verified object)',
    parse: 'XML parse only: the same 20-field notify',
    xmlbuild: 'XML build only: the same 12 request fields',
    ours: '@wxpay/sdk breakdown',
  };
  for (const group of Object.keys(titles)) {
    const rows = selected.filter((c) => c.group === group);
    if (!rows.length) continue;
    console.log(`### ${titles[group]}\n`);
    console.log('| library | median ops/s | middle half of rounds | µs/op |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const c of rows) {
      const m = median(c.rounds);
      console.log(`| ${c.lib} | ${fmt(m)} | ${spread(c)} | ${(1e6 / m).toFixed(2)} |`);
    }
    const h = headline[group];
    if (h?.ratio !== undefined) {
      const verdict = h.target ? ` — target ≥ ${h.target}×: ${h.ratio >= h.target ? 'MET' : 'MISSED'}` : '';
      console.log(
        `\n@wxpay/sdk ÷ ${h.against}: **${h.ratio.toFixed(2)}×** (median of per-round ratios; ` +
          `range ${h.min.toFixed(2)}–${h.max.toFixed(2)}; ratio of medians ${h.ratioOfMedians.toFixed(2)}×)${verdict}`,
      );
    }
    console.log('');
  }
  const floorRatio = (group) => {
    const o = results[`${group}/@wxpay/sdk`];
    const f = results[`${group}/MD5 floor`];
    return o && f ? f.median / o.median : undefined;
  };
  for (const group of ['build', 'notify']) {
    const x = floorRatio(group);
    if (x !== undefined) console.log(`${group}: @wxpay/sdk runs at 1/${x.toFixed(1)} of the bare MD5 floor`);
  }
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ machine, headline, results }, null, 2)}\n`);
    console.log(`\nwrote ${opts.json}`);
  }
  if (sink === 42) console.log(''); // reads the sink, so no case's result is dead code
}
