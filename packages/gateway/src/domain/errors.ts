// The one error value the API answers with: { error: { type, code, message, param } }.

export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'idempotency_error'
  | 'api_error'
  | 'wechat_error';

export class ApiError extends Error {
  readonly status: number;
  readonly type: ApiErrorType;
  readonly code: string;
  readonly param: string | undefined;
  /** The provider payload, when WeChat caused it. Never sent to clients. */
  readonly raw: unknown;

  constructor(
    status: number,
    type: ApiErrorType,
    code: string,
    message: string,
    param?: string,
    raw?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
    this.raw = raw;
  }

  toJSON() {
    return { error: { type: this.type, code: this.code, message: this.message, param: this.param ?? null } };
  }
}

export function notFound(what: string, id: string, param = 'id'): ApiError {
  return new ApiError(404, 'invalid_request_error', 'resource_missing', `No such ${what}: '${id}'`, param);
}
