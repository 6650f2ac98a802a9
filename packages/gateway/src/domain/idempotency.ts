// What a request's Idempotency-Key remembers beyond its answer: the object the request created, and when the
// request that claimed it must have finished.
//
// A request that dies half way (its process was killed) leaves its key `in_progress` with no answer. Until
// the key is older than the longest a request can run, a retry is told the request is still in progress. After
// that, the retry recovers: if the dead request had created its object (the link below is written in the same
// transaction as the object), the retry answers that object as it is now and never creates a second one; if
// it had created nothing, the retry takes the key over and runs the request itself. Taking over changes the
// key's `created`, so a request that was merely slow, not dead, can no longer link an object to the key: its
// creating transaction fails and nothing of it is stored.
import type { GatewayConfig } from '../config.js';
import type { Db } from '../db/schema.js';
import { ApiError } from './errors.js';
import { currentRequest } from './request-context.js';
import { wechatCallLeaseMs } from './wechat-lease.js';

/**
 * The longest a request can run: two WeChat calls with their retries (a micropay and its reverse, say) and the
 * micropay polling deadline. A key older than this whose request never answered was abandoned.
 */
export function abandonedAfterMs(config: Pick<GatewayConfig, 'wechatTimeoutMs' | 'micropayDeadlineSeconds'>) {
  return 2 * wechatCallLeaseMs({ timeoutMs: config.wechatTimeoutMs }) + config.micropayDeadlineSeconds * 1000;
}

export function keyInUse(detail = ''): ApiError {
  return new ApiError(
    409,
    'idempotency_error',
    'idempotency_key_in_use',
    `A request with this Idempotency-Key is still in progress; retry once it has finished.${detail}`,
    'Idempotency-Key',
  );
}

/**
 * Records `objectId` on the request's Idempotency-Key, inside the transaction that creates the object. Only the
 * object of the route's own kind is recorded (a checkout session's inner intent is not). Fails, and so rolls
 * the creation back, when a retry has taken the key over since this request claimed it.
 */
export async function linkToIdempotencyKey(db: Db, objectId: string): Promise<void> {
  const claim = currentRequest()?.idempotency;
  if (!claim || claim.linked || !claim.creates || !objectId.startsWith(`${claim.creates}_`)) return;
  const result = await db
    .updateTable('idempotency_keys')
    .set({ object_id: objectId })
    .where('account_id', '=', claim.accountId)
    .where('livemode', '=', claim.livemode ? 1 : 0)
    .where('key', '=', claim.key)
    .where('created', '=', claim.claimed)
    .where('state', '=', 'in_progress')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1)
    throw keyInUse(' This attempt ran so long that a retry took the key over; it created nothing.');
  claim.linked = true;
}
