// Field rules checked from first principles on every request: presence, length, format, range.
export interface FieldRule {
  name: string;
  required?: boolean;
  /** Longest allowed value, in characters. */
  max?: number;
  pattern?: RegExp;
  /** A positive whole number of fen (or a count), within [min, maxValue]. */
  int?: { min?: number; max?: number };
  oneOf?: readonly string[];
}

export type FieldProblem =
  | { kind: 'missing'; field: string }
  | { kind: 'length'; field: string }
  | { kind: 'format'; field: string };

/** WeChat's merchant-number alphabet: out_trade_no, out_refund_no, partner_trade_no, mch_billno. */
export const MERCHANT_NO = /^[0-9A-Za-z_\-|*@]+$/;
export const DIGITS = /^\d+$/;
export const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]{2,39})$/;
export const DATE = /^\d{8}$/;
export const URL_RULE = /^https?:\/\/[^\s]+$/;

/** The first field that breaks its rule, or undefined when all pass. */
export function checkFields(
  fields: Readonly<Record<string, string>>,
  rules: readonly FieldRule[],
): FieldProblem | undefined {
  for (const rule of rules) {
    const value = fields[rule.name];
    if (value === undefined || value === '') {
      if (rule.required) return { kind: 'missing', field: rule.name };
      continue;
    }
    if (rule.max !== undefined && [...value].length > rule.max) return { kind: 'length', field: rule.name };
    if (rule.pattern && !rule.pattern.test(value)) return { kind: 'format', field: rule.name };
    if (rule.oneOf && !rule.oneOf.includes(value)) return { kind: 'format', field: rule.name };
    if (rule.int) {
      if (!/^\d{1,15}$/.test(value)) return { kind: 'format', field: rule.name };
      const n = Number(value);
      if (n < (rule.int.min ?? 1) || (rule.int.max !== undefined && n > rule.int.max)) {
        return { kind: 'format', field: rule.name };
      }
    }
  }
  return undefined;
}

/** The message WeChat words for each kind of problem. */
export function describeProblem(problem: FieldProblem): string {
  switch (problem.kind) {
    case 'missing':
      return `缺少参数${problem.field}`;
    case 'length':
      return `${problem.field}参数长度有误`;
    case 'format':
      return `${problem.field}参数格式错误`;
  }
}

/** The fields that define a request for idempotency: everything but the per-call nonce and sign. */
export function fingerprint(
  fields: Readonly<Record<string, string>>,
  ignore: readonly string[] = [],
): string {
  const skip = new Set(['nonce_str', 'sign', 'sign_type', ...ignore]);
  return Object.keys(fields)
    .filter((k) => !skip.has(k) && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}
