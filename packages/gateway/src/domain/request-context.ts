// The API request being served, carried through async calls so that every event written on its behalf can
// name it ({ request: { id, idempotency_key } }) without threading it through each service function.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestInfo {
  id: string | null;
  idempotency_key: string | null;
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
