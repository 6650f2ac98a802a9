// What every endpoint handler is given and what it answers; the server turns answers into WeChat XML.
import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SignType } from '@wxpay/sdk';
import type { Clock } from '../clock.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Merchant } from '../merchants.js';
import type { Notifier } from '../notifier.js';
import type { RateLimiter } from '../rate-limit.js';
import type { BizError } from '../result.js';
import type { KeyRealm } from '../sandboxnew.js';
import type { FieldRule } from '../validate.js';

export interface Services {
  ledger: Ledger;
  clock: Clock;
  notifier: Notifier;
  /** The sandbox's base URL, e.g. https://127.0.0.1:8443, known once it listens. */
  baseUrl(): string;
  merchantById(mchId: string): Merchant | undefined;
  /** The RSA key pay_bank's card fields are encrypted for (getpublickey), made on first use. */
  bankKey(): { publicPem: string; privateKey: KeyObject };
  /** Present when WeChat's QPS limits are enforced. */
  rateLimiter: RateLimiter | undefined;
}

export interface CallContext extends Services {
  merchant: Merchant;
  /** The request's fields, exactly as parsed (unknown ones included). */
  fields: Record<string, string>;
  /** The sign type the request was signed with; signed replies use it too. */
  signType: SignType;
  /** Whose key signed the request (production, or sandboxnew's sandbox key); replies and notifies use it too. */
  keyRealm: KeyRealm;
  headers: IncomingHttpHeaders;
  now: number;
}

export type ReplyFields = Record<string, string | number | undefined>;

export type Answer =
  /** return_code FAIL: the call was not processed. */
  | { kind: 'fail'; msg: string }
  /** result_code FAIL with err_code / err_code_des, plus any fields WeChat echoes. */
  | { kind: 'refused'; error: BizError; fields?: ReplyFields }
  /** result_code SUCCESS. `nestedXml` is appended inside <xml> as is (gethbinfo's hblist). */
  | { kind: 'ok'; fields: ReplyFields; nestedXml?: string }
  /** A bill. */
  | { kind: 'csv'; text: string; gzip: boolean }
  /** Hold the connection and never answer (micropay's MICROPAY_TIMEOUT). */
  | { kind: 'hang' };

export interface EndpointDef {
  /** The last path segment; fault rules and the docs use it. */
  name: string;
  path: string;
  cert: boolean;
  reply: 'signed' | 'unsigned' | 'csv';
  appidField: 'appid' | 'mch_appid' | 'wxappid' | null;
  mchIdField: 'mch_id' | 'mchid';
  signTypes: 'any' | SignType;
  /**
   * How a malformed field is answered: payment endpoints with return_code FAIL and a return_msg,
   * payout endpoints with result_code FAIL and err_code PARAM_ERROR.
   */
  problems: 'return' | 'result';
  rules: readonly FieldRule[];
  handle(ctx: CallContext): Answer;
}

export function refused(code: string, des: string, fields?: ReplyFields): Answer {
  return fields
    ? { kind: 'refused', error: { code, des }, fields }
    : { kind: 'refused', error: { code, des } };
}
