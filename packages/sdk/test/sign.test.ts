import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { sign, signingString, signTypeOf, verifySign } from '../src/index.ts';

// WeChat's published example (protocol file, "Signature").
const EXAMPLE = {
  appid: 'wxd930ea5d5a258f4f',
  mch_id: '10000100',
  device_info: '1000',
  body: 'test',
  nonce_str: 'ibuaiVcKdpRxkhJA',
};
const EXAMPLE_KEY = '192006250b4c09247ec02edce69f6a2d';

describe('sign', () => {
  test('matches WeChat’s published MD5 example', () => {
    assert.equal(sign(EXAMPLE, EXAMPLE_KEY, 'MD5'), '9A0A8659F005D6984697E2CA0A9CF3B7');
  });

  test('matches WeChat’s published HMAC-SHA256 example', () => {
    assert.equal(
      sign(EXAMPLE, EXAMPLE_KEY, 'HMAC-SHA256'),
      '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
    );
  });

  test('MD5 is the default sign type', () => {
    assert.equal(sign(EXAMPLE, EXAMPLE_KEY), '9A0A8659F005D6984697E2CA0A9CF3B7');
  });

  test('leaves out sign and empty fields, and sorts by field name', () => {
    assert.equal(
      signingString({ b: '2', a: '1', sign: 'X', empty: '', nothing: undefined, zero: 0 }),
      'a=1&b=2&zero=0',
    );
  });

  test('refuses an unknown sign type', () => {
    assert.throws(() => sign(EXAMPLE, EXAMPLE_KEY, 'SHA1' as 'MD5'), /unknown sign type/);
  });
});

describe('verifySign', () => {
  test('accepts both published signatures, inferring the type from the length', () => {
    assert.equal(verifySign({ ...EXAMPLE, sign: '9A0A8659F005D6984697E2CA0A9CF3B7' }, EXAMPLE_KEY), true);
    assert.equal(
      verifySign(
        { ...EXAMPLE, sign: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6' },
        EXAMPLE_KEY,
      ),
      true,
    );
    assert.equal(
      signTypeOf('6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6'),
      'HMAC-SHA256',
    );
  });

  test('rejects a changed field, a wrong key, a missing or malformed sign', () => {
    const signed = { ...EXAMPLE, sign: '9A0A8659F005D6984697E2CA0A9CF3B7' };
    assert.equal(verifySign({ ...signed, body: 'tesT' }, EXAMPLE_KEY), false);
    assert.equal(verifySign(signed, EXAMPLE_KEY.replace('1', '2')), false);
    assert.equal(verifySign(EXAMPLE, EXAMPLE_KEY), false);
    assert.equal(verifySign({ ...EXAMPLE, sign: '9A0A8659' }, EXAMPLE_KEY), false);
  });

  test('includes unknown extra fields', () => {
    const withExtra = { ...EXAMPLE, future_field: 'x' };
    const signed = { ...withExtra, sign: sign(withExtra, EXAMPLE_KEY) };
    assert.equal(verifySign(signed, EXAMPLE_KEY), true);
    const { future_field: _dropped, ...without } = signed;
    assert.equal(verifySign(without, EXAMPLE_KEY), false);
  });
});

describe('sign, property-based', () => {
  const fieldName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/).filter((name) => name !== 'sign');
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom('&', '=', ']]>', 'a&b=c', '微信支付', '红包🧧', '', ' '),
    fc.string({ unit: 'grapheme' }),
  );
  const key = fc.string({ minLength: 32, maxLength: 32 });

  test('equals an independent MD5 / HMAC-SHA256 over the documented string', () => {
    fc.assert(
      fc.property(fc.dictionary(fieldName, value), key, (params, apiKey) => {
        const names = Object.keys(params)
          .filter((name) => params[name] !== '')
          .sort();
        const text = `${names.map((name) => `${name}=${params[name]}`).join('&')}&key=${apiKey}`;
        const md5 = createHash('md5').update(text).digest('hex').toUpperCase();
        const hmac = createHmac('sha256', apiKey).update(text).digest('hex').toUpperCase();
        assert.equal(sign(params, apiKey, 'MD5'), md5);
        assert.equal(sign(params, apiKey, 'HMAC-SHA256'), hmac);
      }),
    );
  });

  test('whatever is signed verifies, and any change to a non-empty value does not', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fieldName, value, { minKeys: 1 }),
        key,
        fc.constantFrom('MD5', 'HMAC-SHA256') as fc.Arbitrary<'MD5' | 'HMAC-SHA256'>,
        (params, apiKey, type) => {
          const signed = { ...params, sign: sign(params, apiKey, type) };
          assert.equal(verifySign(signed, apiKey), true);
          const target = Object.keys(params).find((name) => params[name] !== '');
          if (target) assert.equal(verifySign({ ...signed, [target]: `${params[target]}x` }, apiKey), false);
        },
      ),
    );
  });
});
