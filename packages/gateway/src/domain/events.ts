// The events outbox: rows written in the same transaction as the change they describe, and listed by the API.
import { insertRow } from '../db/insert-row.js';
import type { Db } from '../db/schema.js';
import { isAlert } from './alerts.js';
import type { AuthContext } from './context.js';
import { newId } from './ids.js';
import { type ListParams, type ListResult, paginate } from './pagination.js';
import { currentRequest } from './request-context.js';
import { toUnixSeconds } from './time.js';
import { whereDeliverySuccess } from './webhook-delivery-filter.js';

export interface NewEvent {
  accountId: string;
  livemode: boolean;
  type: string;
  objectId: string | null;
  data: unknown;
}

export async function recordEvent(db: Db, event: NewEvent, now: number): Promise<string> {
  const id = newId('evt');
  const request = currentRequest();
  await insertRow(db, 'events', {
    id,
    account_id: event.accountId,
    livemode: event.livemode ? 1 : 0,
    type: event.type,
    object_id: event.objectId,
    data: JSON.stringify(event.data),
    created: now,
    request_id: request?.id ?? null,
    idempotency_key: request?.idempotency?.key ?? null,
  });
  if (isAlert(event.type)) {
    await insertRow(db, 'event_alerts', {
      event_id: id,
      account_id: event.accountId,
      livemode: event.livemode ? 1 : 0,
      created: now,
    });
  }
  return id;
}

/** A record events are about: its id, its account and its mode. */
export interface EventSubject {
  id: string;
  account_id: string;
  livemode: number;
}

/** Records a `type` event about `subject`, in its account and mode, with `data`. */
export function recordEventAbout(
  db: Db,
  subject: EventSubject,
  type: string,
  data: unknown,
  now: number,
): Promise<string> {
  return recordEvent(
    db,
    { accountId: subject.account_id, livemode: subject.livemode === 1, type, objectId: subject.id, data },
    now,
  );
}

export interface EventView {
  id: string;
  object: 'event';
  type: string;
  created: number;
  livemode: boolean;
  data: { object: unknown };
  request: { id: string | null; idempotency_key: string | null };
}

export async function listEvents(
  db: Db,
  auth: AuthContext,
  params: ListParams & { type?: string; object_id?: string; delivery_success?: boolean },
): Promise<ListResult<EventView>> {
  return paginate(
    db,
    'events',
    auth,
    params,
    (query) => {
      let q = query;
      if (params.type) q = q.where('type', '=', params.type);
      if (params.object_id) q = q.where('object_id', '=', params.object_id);
      if (params.delivery_success !== undefined) q = whereDeliverySuccess(q, params.delivery_success);
      return q;
    },
    (row) => ({
      id: row.id as string,
      object: 'event' as const,
      type: row.type as string,
      created: toUnixSeconds(row.created as number),
      livemode: row.livemode === 1,
      data: { object: JSON.parse(row.data as string) as unknown },
      request: {
        id: (row.request_id as string | null) ?? null,
        idempotency_key: (row.idempotency_key as string | null) ?? null,
      },
    }),
  );
}
