// A configuration error names the setting as the user wrote it: the env var when it came from the environment,
// the key of the WXPAY_CONFIG file when it came from there, the option's name when given to buildGateway.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigurationError, loadConfig, resolveConfig } from '../src/config.ts';

const KEY = '192006250b4c09247ec02edce69f6a2d';

/** The ConfigurationError that loading `env` throws. */
function refusal(env: NodeJS.ProcessEnv): ConfigurationError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, String(error));
    return error;
  }
  assert.fail(`${JSON.stringify(env)} was accepted`);
}

function assertNames(error: ConfigurationError, setting: string, what: string): void {
  assert.equal(error.setting, setting, `${what}: ${error.message}`);
  assert.ok(error.message.startsWith(`${setting}: `), `${what}: ${error.message}`);
}

describe('configuration errors name the env var that was set', () => {
  const cases: [NodeJS.ProcessEnv, string][] = [
    [{ DATABASE_URL: 'mysql://u@h/db' }, 'DATABASE_URL'],
    [{ WXPAY_PUBLIC_URL: 'example.com' }, 'WXPAY_PUBLIC_URL'],
    [{ WXPAY_WECHAT_BASE_URL: 'api.mch.weixin.qq.com' }, 'WXPAY_WECHAT_BASE_URL'],
    [{ WXPAY_SANDBOX_URL: 'localhost:8443' }, 'WXPAY_SANDBOX_URL'],
    [{ WXPAY_SANDBOX_URL: 'https://api.mch.weixin.qq.com' }, 'WXPAY_SANDBOX_URL'],
    [{ WXPAY_INTENT_TTL_SECONDS: '0' }, 'WXPAY_INTENT_TTL_SECONDS'],
    [{ WXPAY_INTENT_TTL_SECONDS: '2h' }, 'WXPAY_INTENT_TTL_SECONDS'],
    [{ WXPAY_COMPAT_LIVEMODE: 'maybe' }, 'WXPAY_COMPAT_LIVEMODE'],
  ];
  for (const [env, setting] of cases) {
    test(`${JSON.stringify(env)} → ${setting}`, () =>
      assertNames(refusal(env), setting, JSON.stringify(env)));
  }
});

const dir = mkdtempSync(join(tmpdir(), 'wxpay-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A WXPAY_CONFIG file holding `content` (text as it is, anything else as JSON). */
const fileWith = (content: unknown): string => {
  const path = join(dir, `config-${n++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

describe('configuration errors name the key of the WXPAY_CONFIG file', () => {
  const merchant = { appid: 'wx2421b1c4370ec43b', mchId: '1900000109', key: KEY };

  const cases: [Record<string, unknown>, string][] = [
    [{ databaseUrl: 'mysql://u@h/db' }, 'databaseUrl'],
    [{ publicUrl: 'example.com' }, 'publicUrl'],
    [{ wechatBaseUrl: 'api.mch.weixin.qq.com' }, 'wechatBaseUrl'],
    [{ sandboxUrl: 'localhost:8443' }, 'sandboxUrl'],
    [{ sandboxUrl: 'https://api.mch.weixin.qq.com' }, 'sandboxUrl'],
    [{ sandboxUrl: 'https://127.0.0.1:8443', sandboxCa: '/nonexistent/ca.pem' }, 'sandboxCa'],
    [{ intentTtlSeconds: 0 }, 'intentTtlSeconds'],
    [{ intentTtlSeconds: '2h' }, 'intentTtlSeconds'],
    [{ compatLivemode: 'maybe' }, 'compatLivemode'],
    [{ ...merchant, appid: '' }, 'appid'],
    [{ ...merchant, mchId: 'abc' }, 'mchId'],
    [{ ...merchant, key: 'short' }, 'key'],
    [{ ...merchant, signType: 'SHA1' }, 'signType'],
    [{ ...merchant, certP12: '/nonexistent/apiclient_cert.p12' }, 'certP12'],
  ];
  for (const [file, setting] of cases) {
    test(`${JSON.stringify(file)} → ${setting}`, () =>
      assertNames(refusal({ WXPAY_CONFIG: fileWith(file) }), setting, JSON.stringify(file)));
  }

  test('a value from the environment overrides the file, and is the one named', () => {
    const path = fileWith({ databaseUrl: 'sqlite:/tmp/ok.sqlite', intentTtlSeconds: 0 });
    assertNames(
      refusal({ WXPAY_CONFIG: path, DATABASE_URL: 'mysql://u@h/db' }),
      'DATABASE_URL',
      'env over file',
    );
    assertNames(refusal({ WXPAY_CONFIG: path }), 'intentTtlSeconds', 'file alone');
    assert.equal(loadConfig({ WXPAY_CONFIG: path, WXPAY_INTENT_TTL_SECONDS: '60' }).intentTtlSeconds, 60);
  });

  test('a file that is not a JSON object names WXPAY_CONFIG', () => {
    for (const content of ['null', '[]', '"sqlite:x"', '{"databaseUrl":']) {
      assertNames(refusal({ WXPAY_CONFIG: fileWith(content) }), 'WXPAY_CONFIG', content);
    }
  });
});

describe('configuration errors never repeat a secret', () => {
  test('a URL with a password is shown masked', () => {
    const error = refusal({ WXPAY_WECHAT_BASE_URL: 'ftp://user:hunter2@proxy.example' });
    assertNames(error, 'WXPAY_WECHAT_BASE_URL', 'masked');
    assert.doesNotMatch(error.message, /hunter2/);
    assert.match(error.message, /user:\*\*\*@proxy\.example/);
  });

  test('a malformed config file is refused without quoting its text, which may hold the merchant key', () => {
    const error = refusal({ WXPAY_CONFIG: fileWith(`{"key": "${KEY}" "mchId": "1900000109"}`) });
    assertNames(error, 'WXPAY_CONFIG', 'malformed');
    assert.match(error.message, /is not valid JSON/);
    assert.doesNotMatch(error.message, new RegExp(KEY.slice(0, 8)));
    assert.equal(error.cause, undefined, 'no cause whose message quotes the file');
  });
});

describe('options given to buildGateway are named as written', () => {
  test('testWechat.baseUrl, liveWechat.baseUrl and databaseUrl', () => {
    const cases: [Parameters<typeof resolveConfig>[0], string][] = [
      [{ databaseUrl: 'mysql://x' }, 'databaseUrl'],
      [{ testWechat: { baseUrl: 'localhost:8443' } }, 'testWechat.baseUrl'],
      [{ testWechat: { baseUrl: 'https://api.mch.weixin.qq.com' } }, 'testWechat.baseUrl'],
      [{ liveWechat: { baseUrl: 'nope' } }, 'liveWechat.baseUrl'],
      [{ intentTtlSeconds: 0 }, 'intentTtlSeconds'],
    ];
    for (const [input, setting] of cases) {
      assert.throws(
        () => resolveConfig(input),
        (e: ConfigurationError) => {
          assertNames(e, setting, JSON.stringify(input));
          return true;
        },
      );
    }
  });
});
