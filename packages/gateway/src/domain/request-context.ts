// The API request being served, carried through async calls so that every event written on its behalf can
// name it ({ request: { id, idempotency_key } }), and the object it creates can be recorded on its
// Idempotency-Key, without threading it through each service function.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AccountRow } from '../db/schema.js';

/** The Idempotency-Key a request holds (see domain/idempotency.ts). */
export interface IdempotencyClaim {
  accountId: string;
  livemode: boolean;
  key: string;
  /** The key row's `created` when this request claimed it: the fence against a takeover. */
  claimed: number;
  /** The id prefix of the object the route creates (`pi`, `re`, `tr`, …), or null. */
  creates: string | null;
  linked: boolean;
}

export interface RequestInfo {
  id: string | null;
  /** The Idempotency-Key the request holds, once it has claimed one. */
  idempotency?: IdempotencyClaim;
  /** The account of the key that authenticated the request, read with the key (see loadAccount). */
  account?: AccountRow;
}

const storage = new AsyncLocalStorage<RequestInfo>();

/** Runs `fn` (and everything it starts) as part of the request `info`. */
export function runInRequest<T>(info: RequestInfo, fn: () => T): T {
  return storage.run(info, fn);
}

/** The request being served, or undefined in workers. */
export function currentRequest(): RequestInfo | undefined {
  return storage.getStore();
}
