// Typed gateway configuration (env and/or a JSON file), validated at start with errors that name the setting.
import { readFileSync } from 'node:fs';
import { loadClientCert, ConfigError as SdkConfigError, type SignType } from '@wxpay/sdk';
import { CURRENCIES, type Currency, DEFAULT_FX_USD_PER_UNIT } from './domain/money.js';

/** A setting is missing or wrong; `setting` names it as the user spells it (env var or file key). */
export class ConfigurationError extends Error {
  readonly setting: string;
  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super(`${setting}: ${message}`, options);
    this.name = 'ConfigurationError';
    this.setting = setting;
  }
}

/** Where test-mode (sandbox) and live-mode calls to WeChat go. */
export interface WechatEndpoint {
  baseUrl: string;
  /** Extra trusted CA, e.g. the sandbox's caCert. */
  ca?: string | Buffer;
}

/** The merchant of the default account, for `wxpay serve` and the compatibility routes. */
export interface MerchantConfig {
  appid: string;
  mchId: string;
  key: string;
  signType: SignType;
  /** The p12 bytes, already validated. */
  pfx?: Buffer;
  passphrase?: string;
}

export interface GatewayConfig {
  /** `sqlite:PATH` (default `sqlite:.wxpay/gateway.sqlite`) or `postgres://…`. */
  databaseUrl: string;
  /** The gateway's public base URL, used for notify_url and QR-code links. Defaults to the listening address. */
  publicUrl: string | undefined;
  /** How long an intent stays payable; sent to WeChat as time_expire. */
  intentTtlSeconds: number;
  /** US dollars per one major unit of each currency, as decimal text (exact arithmetic). */
  fxUsdPerUnit: Record<Currency, string>;
  /** The largest amount accepted, in US dollars (WeChat's cap is 50,000 USD). */
  maxAmountUsd: number;
  /**
   * Test mode talks to the sandbox. Unset, test-mode calls to WeChat are refused: a test key must
   * never reach the real WeChat, where money is real.
   */
  testWechat: WechatEndpoint | undefined;
  /** Live mode talks to WeChat. */
  liveWechat: WechatEndpoint;
  /** Seconds after the order was placed at which to orderquery when no notify came; then every `followUpEverySeconds`. */
  followUpScheduleSeconds: number[];
  followUpEverySeconds: number;
  /** WeChat refuses closeorder sooner than this after the order was placed. */
  closeDelaySeconds: number;
  /** Timeout of each call to WeChat. */
  wechatTimeoutMs: number;
  merchant: MerchantConfig | undefined;
  /** The account id the BaaS-style `/baas/redpacks` routes pay from (WXPAY_BAAS_ACCOUNT); unset: the key's own. */
  baasAccount?: string | undefined;
  /**
   * The account the Thinkjs-compatible `/wxPay/*` routes act for (WXPAY_COMPAT_ACCOUNT). Unset: the only
   * account, or the one named `dev`.
   */
  compatAccount: string | undefined;
  /** Whether the compatible routes place live orders (WXPAY_COMPAT_LIVEMODE=true); default test mode. */
  compatLivemode: boolean;
  /** How long a micropay whose outcome is unknown (USERPAYING, timeout) is polled before it is reversed. */
  micropayDeadlineSeconds: number;
  /** How often such a micropay is polled, and how soon a reverse answered recall=Y is sent again. */
  micropayPollSeconds: number;
}

export type GatewayConfigInput = Partial<Omit<GatewayConfig, 'merchant'>> & { merchant?: MerchantConfig };

/**
 * A URL as a message may show it: the password (`user:PASSWORD@host`, `?password=`) becomes `***`. It works on
 * the text, not a parse, so that a URL too broken to parse (the one an error reports) is masked too; when in
 * doubt it masks more (everything up to the last `@`).
 */
export function maskUrlPassword(url: string): string {
  return url
    .replace(/^((?:[a-z][\w+.-]*:\/\/|(?![a-z][\w+.-]*:\/\/))[^:@]*:).*@/is, '$1***@')
    .replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}

/** The refusal of a database URL wxpay cannot use, naming `setting`; the URL is shown without its password. */
export function unsupportedDatabaseUrl(setting: string, url: string): ConfigurationError {
  const shown = JSON.stringify(maskUrlPassword(url));
  return new ConfigurationError(
    setting,
    /^(mysql|mariadb)\w*:/i.test(url)
      ? `MySQL is not supported yet; use sqlite:PATH or postgres://…, got ${shown}`
      : `must be sqlite:PATH or postgres://…, got ${shown}`,
  );
}

