// WechatPayApi: the documented interface of the `wechat-pay-api` package (options, method names,
// Node callbacks or Promises, result objects in WeChat's field names), built on WechatPay.
import type { ClientCert } from './certificate.js';
import { WechatPay } from './client.js';
import { BusinessError, ConfigError, RequestValidationError, type WechatPayErrorDetails } from './errors.js';
import type {
  GetRedpackInfoReply,
  GetTransferInfoReply,
  QueryCouponStockReply,
  QueryCouponsInfoReply,
  SendCouponReply,
  SendRedpackReply,
  TransferReply,
} from './payout-types.js';

export interface WechatPayApiOptions {
  /** Official Account appId (公众号 appId). */
  wxappid: string;
  mch_id: string;
  /** The 32-character APIv2 key. */
  key: string;
  /** apiclient_cert.p12 as a Buffer; required unless cert and private_key are given. */
  pfx?: Buffer;
  /** The public IP of the server calling WeChat. */
  client_ip: string;
  /** The p12 passphrase; defaults to mch_id. */
  passphrase?: string;
  /** apiclient_key.pem. */
  private_key?: string | Buffer;
  /** apiclient_cert.pem. */
  cert?: string | Buffer;
  /** Extension: another base URL, such as the wxpay sandbox's. */
  baseUrl?: string;
  /** Extension: extra trusted CA certificates, such as the sandbox's caCert. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Extension: per-attempt timeout in ms (default 10 000). */
  timeoutMs?: number;
}

export type Callback<T> = (err: Error | null, result?: T) => void;
type Num = number | string;

export interface PayToUserOptions {
  openid: string;
  /** Fen. */
  amount: Num;
  desc: string;
  /** Default NO_CHECK. */
  check_name?: 'NO_CHECK' | 'FORCE_CHECK';
  device_info?: string;
  /** Required when check_name is FORCE_CHECK. */
  re_user_name?: string;
  /** Extension: pass the number of an earlier attempt to retry it safely; generated when absent. */
  partner_trade_no?: string;
}

export interface GetTransferInfoOptions {
  partner_trade_no: string;
}

export interface SendRedpackOptions {
  send_name: string;
  re_openid: string;
  /** Fen. */
  total_amount: Num;
  /** 1. */
  total_num: Num;
  wishing: string;
  act_name: string;
  remark: string;
  /** Required over 200 yuan. */
  scene_id?: string;
  risk_info?: string;
  consume_mch_id?: string;
  /** Extension: pass the number of an earlier attempt to retry it safely; generated when absent. */
  mch_billno?: string;
}

export interface SendGroupRedpackOptions extends SendRedpackOptions {
  /** Default ALL_RAND. */
  amt_type?: 'ALL_RAND';
}

export interface GetRedpackInfoOptions {
  mch_billno: string;
}

export interface SendCouponOptions {
  coupon_stock_id: string;
  openid: string;
  /** Default mch_id. */
  op_user_id?: string;
  device_info?: string;
  /** Extension: pass the number of an earlier attempt to retry it safely; generated when absent. */
  partner_trade_no?: string;
}

export interface QueryCouponStockOptions {
  coupon_stock_id: string;
  op_user_id?: string;
  device_info?: string;
}

export interface QueryCouponsInfoOptions {
  coupon_id: string;
  openid: string;
  stock_id: string;
  op_user_id?: string;
  device_info?: string;
}

/**
 * A result_code FAIL, as wechat-pay-api callers read it: err_code, err_code_des and the whole
 * result, besides BusinessError's errCode, errCodeDes, retryable and reply.
 */
export class WechatPayApiError extends BusinessError {
  readonly err_code: string;
  readonly err_code_des: string;
  readonly result: Record<string, unknown>;
  constructor(
    errCode: string,
    errCodeDes: string,
    result: Record<string, unknown>,
    details: WechatPayErrorDetails,
  ) {
    super(errCode, errCodeDes, details);
    this.err_code = errCode;
    this.err_code_des = errCodeDes;
    this.result = result;
  }
}

