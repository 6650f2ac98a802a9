import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

// `npm test` builds first; these check the published output, not the sources.
describe('the built package', () => {
  test('works from CommonJS through require()', () => {
    const script = `
      const sdk = require('@wxpay/sdk');
      const { WechatPay, sign, parseXml, BusinessError } = sdk;
      const pay = new WechatPay({ appid: 'wx1', mchId: '1900000109', key: '${'k'.repeat(32)}' });
      process.stdout.write(JSON.stringify({
        sign: sign({ appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test', nonce_str: 'ibuaiVcKdpRxkhJA' }, '192006250b4c09247ec02edce69f6a2d'),
        xml: parseXml('<xml><a>1</a></xml>').a,
        cls: typeof WechatPay, err: new BusinessError('X', 'y').code, mch: pay.mchId,
        resolved: require.resolve('@wxpay/sdk'),
      }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }));
    assert.equal(out.sign, '9A0A8659F005D6984697E2CA0A9CF3B7');
    assert.equal(out.xml, '1');
    assert.equal(out.cls, 'function');
    assert.equal(out.err, 'BUSINESS');
    assert.equal(out.mch, '1900000109');
    assert.match(out.resolved, /dist[\\/]index\.cjs$/);
  });

  test('works from ESM through import', () => {
    const script = `import('@wxpay/sdk').then((sdk) => process.stdout.write(String(typeof sdk.WechatPay) + ' ' + import.meta.resolve('@wxpay/sdk')))`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.match(out, /^function .*dist\/index\.js$/);
  });
});