/** WeChat Pay's own hosts; test mode may never point at them. */
const WECHAT_HOSTS = new Set([
  'api.mch.weixin.qq.com',
  'api2.mch.weixin.qq.com',
  'apihk.mch.weixin.qq.com',
  'apius.mch.weixin.qq.com',
  'fraud.mch.weixin.qq.com',
]);

const DEFAULTS = {
  databaseUrl: 'sqlite:.wxpay/gateway.sqlite',
  intentTtlSeconds: 2 * 60 * 60,
  maxAmountUsd: 50_000,
  followUpScheduleSeconds: [60, 120, 300, 600],
  followUpEverySeconds: 30 * 60,
  closeDelaySeconds: 5 * 60,
  wechatTimeoutMs: 10_000,
  micropayDeadlineSeconds: 30,
  micropayPollSeconds: 5,
  liveBaseUrl: 'https://api.mch.weixin.qq.com',
};

/** The options resolveConfig checks whose name, in an error, depends on where the value was written. */
type NamedOption =
  | 'databaseUrl'
  | 'publicUrl'
  | 'intentTtlSeconds'
  | 'testWechat.baseUrl'
  | 'liveWechat.baseUrl';

/** Fills defaults and validates programmatic options (buildGateway); errors name the options as written there. */
export function resolveConfig(input: GatewayConfigInput = {}): GatewayConfig {
  return checkConfig(input, (option) => option);
}

/** Fills defaults and validates; `nameOf` spells an option as the user wrote it (env var, file key or option). */
function checkConfig(input: GatewayConfigInput, nameOf: (option: NamedOption) => string): GatewayConfig {
  const config: GatewayConfig = {
    databaseUrl: input.databaseUrl ?? DEFAULTS.databaseUrl,
    publicUrl: input.publicUrl,
    intentTtlSeconds: input.intentTtlSeconds ?? DEFAULTS.intentTtlSeconds,
    fxUsdPerUnit: { ...DEFAULT_FX_USD_PER_UNIT, ...input.fxUsdPerUnit },
    maxAmountUsd: input.maxAmountUsd ?? DEFAULTS.maxAmountUsd,
    testWechat: input.testWechat,
    liveWechat: input.liveWechat ?? { baseUrl: DEFAULTS.liveBaseUrl },
    followUpScheduleSeconds: input.followUpScheduleSeconds ?? DEFAULTS.followUpScheduleSeconds,
    followUpEverySeconds: input.followUpEverySeconds ?? DEFAULTS.followUpEverySeconds,
    closeDelaySeconds: input.closeDelaySeconds ?? DEFAULTS.closeDelaySeconds,
    wechatTimeoutMs: input.wechatTimeoutMs ?? DEFAULTS.wechatTimeoutMs,
    merchant: input.merchant,
    baasAccount: input.baasAccount,
    compatAccount: input.compatAccount,
    compatLivemode: input.compatLivemode ?? false,
    micropayDeadlineSeconds: input.micropayDeadlineSeconds ?? DEFAULTS.micropayDeadlineSeconds,
    micropayPollSeconds: input.micropayPollSeconds ?? DEFAULTS.micropayPollSeconds,
  };
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(config.databaseUrl)) {
    throw unsupportedDatabaseUrl(nameOf('databaseUrl'), config.databaseUrl);
  }
  if (config.publicUrl !== undefined) checkUrl(nameOf('publicUrl'), config.publicUrl);
  if (config.testWechat) {
    checkUrl(nameOf('testWechat.baseUrl'), config.testWechat.baseUrl);
    const host = new URL(config.testWechat.baseUrl).hostname.toLowerCase();
    if (WECHAT_HOSTS.has(host)) {
      throw new ConfigurationError(
        nameOf('testWechat.baseUrl'),
        `points test mode at WeChat itself (${host}), where money is real: use the wxpay sandbox's url`,
      );
    }
  }
  checkUrl(nameOf('liveWechat.baseUrl'), config.liveWechat.baseUrl);
  positive(nameOf('intentTtlSeconds'), config.intentTtlSeconds);
  positive('maxAmountUsd', config.maxAmountUsd);
  positive('followUpEverySeconds', config.followUpEverySeconds);
  positive('wechatTimeoutMs', config.wechatTimeoutMs);
  positive('micropayDeadlineSeconds', config.micropayDeadlineSeconds);
  positive('micropayPollSeconds', config.micropayPollSeconds);
  if (!Number.isInteger(config.closeDelaySeconds) || config.closeDelaySeconds < 0) {
    throw new ConfigurationError('closeDelaySeconds', 'must be a whole number of seconds ≥ 0');
  }
  if (
    !Array.isArray(config.followUpScheduleSeconds) ||
    config.followUpScheduleSeconds.some((s) => !(s > 0))
  ) {
    throw new ConfigurationError('followUpScheduleSeconds', 'must be a list of positive numbers of seconds');
  }
  for (const [currency, rate] of Object.entries(config.fxUsdPerUnit)) {
    if (!(CURRENCIES as readonly string[]).includes(currency)) {
      throw new ConfigurationError(
        `fxUsdPerUnit.${currency}`,
        `unsupported currency; use one of ${CURRENCIES.join(', ')}`,
      );
    }
    if (typeof rate !== 'string' || !/^\d+(\.\d{1,12})?$/.test(rate) || /^0+(\.0+)?$/.test(rate)) {
      throw new ConfigurationError(
        `fxUsdPerUnit.${currency}`,
        `must be a positive decimal string such as "0.14", got ${JSON.stringify(rate)}`,
      );
    }
  }
  return config;
}