function requiredOption(
  options: WechatPayApiOptions,
  name: 'wxappid' | 'mch_id' | 'key' | 'client_ip',
): string {
  const value = options[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(name, `new WechatPayApi(): options.${name} is required`);
  }
  return value;
}

function clientCertOf(options: WechatPayApiOptions, mchId: string): ClientCert {
  if (options.pfx !== undefined && options.pfx !== null && (options.pfx as unknown) !== '') {
    return { pfx: options.pfx, passphrase: options.passphrase || mchId };
  }
  if (options.cert && options.private_key) return { cert: options.cert, key: options.private_key };
  throw new ConfigError(
    'pfx',
    'new WechatPayApi(): options.pfx is required (apiclient_cert.p12 read as a Buffer), ' +
      'unless options.cert and options.private_key (PEM) are given',
  );
}

/** The `wechat-pay-api` client: payouts, red packets and coupons with callbacks or Promises. */
export class WechatPayApi {
  /** The typed client underneath, for everything beyond the wechat-pay-api methods. */
  readonly client: WechatPay;
  readonly #clientIp: string;

  constructor(options: WechatPayApiOptions) {
    if (options === null || typeof options !== 'object') {
      throw new ConfigError('options', 'new WechatPayApi(options): options must be an object');
    }
    const wxappid = requiredOption(options, 'wxappid');
    const mchId = requiredOption(options, 'mch_id');
    const key = requiredOption(options, 'key');
    this.#clientIp = requiredOption(options, 'client_ip');
    this.client = new WechatPay({
      appid: wxappid,
      mchId,
      key,
      clientCert: clientCertOf(options, mchId),
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** 企业付款 to the user's balance. */
  payToUser(options: PayToUserOptions): Promise<TransferReply>;
  payToUser(options: PayToUserOptions, callback: Callback<TransferReply>): void;
  payToUser(
    options: PayToUserOptions,
    callback?: Callback<TransferReply>,
  ): Promise<TransferReply> | undefined {
    return settle(callback, () =>
      this.client.transfer({
        ...pick(options, ['openid', 'amount', 'desc', 'device_info', 're_user_name', 'partner_trade_no']),
        check_name: options?.check_name ?? 'NO_CHECK',
        spbill_create_ip: this.#clientIp,
      }),
    );
  }

  /** 企业付款查询. */
  getTransferInfo(options: GetTransferInfoOptions): Promise<GetTransferInfoReply>;
  getTransferInfo(options: GetTransferInfoOptions, callback: Callback<GetTransferInfoReply>): void;
  getTransferInfo(
    options: GetTransferInfoOptions,
    callback?: Callback<GetTransferInfoReply>,
  ): Promise<GetTransferInfoReply> | undefined {
    return settle(callback, () => this.client.getTransferInfo(pick(options, ['partner_trade_no'])));
  }

  /** 发送普通红包. */
  sendRedpack(options: SendRedpackOptions): Promise<SendRedpackReply>;
  sendRedpack(options: SendRedpackOptions, callback: Callback<SendRedpackReply>): void;
  sendRedpack(
    options: SendRedpackOptions,
    callback?: Callback<SendRedpackReply>,
  ): Promise<SendRedpackReply> | undefined {
    return settle(callback, () =>
      this.client.sendRedpack({ ...pick(options, REDPACK_OPTIONS), client_ip: this.#clientIp }),
    );
  }

  /** 发送裂变红包. */
  sendGroupRedpack(options: SendGroupRedpackOptions): Promise<SendRedpackReply>;
  sendGroupRedpack(options: SendGroupRedpackOptions, callback: Callback<SendRedpackReply>): void;
  sendGroupRedpack(
    options: SendGroupRedpackOptions,
    callback?: Callback<SendRedpackReply>,
  ): Promise<SendRedpackReply> | undefined {
    return settle(callback, () =>
      this.client.sendGroupRedpack({
        amt_type: 'ALL_RAND',
        ...pick(options, [...REDPACK_OPTIONS, 'amt_type']),
      }),
    );
  }

  /** 查询红包. */
  getRedpackInfo(options: GetRedpackInfoOptions): Promise<GetRedpackInfoReply>;
  getRedpackInfo(options: GetRedpackInfoOptions, callback: Callback<GetRedpackInfoReply>): void;
  getRedpackInfo(
    options: GetRedpackInfoOptions,
    callback?: Callback<GetRedpackInfoReply>,
  ): Promise<GetRedpackInfoReply> | undefined {
    return settle(callback, () => this.client.getRedpackInfo(pick(options, ['mch_billno'])));
  }

  /** 发放代金券. */
  sendCoupon(options: SendCouponOptions): Promise<SendCouponReply>;
  sendCoupon(options: SendCouponOptions, callback: Callback<SendCouponReply>): void;
  sendCoupon(
    options: SendCouponOptions,
    callback?: Callback<SendCouponReply>,
  ): Promise<SendCouponReply> | undefined {
    return settle(callback, () =>
      this.client.sendCoupon(
        pick(options, ['coupon_stock_id', 'openid', 'op_user_id', 'device_info', 'partner_trade_no']),
      ),
    );
  }

  /** 查询代金券批次. */
  queryCouponStock(options: QueryCouponStockOptions): Promise<QueryCouponStockReply>;
  queryCouponStock(options: QueryCouponStockOptions, callback: Callback<QueryCouponStockReply>): void;
  queryCouponStock(
    options: QueryCouponStockOptions,
    callback?: Callback<QueryCouponStockReply>,
  ): Promise<QueryCouponStockReply> | undefined {
    return settle(callback, () =>
      this.client.queryCouponStock(pick(options, ['coupon_stock_id', 'op_user_id', 'device_info'])),
    );
  }

  /** 查询代金券信息. */
  queryCouponsInfo(options: QueryCouponsInfoOptions): Promise<QueryCouponsInfoReply>;
  queryCouponsInfo(options: QueryCouponsInfoOptions, callback: Callback<QueryCouponsInfoReply>): void;
  queryCouponsInfo(
    options: QueryCouponsInfoOptions,
    callback?: Callback<QueryCouponsInfoReply>,
  ): Promise<QueryCouponsInfoReply> | undefined {
    return settle(callback, () =>
      this.client.queryCouponsInfo(
        pick(options, ['coupon_id', 'openid', 'stock_id', 'op_user_id', 'device_info']),
      ),
    );
  }

  /** Closes the keep-alive connections. */
  close(): Promise<void> {
    return this.client.close();
  }
}

const REDPACK_OPTIONS = [
  'send_name',
  're_openid',
  'total_amount',
  'total_num',
  'wishing',
  'act_name',
  'remark',
  'scene_id',
  'risk_info',
  'consume_mch_id',
  'mch_billno',
] as const;

/** Only the documented options reach the wire: wechat-pay-api never sent unknown fields. */
function pick<T extends object>(options: T, names: readonly string[]): T {
  if (options === null || typeof options !== 'object') {
    throw new RequestValidationError('options', 'options must be an object');
  }
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && value !== null && value !== '') out[name] = value;
  }
  // Required fields are checked by the typed client, which names the missing one.
  return out as T;
}

/**
 * Runs a call, turning every failure (a thrown validation error included) into a rejection, and
 * either returns the promise or hands the outcome to a Node callback. The callback runs outside the
 * promise chain, so an exception it throws is not swallowed as an unhandled rejection.
 */
function settle<T>(callback: Callback<T> | undefined, run: () => Promise<T>): Promise<T> | undefined {
  const promise = Promise.resolve()
    .then(run)
    .catch((error: unknown) => {
      throw compatibleError(error);
    });
  if (typeof callback !== 'function') return promise;
  promise.then(
    (result) => process.nextTick(callback, null, result),
    (error: Error) => process.nextTick(callback, error),
  );
  return undefined;
}

function compatibleError(error: unknown): unknown {
  if (!(error instanceof BusinessError) || error instanceof WechatPayApiError) return error;
  const result: Record<string, unknown> = { ...(error.reply ?? {}) };
  return new WechatPayApiError(error.errCode, error.errCodeDes, result, {
    endpoint: error.endpoint,
    rawBody: error.rawBody,
    reply: error.reply,
    retryable: error.retryable,
    cause: error,
  });
}

export default WechatPayApi;
