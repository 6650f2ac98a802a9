// Errors as values: a business refusal carries WeChat's err_code and err_code_des.
export interface BizError {
  code: string;
  des: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: BizError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function refuse<T = never>(code: string, des: string): Result<T> {
  return { ok: false, error: { code, des } };
}