/**
 * Reads the configuration of `wxpay serve`: a JSON file named by WXPAY_CONFIG (optional), overridden by env.
 * Env: DATABASE_URL, WXPAY_PUBLIC_URL, WXPAY_INTENT_TTL_SECONDS, WXPAY_WECHAT_BASE_URL, WXPAY_SANDBOX_URL,
 * WXPAY_APPID, WXPAY_MCH_ID, WXPAY_MCH_KEY, WXPAY_SIGN_TYPE, WXPAY_CERT_P12, WXPAY_CERT_PASSPHRASE,
 * WXPAY_COMPAT_ACCOUNT, WXPAY_COMPAT_LIVEMODE.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let file: Record<string, unknown> = {};
  if (env.WXPAY_CONFIG) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(env.WXPAY_CONFIG, 'utf8'));
    } catch (error) {
      // A JSON syntax error's message quotes the text around the fault, which may be the merchant key.
      const why =
        error instanceof SyntaxError
          ? 'it is not valid JSON'
          : `it cannot be read (${(error as Error).message})`;
      throw new ConfigurationError('WXPAY_CONFIG', `the file ${env.WXPAY_CONFIG} is unusable: ${why}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigurationError(
        'WXPAY_CONFIG',
        `the file ${env.WXPAY_CONFIG} must hold a JSON object of settings, such as {"databaseUrl": "sqlite:gateway.sqlite"}`,
      );
    }
    file = parsed as Record<string, unknown>;
  }
  const fromEnv = (envName: string) => env[envName] !== undefined && env[envName] !== '';
  const pick: ReadSetting = (envName, fileKey) => {
    if (fromEnv(envName)) return env[envName];
    const fromFile = file[fileKey];
    return fromFile === undefined || fromFile === null ? undefined : String(fromFile);
  };
  // The env var when it is set, else the file key when the file has it; a setting given nowhere is named by
  // its env var.
  const nameOf: NameSetting = (envName, fileKey) =>
    !fromEnv(envName) && file[fileKey] !== undefined && file[fileKey] !== null ? fileKey : envName;
  const setting = (option: NamedOption): string => {
    const [envName, fileKey] = LOADED_OPTIONS[option];
    return nameOf(envName, fileKey);
  };
  const read = (option: NamedOption) => pick(...LOADED_OPTIONS[option]);

  const ttl = read('intentTtlSeconds');
  if (ttl !== undefined && !/^\d+$/.test(ttl)) {
    throw new ConfigurationError(
      setting('intentTtlSeconds'),
      `must be a whole number of seconds, got ${JSON.stringify(ttl)}`,
    );
  }
  const input: GatewayConfigInput = {
    databaseUrl: read('databaseUrl'),
    publicUrl: read('publicUrl'),
    intentTtlSeconds: ttl === undefined ? undefined : Number(ttl),
    liveWechat: { baseUrl: read('liveWechat.baseUrl') ?? DEFAULTS.liveBaseUrl },
    testWechat: sandboxEndpoint(pick, nameOf),
    merchant: loadMerchant(pick, nameOf),
    baasAccount: pick('WXPAY_BAAS_ACCOUNT', 'baasAccount'),
    compatAccount: pick('WXPAY_COMPAT_ACCOUNT', 'compatAccount'),
    compatLivemode: parseFlag(
      nameOf('WXPAY_COMPAT_LIVEMODE', 'compatLivemode'),
      pick('WXPAY_COMPAT_LIVEMODE', 'compatLivemode'),
    ),
  };
  for (const key of Object.keys(input) as (keyof GatewayConfigInput)[])
    if (input[key] === undefined) delete input[key];
  return checkConfig(input, setting);
}

/** A setting's value: the env var when set, else the file key. */
type ReadSetting = (envName: string, fileKey: string) => string | undefined;
/** A setting's name as the user wrote it: the env var when set, else the file key when the file has it. */
type NameSetting = (envName: string, fileKey: string) => string;

