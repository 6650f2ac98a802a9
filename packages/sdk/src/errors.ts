// Typed errors. Each keeps what WeChat sent and says whether retrying could change the outcome.

export type WechatPayErrorCode =
  | 'CONFIG'
  | 'CERTIFICATE'
  | 'INVALID_REQUEST'
  | 'XML'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'HTTP_STATUS'
  | 'PROTOCOL'
  | 'SIGNATURE'
  | 'BUSINESS';

export interface WechatPayErrorDetails {
  /** The endpoint that was called, e.g. `/pay/unifiedorder`. */
  endpoint?: string;
  /** The reply exactly as received, when there was one. */
  rawBody?: string;
  /** The reply's fields, when it was parsed. */
  reply?: Record<string, string>;
  /** True when the outcome is unknown and the same request may be sent again, unchanged. */
  retryable?: boolean;
  cause?: unknown;
}

/** The base of every error the SDK throws. Switch on `code`, or use `instanceof` on the subclasses. */
export class WechatPayError extends Error {
  readonly code: WechatPayErrorCode;
  readonly endpoint: string | undefined;
  readonly rawBody: string | undefined;
  readonly reply: Record<string, string> | undefined;
  readonly retryable: boolean;
  /**
   * True when an earlier try of this very request, in the same call, had an unknown outcome (a timeout, a
   * network failure, HTTP 5xx, SYSTEMERROR) and the SDK resent the request. This error then proves only that
   * the last try did not take effect: the earlier one may have, so even a refusal such as FREQUENCY_LIMITED or
   * a return_code FAIL is no proof that the refund or payout did not happen. `retryable` is true as well:
   * query, or resend with the same merchant number, never a new one.
   */
  readonly earlierAttemptUnknown: boolean = false;
  /** That earlier try's error, kept whole (it may carry an earlierAttempt of its own). */
  readonly earlierAttempt: WechatPayError | undefined = undefined;

  constructor(code: WechatPayErrorCode, message: string, details: WechatPayErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.endpoint = details.endpoint;
    this.rawBody = details.rawBody;
    this.reply = details.reply;
    this.retryable = details.retryable ?? false;
  }
}

/** The client options are wrong; `option` names the one to fix. */
export class ConfigError extends WechatPayError {
  readonly option: string;
  constructor(option: string, message: string, cause?: unknown) {
    super('CONFIG', message, { cause });
    this.option = option;
  }
}

/** The merchant's client certificate cannot be loaded or is missing for an endpoint that needs it. */
export class CertificateError extends WechatPayError {
  constructor(message: string, details: WechatPayErrorDetails = {}) {
    super('CERTIFICATE', message, details);
  }
}

/** A request was refused before it was sent; `field` names the offending field. */
export class RequestValidationError extends WechatPayError {
  readonly field: string;
  constructor(field: string, message: string, endpoint?: string) {
    super('INVALID_REQUEST', message, { endpoint });
    this.field = field;
  }
}

/** Input that is not WeChat's flat XML, or is hostile (DOCTYPE, entities, nesting, oversize). */
export class XmlError extends WechatPayError {
  constructor(message: string, details: WechatPayErrorDetails = {}) {
    super('XML', message, details);
  }
}

/** A timeout, a network failure or an HTTP status other than 200. The outcome is unknown. */
export class TransportError extends WechatPayError {
  readonly status: number | undefined;
  constructor(
    code: 'TIMEOUT' | 'NETWORK' | 'HTTP_STATUS',
    message: string,
    details: WechatPayErrorDetails & { status?: number } = {},
  ) {
    super(code, message, { retryable: true, ...details });
    this.status = details.status;
  }
}

/** `return_code` was FAIL: WeChat could not process the call (bad signature, bad parameters, …). */
export class ProtocolError extends WechatPayError {
  readonly returnMsg: string;
  constructor(message: string, returnMsg: string, details: WechatPayErrorDetails = {}) {
    super('PROTOCOL', message, details);
    this.returnMsg = returnMsg;
  }
}

/** A reply or notify whose signature does not verify, or that names another merchant. */
export class SignatureError extends WechatPayError {
  constructor(message: string, details: WechatPayErrorDetails = {}) {
    super('SIGNATURE', message, details);
  }
}

/**
 * `result_code` was FAIL: WeChat refused the call for a business reason, or (`retryable`) the outcome is unknown,
 * or (`rateLimited`) WeChat did not process it because of too many calls.
 */
export class BusinessError extends WechatPayError {
  readonly errCode: string;
  readonly errCodeDes: string;
  /**
   * True when WeChat did not process this try because the merchant calls too often (FREQUENCY_LIMITED,
   * FREQ_LIMIT). It is not a refusal of the refund or payout: send the same request again later.
   */
  readonly rateLimited: boolean;
  constructor(
    errCode: string,
    errCodeDes: string,
    details: WechatPayErrorDetails & { rateLimited?: boolean } = {},
  ) {
    const unknown = details.retryable
      ? ' The outcome is unknown: query the order, or resend the same request with the same merchant number ' +
        '(out_trade_no, out_refund_no, partner_trade_no or mch_billno). Never retry with a new number.'
      : details.rateLimited
        ? ' WeChat did not process this call: it is rate limited. Send the same request again later, with the ' +
          'same merchant number.'
        : '';
    super(
      'BUSINESS',
      `${errCode}: ${errCodeDes || 'no description'}${details.endpoint ? ` (${details.endpoint})` : ''}.${unknown}`,
      details,
    );
    this.errCode = errCode;
    this.errCodeDes = errCodeDes;
    this.rateLimited = details.rateLimited ?? false;
  }
}

/**
 * Whether `error` was raised before the request left (a configuration, certificate or input problem): WeChat
 * saw nothing, so nothing it could have done needs to be queried. Any other error may follow a request WeChat
 * received.
 */
export function raisedBeforeSending(error: unknown): boolean {
  return (
    error instanceof ConfigError ||
    error instanceof CertificateError ||
    error instanceof RequestValidationError
  );
}
