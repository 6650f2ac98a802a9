// The WechatPay client: one signed call path (prepare → sign → send → parse → verify → check) that
// every endpoint of the table goes through.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Bill, type FundFlowBill, type TradeBill } from './bill.js';
import { type ClientCert, type ClientCertTls, loadClientCert } from './certificate.js';
import {
  AUTO_RETRY_CODES,
  ENDPOINTS,
  type EndpointName,
  type EndpointSpec,
  RATE_LIMITED_CODES,
  UNKNOWN_OUTCOME_CODES,
} from './endpoints.js';
import {
  BusinessError,
  CertificateError,
  ConfigError,
  ProtocolError,
  RequestValidationError,
  SignatureError,
  TransportError,
  WechatPayError,
  XmlError,
} from './errors.js';
import { nonce } from './nonce.js';
import { notifyReply, parsePaymentNotify, parseRefundNotify } from './notify.js';
import * as payouts from './payouts.js';
import { keepRawReply } from './raw-reply.js';
import { type Fields, type SignType, sign, signingString, verifySign } from './sign.js';
import { readText, Transport } from './transport.js';
import type {
  AppParams,
  CloseOrderReply,
  CloseOrderRequest,
  CommonReply,
  DownloadBillRequest,
  DownloadFundFlowRequest,
  GetSignKeyReply,
  JsapiParams,
  MicropayReply,
  MicropayRequest,
  OrderQueryReply,
  OrderQueryRequest,
  PaymentNotify,
  RefundNotify,
  RefundQueryReply,
  RefundQueryRequest,
  RefundReply,
  RefundRequest,
  ReverseReply,
  ReverseRequest,
  UnifiedOrderReply,
  UnifiedOrderRequest,
} from './types.js';
import { buildXml, parseXml } from './xml.js';

export const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';
export const DEFAULT_RISK_BASE_URL = 'https://fraud.mch.weixin.qq.com';

export interface WechatPayOptions {
  /** The appid (公众号, 小程序 or 移动应用) the merchant is bound to. */
  appid: string;
  /** The merchant number (商户号). */
  mchId: string;
  /** The 32-character APIv2 key (API密钥) — not the AppSecret, not the APIv3 key. */
  key: string;
  /** Default MD5. */
  signType?: SignType;
  /** The merchant's client certificate; needed for refunds, reverse, fund-flow bills and payouts. */
  clientCert?: ClientCert;
  /** Default https://api.mch.weixin.qq.com; the wxpay sandbox's url in tests. */
  baseUrl?: string;
  /** Host of getpublickey. Defaults to fraud.mch.weixin.qq.com, or to baseUrl when baseUrl is set. */
  riskBaseUrl?: string;
  /** Extra trusted CA certificates, such as the sandbox's caCert. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Per-attempt timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Default notify_url for unifiedOrder and refund. */
  notifyUrl?: string;
  /**
   * How many times to resend the identical request after a timeout, a network failure or
   * SYSTEMERROR, on endpoints where WeChat says that is safe. Default 1; 0 turns it off.
   */
  retries?: number;
  /** Pause before the first resend, doubled each time. Default 200 ms. */
  retryDelayMs?: number;
}

const MAX_XML_REPLY_BYTES = 1024 * 1024;

function requireText(options: WechatPayOptions, name: 'appid' | 'mchId' | 'key'): string {
  const value = options?.[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(name, `options.${name} is required (a non-empty string)`);
  }
  return value;
}

/** A typed client for the WeChat Pay v2 merchant API. */
export class WechatPay {
  readonly appid: string;
  readonly mchId: string;
  readonly signType: SignType;
  readonly baseUrl: string;
  readonly riskBaseUrl: string;
  readonly notifyUrl: string | undefined;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly hasClientCert: boolean;
  readonly #key: string;
  readonly #transport: Transport;