/** The env var and file key of each option that resolveConfig checks. */
const LOADED_OPTIONS: Record<NamedOption, [envName: string, fileKey: string]> = {
  databaseUrl: ['DATABASE_URL', 'databaseUrl'],
  publicUrl: ['WXPAY_PUBLIC_URL', 'publicUrl'],
  intentTtlSeconds: ['WXPAY_INTENT_TTL_SECONDS', 'intentTtlSeconds'],
  'liveWechat.baseUrl': ['WXPAY_WECHAT_BASE_URL', 'wechatBaseUrl'],
  'testWechat.baseUrl': ['WXPAY_SANDBOX_URL', 'sandboxUrl'],
};

function loadMerchant(pick: ReadSetting, nameOf: NameSetting): MerchantConfig | undefined {
  const appid = pick('WXPAY_APPID', 'appid');
  const mchId = pick('WXPAY_MCH_ID', 'mchId');
  const key = pick('WXPAY_MCH_KEY', 'key');
  if (appid === undefined && mchId === undefined && key === undefined) return undefined;
  if (!appid)
    throw new ConfigurationError(nameOf('WXPAY_APPID', 'appid'), 'is required when a merchant is configured');
  if (!mchId || !/^\d{6,32}$/.test(mchId))
    throw new ConfigurationError(nameOf('WXPAY_MCH_ID', 'mchId'), 'must be the merchant number (digits)');
  const keySetting = nameOf('WXPAY_MCH_KEY', 'key');
  if (!key) throw new ConfigurationError(keySetting, 'is required: the 32-character APIv2 key (API密钥)');
  if (key.length !== 32) {
    throw new ConfigurationError(
      keySetting,
      `must be the 32-character APIv2 key, got ${key.length} characters`,
    );
  }
  const signType = (pick('WXPAY_SIGN_TYPE', 'signType') ?? 'MD5') as SignType;
  if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
    throw new ConfigurationError(
      nameOf('WXPAY_SIGN_TYPE', 'signType'),
      `must be MD5 or HMAC-SHA256, got ${JSON.stringify(signType)}`,
    );
  }
  const merchant: MerchantConfig = { appid, mchId, key, signType };
  const p12Path = pick('WXPAY_CERT_P12', 'certP12');
  if (p12Path !== undefined) {
    const p12Setting = nameOf('WXPAY_CERT_P12', 'certP12');
    let pfx: Buffer;
    try {
      pfx = readFileSync(p12Path);
    } catch (error) {
      throw new ConfigurationError(p12Setting, `cannot read ${p12Path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const passphrase = pick('WXPAY_CERT_PASSPHRASE', 'certPassphrase') ?? mchId;
    try {
      loadClientCert({ pfx, passphrase }, mchId);
    } catch (error) {
      const detail =
        error instanceof SdkConfigError || error instanceof Error ? error.message : String(error);
      throw new ConfigurationError(p12Setting, `unreadable p12 ${p12Path}: ${detail}`, {
        cause: error,
      });
    }
    merchant.pfx = pfx;
    merchant.passphrase = passphrase;
  }
  return merchant;
}

function parseFlag(setting: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new ConfigurationError(setting, `must be true or false, got ${JSON.stringify(value)}`);
}

function checkUrl(setting: string, value: string): void {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch (error) {
    throw new ConfigurationError(
      setting,
      `must be an http(s) URL, got ${JSON.stringify(maskUrlPassword(value))}`,
      {
        cause: error,
      },
    );
  }
}

function positive(setting: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(setting, `must be a positive number, got ${JSON.stringify(value)}`);
  }
}

/** The sandbox for test mode: its url, and the path of its CA certificate (ca.pem in its data dir). */
function sandboxEndpoint(pick: ReadSetting, nameOf: NameSetting): WechatEndpoint | undefined {
  const url = pick('WXPAY_SANDBOX_URL', 'sandboxUrl');
  const caPath = pick('WXPAY_SANDBOX_CA', 'sandboxCa');
  const caSetting = nameOf('WXPAY_SANDBOX_CA', 'sandboxCa');
  if (url === undefined) {
    if (caPath !== undefined)
      throw new ConfigurationError(
        nameOf('WXPAY_SANDBOX_URL', 'sandboxUrl'),
        `is required with ${caSetting}`,
      );
    return undefined;
  }
  if (caPath === undefined) return { baseUrl: url };
  try {
    return { baseUrl: url, ca: readFileSync(caPath) };
  } catch (error) {
    throw new ConfigurationError(caSetting, `cannot read ${caPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