  constructor(options: WechatPayOptions) {
    this.appid = requireText(options, 'appid');
    this.mchId = requireText(options, 'mchId');
    this.#key = requireText(options, 'key');
    if (!/^\d{6,32}$/.test(this.mchId)) {
      throw new ConfigError(
        'mchId',
        `options.mchId must be the merchant number (digits), got ${JSON.stringify(this.mchId)}`,
      );
    }
    if (this.#key.length !== 32) {
      throw new ConfigError(
        'key',
        `options.key must be the 32-character APIv2 key (API密钥), got ${this.#key.length} characters. ` +
          'It is set in the merchant platform under API安全; it is not the AppSecret nor the APIv3 key.',
      );
    }
    const signType = options.signType ?? 'MD5';
    if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
      throw new ConfigError(
        'signType',
        `options.signType must be 'MD5' or 'HMAC-SHA256', got ${JSON.stringify(signType)}`,
      );
    }
    this.signType = signType;
    this.baseUrl = parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL, 'baseUrl');
    this.riskBaseUrl = parseBaseUrl(
      options.riskBaseUrl ?? (options.baseUrl ? this.baseUrl : DEFAULT_RISK_BASE_URL),
      'riskBaseUrl',
    );
    this.notifyUrl = options.notifyUrl;
    this.timeoutMs = positiveInteger(options.timeoutMs ?? 10_000, 'timeoutMs');
    this.retries = nonNegativeInteger(options.retries ?? 1, 'retries');
    this.retryDelayMs = nonNegativeInteger(options.retryDelayMs ?? 200, 'retryDelayMs');
    let tls: ClientCertTls | undefined;
    if (options.clientCert !== undefined) tls = loadClientCert(options.clientCert, this.mchId);
    this.hasClientCert = tls !== undefined;
    this.#transport = new Transport({ clientCert: tls, ca: options.ca, timeoutMs: this.timeoutMs });
  }

  /** Closes the keep-alive connections. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  // ---- the generic call path -------------------------------------------------------------------

  /** Fills in ids, nonce and sign type, then signs. Returns the exact fields that will be sent. */
  prepare(name: EndpointName, params: Readonly<Fields>): Record<string, string> {
    const spec: EndpointSpec = ENDPOINTS[name];
    const fields: Record<string, string> = {};
    for (const [field, value] of Object.entries(params ?? {})) {
      if (value === undefined || value === null) continue;
      if (typeof value === 'object') {
        throw new RequestValidationError(
          field,
          `${field} must be a string or number, got an object`,
          spec.path,
        );
      }
      fields[field] = String(value);
    }
    for (const field of ['mch_id', 'mchid'] as const) {
      if (fields[field] !== undefined && fields[field] !== this.mchId) {
        throw new RequestValidationError(
          field,
          `${field} ${fields[field]} differs from the configured mchId ${this.mchId}; the request was not sent`,
          spec.path,
        );
      }
    }
    delete fields.mch_id;
    delete fields.mchid;
    fields[spec.mchIdField] = this.mchId;
    if (spec.appidField) fields[spec.appidField] ??= this.appid;
    if (spec.notifyUrl && fields.notify_url === undefined && this.notifyUrl)
      fields.notify_url = this.notifyUrl;
    fields.nonce_str ??= nonce();
    const signType = spec.signTypes === 'any' ? this.signType : spec.signTypes;
    if (spec.signTypeField) fields.sign_type = signType;
    else delete fields.sign_type;
    delete fields.sign;
    fields.sign = sign(fields, this.#key, signType);
    return fields;
  }

  /**
   * Calls an endpoint of the table and returns the reply's fields once every layer has passed:
   * return_code, the reply signature, the reply's merchant ids, result_code.
   */
  async call<R extends CommonReply = CommonReply>(name: EndpointName, params: Readonly<Fields>): Promise<R> {
    // gethbinfo's hblist is the one nested section in the v2 API; every other reply is flat.
    const split = name === 'getRedpackInfo' ? payouts.splitHbList : (text: string) => ({ flat: text });
    return this.#call(name, params, split) as unknown as Promise<R>;
  }

  /**
   * The call path, with a hook that takes apart a reply before the flat layers run. Only gethbinfo
   * needs it: its hblist is the one nested section in the v2 API.
   */
  async #call<Extra extends object>(
    name: EndpointName,
    params: Readonly<Fields>,
    split: (text: string) => { flat: string } & Extra,
  ): Promise<Record<string, string> & Omit<Extra, 'flat'>> {
    const spec: EndpointSpec = ENDPOINTS[name];
    if (spec.reply === 'csv')
      throw new TypeError(`${name} returns a bill: use downloadBill or downloadFundFlow`);
    const fields = this.prepare(name, params);
    const body = buildXml(fields);
    return this.#withRetries(spec, async () => {
      const reply = await this.#send(spec, body);
      const text = await readText(reply.body, MAX_XML_REPLY_BYTES, spec.path, this.timeoutMs);
      if (reply.status !== 200) throw httpStatusError(spec, reply.status, text);
      let parts: { flat: string } & Extra;
      try {
        parts = split(text);
      } catch (error) {
        if (!(error instanceof XmlError)) throw error;
        throw new XmlError(`reply from ${spec.path} is not WeChat XML: ${error.message}`, {
          endpoint: spec.path,
          rawBody: text,
          cause: error,
        });
      }
      const { flat, ...extra } = parts;
      return keepRawReply({ ...this.#check(spec, fields, flat, text), ...extra }, text);
    });
  }

  async #send(spec: EndpointSpec, body: string) {
    if (spec.cert && !this.hasClientCert) {
      throw new CertificateError(
        `${spec.path} needs the merchant client certificate: pass clientCert: { pfx: fs.readFileSync('apiclient_cert.p12') } ` +
          `or { cert, key } (apiclient_cert.pem, apiclient_key.pem) to new WechatPay()`,
        { endpoint: spec.path },
      );
    }
    const base = spec.host === 'fraud' ? this.riskBaseUrl : this.baseUrl;
    return this.#transport.post(base + spec.path, body, spec.path);
  }

  /**
   * Runs a try, and resends the identical request after a try whose outcome is unknown, on endpoints where that
   * is safe. An error after such a resend is marked with the earlier try (earlierAttemptUnknown): it proves
   * only that the last try did not take effect.
   */
  async #withRetries<T>(spec: EndpointSpec, attempt: () => Promise<T>): Promise<T> {
    let earlier: WechatPayError | undefined;
    for (let tried = 0; ; tried++) {
      try {
        return await attempt();
      } catch (error) {
        const failure = earlier && error instanceof WechatPayError ? afterUnknownTry(error, earlier) : error;
        const again =
          spec.retrySafe &&
          tried < this.retries &&
          ((error instanceof TransportError && error.retryable) ||
            (error instanceof BusinessError && AUTO_RETRY_CODES.has(error.errCode)));
        if (!again) throw failure;
        earlier = failure as WechatPayError;
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** tried));
      }
    }
  }

  /** The result layers, in WeChat's order. */
  #check(
    spec: EndpointSpec,
    sent: Record<string, string>,
    text: string,
    rawBody: string = text,
  ): Record<string, string> {
    let reply: Record<string, string>;
    try {
      reply = parseXml(text);
    } catch (error) {
      if (error instanceof XmlError) {
        throw new XmlError(`reply from ${spec.path} is not WeChat XML: ${error.message}`, {
          endpoint: spec.path,
          rawBody,
          cause: error,
        });
      }
      throw error;
    }
    const details = { endpoint: spec.path, rawBody, reply };
    if (reply.return_code !== 'SUCCESS') {
      const msg = reply.return_msg ?? '';
      throw new ProtocolError(
        `${spec.path}: return_code ${reply.return_code ?? '(none)'}: ${msg}${this.#hint(msg, sent)}`,
        msg,
        details,
      );
    }
    if (spec.reply === 'signed' && !verifySign(reply, this.#key)) {
      throw new SignatureError(
        reply.sign
          ? `reply from ${spec.path} has a signature that does not verify with the configured key. The key is ` +
              'probably not this merchant’s APIv2 key, or something between you and WeChat altered the reply.'
          : `reply from ${spec.path} carries no sign, but this endpoint's replies are signed`,
        details,
      );
    }
    for (const [field, expected] of [
      ['mch_id', this.mchId],
      ['mchid', this.mchId],
      [spec.appidField ?? 'appid', sent[spec.appidField ?? 'appid']],
    ] as const) {
      if (
        expected !== undefined &&
        reply[field] !== undefined &&
        reply[field] !== '' &&
        reply[field] !== expected
      ) {
        throw new SignatureError(
          `reply from ${spec.path} names ${field} ${reply[field]}, not ${expected}`,
          details,
        );
      }
    }
    if (reply.result_code !== undefined && reply.result_code !== 'SUCCESS') {
      const errCode = reply.err_code ?? reply.result_code;
      throw new BusinessError(errCode, reply.err_code_des ?? reply.return_msg ?? '', {
        ...details,
        retryable: UNKNOWN_OUTCOME_CODES.has(errCode),
        rateLimited: RATE_LIMITED_CODES.has(errCode),
      });
    }
    return reply;
  }

  #hint(returnMsg: string, sent: Record<string, string>): string {
    if (!/签名|sign/i.test(returnMsg)) return '';
    const type = sent.sign_type ?? 'MD5';
    return (
      `. WeChat could not verify the ${type} signature. Check that key is the merchant's 32-character APIv2 key ` +
      '(API密钥, not the AppSecret nor the APIv3 key) and that the merchant accepts this sign type. ' +
      `The signed string was: ${signingString(sent)}&key=<your key>`
    );
  }

  // ---- payment endpoints -----------------------------------------------------------------------

  /** 统一下单: creates a JSAPI, NATIVE, APP or MWEB order and returns prepay_id / code_url / mweb_url. */
  unifiedOrder(params: UnifiedOrderRequest): Promise<UnifiedOrderReply> {
    if (params.trade_type === 'JSAPI' && !params.openid && !(params as unknown as Fields).sub_openid) {
      return Promise.reject(
        new RequestValidationError(
          'openid',
          'a JSAPI order needs the payer’s openid',
          ENDPOINTS.unifiedOrder.path,
        ),
      );
    }
    if (!params.notify_url && !this.notifyUrl) {
      return Promise.reject(
        new RequestValidationError(
          'notify_url',
          'unifiedOrder needs notify_url: pass it, or set notifyUrl on the client',
          ENDPOINTS.unifiedOrder.path,
        ),
      );
    }
    return this.call('unifiedOrder', params as unknown as Fields);
  }

  /** 付款码支付: charges the payer's payment code. On USERPAYING or SYSTEMERROR, poll orderQuery. */
  micropay(params: MicropayRequest): Promise<MicropayReply> {
    return this.call('micropay', params as unknown as Fields);
  }

  orderQuery(params: OrderQueryRequest): Promise<OrderQueryReply> {
    return this.call('orderQuery', params as unknown as Fields);
  }

  closeOrder(params: CloseOrderRequest): Promise<CloseOrderReply> {
    return this.call('closeOrder', params as unknown as Fields);
  }

  /** 撤销订单 (micropay only). When the reply says recall=Y, call it again. */
  reverse(params: ReverseRequest): Promise<ReverseReply> {
    return this.call('reverse', params as unknown as Fields);
  }

  /** 申请退款. The same out_refund_no makes a retry idempotent. */
  refund(params: RefundRequest): Promise<RefundReply> {
    return this.call('refund', params as unknown as Fields);
  }

  refundQuery(params: RefundQueryRequest): Promise<RefundQueryReply> {
    return this.call('refundQuery', params as unknown as Fields);
  }

  /** The sandbox sign key of WeChat's old sandboxnew, signed with the production key. */
  getSignKey(): Promise<GetSignKeyReply> {
    return this.call('getSignKey', {});
  }

  /** 下载交易账单, streamed: iterate the returned Bill for rows, then read its summary. */
  downloadBill(params: DownloadBillRequest): Promise<TradeBill> {
    return this.#downloadBill('downloadBill', { bill_type: 'ALL', ...params } as unknown as Fields, 'trade');
  }

  /** 下载资金账单 (HMAC-SHA256 and the client certificate), streamed like downloadBill. */
  downloadFundFlow(params: DownloadFundFlowRequest): Promise<FundFlowBill> {
    return this.#downloadBill('downloadFundFlow', params as unknown as Fields, 'fundflow');
  }

  async #downloadBill<Row, Summary>(
    name: 'downloadBill' | 'downloadFundFlow',
    params: Fields,
    kind: 'trade' | 'fundflow',
  ): Promise<Bill<Row, Summary>> {
    const spec: EndpointSpec = ENDPOINTS[name];
    const fields = this.prepare(name, params);
    const body = buildXml(fields);
    return this.#withRetries(spec, async () => {
      const reply = await this.#send(spec, body);
      const stream = await peekable(reply.body);
      if (reply.status !== 200) {
        throw httpStatusError(
          spec,
          reply.status,
          await readText(stream.stream, MAX_XML_REPLY_BYTES, spec.path, this.timeoutMs),
        );
      }
      let content: Readable = stream.stream;
      if (stream.first[0] === 0x1f && stream.first[1] === 0x8b) content = stream.stream.pipe(createGunzip());
      else if (stream.first.toString('utf8').trimStart().startsWith('<')) {
        // Errors come back as XML, and are never signed.
        const text = await readText(stream.stream, MAX_XML_REPLY_BYTES, spec.path, this.timeoutMs);
        const unsigned: EndpointSpec = { ...spec, reply: 'unsigned' };
        const checked = this.#check(unsigned, fields, text);
        throw new ProtocolError(`${spec.path} answered XML instead of a bill`, checked.return_msg ?? '', {
          endpoint: spec.path,
          rawBody: text,
          reply: checked,
        });
      }
      return new Bill<Row, Summary>(content, kind);
    });
  }

  // ---- payout and marketing endpoints ------------------------------------------------------------

  /** WeChat's RSA public key for pay_bank, fetched once per client (see getPublicKey). */
  #bankKey: Promise<payouts.KeyObject> | undefined;

  /** 企业付款到零钱. partner_trade_no is generated when absent; to retry, resend with the same one. */
  async transfer(params: payouts.TransferRequest): Promise<payouts.TransferReply> {
    return this.call('transfer', payouts.transferFields(params));
  }

  /** 查询企业付款: status SUCCESS, FAILED or PROCESSING. */
  async getTransferInfo(params: payouts.GetTransferInfoRequest): Promise<payouts.GetTransferInfoReply> {
    return this.call('getTransferInfo', payouts.getTransferInfoFields(params));
  }

  /** 普通红包. mch_billno is generated when absent; resending the same mch_billno never pays twice. */
  async sendRedpack(params: payouts.SendRedpackRequest): Promise<payouts.SendRedpackReply> {
    return this.call('sendRedpack', payouts.redpackFields(params, 'normal', this.mchId));
  }

  /** 裂变红包 (amt_type ALL_RAND). mch_billno is generated when absent. */
  async sendGroupRedpack(params: payouts.SendGroupRedpackRequest): Promise<payouts.SendRedpackReply> {
    return this.call('sendGroupRedpack', payouts.redpackFields(params, 'group', this.mchId));
  }

  /** 查询红包记录 (bill_type MCHT), with hblist as an array of receipts. */
  async getRedpackInfo(params: payouts.GetRedpackInfoRequest): Promise<payouts.GetRedpackInfoReply> {
    const reply = await this.#call(
      'getRedpackInfo',
      payouts.getRedpackInfoFields(params),
      payouts.splitHbList,
    );
    return reply as unknown as payouts.GetRedpackInfoReply;
  }

  /** 发放代金券 to one openid (openid_count 1). partner_trade_no is generated when absent. */
  async sendCoupon(params: payouts.SendCouponRequest): Promise<payouts.SendCouponReply> {
    return this.call('sendCoupon', payouts.sendCouponFields(params, this.mchId));
  }

  /** 查询代金券批次. */
  async queryCouponStock(params: payouts.QueryCouponStockRequest): Promise<payouts.QueryCouponStockReply> {
    return this.call('queryCouponStock', payouts.queryCouponStockFields(params, this.mchId));
  }

  /** 查询代金券信息. */
  async queryCouponsInfo(params: payouts.QueryCouponsInfoRequest): Promise<payouts.QueryCouponsInfoReply> {
    return this.call('queryCouponsInfo', payouts.queryCouponsInfoFields(params, this.mchId));
  }

  /** 获取RSA加密公钥: WeChat's public key (pub_key, PKCS#1 PEM) for pay_bank's encrypted fields. */
  async getPublicKey(): Promise<payouts.GetPublicKeyReply> {
    return this.call('getPublicKey', {});
  }

  /**
   * 企业付款到银行卡. bank_no and true_name are given in clear and sent RSA-OAEP encrypted
   * (enc_bank_no, enc_true_name). partner_trade_no is generated when absent.
   */
  async payBank(params: payouts.PayBankRequest): Promise<payouts.PayBankReply> {
    const { bank_no, true_name, ...rest } = payouts.payBankFields(params);
    this.#bankKey ??= this.getPublicKey().then((reply) => {
      if (!reply.pub_key) {
        throw new ProtocolError('/risk/getpublickey answered without pub_key', reply.return_msg ?? '', {
          endpoint: ENDPOINTS.getPublicKey.path,
          reply: reply as Record<string, string>,
        });
      }
      return payouts.readBankPublicKey(reply.pub_key);
    });
    // A failed fetch is not cached: the next payBank asks again.
    const key = await this.#bankKey.catch((error: unknown) => {
      this.#bankKey = undefined;
      throw error;
    });
    return this.call('payBank', {
      ...rest,
      enc_bank_no: payouts.encryptForBank(key, String(bank_no)),
      enc_true_name: payouts.encryptForBank(key, String(true_name)),
    });
  }

  /** 查询企业付款到银行卡. */
  async queryBank(params: payouts.QueryBankRequest): Promise<payouts.QueryBankReply> {
    return this.call('queryBank', payouts.queryBankFields(params));
  }

  // ---- notifies --------------------------------------------------------------------------------

  /** Verifies a payment notify on its raw bytes and returns the fields; throws SignatureError if forged. */
  parsePaymentNotify(rawBody: string | Buffer): PaymentNotify {
    return parsePaymentNotify(rawBody, { appid: this.appid, mchId: this.mchId, key: this.#key });
  }

  /** Decrypts a refund notify's req_info and returns its fields. */
  parseRefundNotify(rawBody: string | Buffer): RefundNotify {
    return parseRefundNotify(rawBody, { appid: this.appid, mchId: this.mchId, key: this.#key });
  }

  /** The XML answer to a notify. */
  notifyReply(ok: boolean, msg?: string): string {
    return notifyReply(ok, msg);
  }

  /** Verifies any WeChat-signed fields with this merchant's key. */
  verify(fields: Readonly<Fields>): boolean {
    return verifySign(fields, this.#key);
  }

  // ---- parameters for the payer's client -------------------------------------------------------

  /** Signed parameters for getBrandWCPayRequest (Official Accounts) and wx.requestPayment (Mini Programs). */
  jsapiParams(prepayId: string, options: { appId?: string } = {}): JsapiParams {
    const unsigned = {
      appId: options.appId ?? this.appid,
      timeStamp: String(Math.floor(Date.now() / 1000)),
      nonceStr: nonce(),
      package: `prepay_id=${prepayId}`,
      signType: this.signType,
    };
    return { ...unsigned, paySign: sign(unsigned, this.#key, this.signType) };
  }

  /** Signed parameters for the WeChat app SDK (PayReq). */
  appParams(prepayId: string, options: { appid?: string } = {}): AppParams {
    const unsigned = {
      appid: options.appid ?? this.appid,
      partnerid: this.mchId,
      prepayid: prepayId,
      package: 'Sign=WXPay' as const,
      noncestr: nonce(),
      timestamp: String(Math.floor(Date.now() / 1000)),
    };
    return { ...unsigned, sign: sign(unsigned, this.#key, this.signType) };
  }

  /** The H5 payment URL that brings the payer back to `redirectUrl` afterwards. */
  mwebUrl(mwebUrl: string, redirectUrl?: string): string {
    return mwebUrlWithRedirect(mwebUrl, redirectUrl);
  }
}

export function mwebUrlWithRedirect(mwebUrl: string, redirectUrl?: string): string {
  if (!redirectUrl) return mwebUrl;
  return `${mwebUrl}${mwebUrl.includes('?') ? '&' : '?'}redirect_url=${encodeURIComponent(redirectUrl)}`;
}

/**
 * Marks an error that ends a call as coming after a try whose outcome is unknown: it keeps its class, fields and
 * stack, and becomes retryable, since the earlier try may have taken effect.
 */
function afterUnknownTry<E extends WechatPayError>(error: E, earlier: WechatPayError): E {
  const what = earlier instanceof BusinessError ? earlier.errCode : earlier.code;
  const marks: Pick<WechatPayError, 'earlierAttempt' | 'earlierAttemptUnknown' | 'retryable' | 'message'> = {
    earlierAttempt: earlier,
    earlierAttemptUnknown: true,
    retryable: true,
    message:
      `${error.message} An earlier try of this same request ended with ${what}, an unknown outcome: it may ` +
      'have taken effect even though this try did not. Query, or resend with the same merchant number; never ' +
      'a new one.',
  };
  return Object.assign(error, marks);
}

function httpStatusError(spec: EndpointSpec, status: number, text: string): TransportError {
  return new TransportError('HTTP_STATUS', `${spec.path} answered HTTP ${status}`, {
    endpoint: spec.path,
    rawBody: text,
    status,
    retryable: status >= 500 || status === 429,
  });
}

/** Reads the first chunk of a stream without losing it. */
async function peekable(stream: Readable): Promise<{ first: Buffer; stream: Readable }> {
  const iterator = stream[Symbol.asyncIterator]();
  const head = await iterator.next();
  const first: Buffer = head.done ? Buffer.alloc(0) : Buffer.from(head.value as Buffer);
  const rest = Readable.from(
    (async function* () {
      if (first.length) yield first;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value as Buffer;
      }
    })(),
  );
  return { first, stream: rest };
}

function parseBaseUrl(value: string, option: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch (error) {
    throw new ConfigError(
      option,
      `options.${option} must be an http(s) URL, got ${JSON.stringify(value)}`,
      error,
    );
  }
  return value.replace(/\/+$/, '');
}

function positiveInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(option, `options.${option} must be a positive integer`);
  return value;
}

function nonNegativeInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw new ConfigError(option, `options.${option} must be a whole number ≥ 0`);
  return value;
}

export { WechatPayError };
