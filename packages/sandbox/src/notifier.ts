// WeChat → merchant notifies: POSTs the XML to notify_url and retries on WeChat's schedule, in
// simulated time, until the merchant answers return_code SUCCESS. Every attempt is recorded.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseXml } from '@wxpay/sdk';
import type { Clock } from './clock.js';
import type { FaultRule, Faults } from './faults.js';

/** Seconds between attempts after the first: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h. */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];
/** delay_notify's default hold-back, simulated seconds. */
export const DEFAULT_NOTIFY_DELAY_SECONDS = 60;
/** How long one notify POST may take, real ms. */
const POST_TIMEOUT_MS = 5000;
const MAX_ANSWER_CHARS = 500;

export type NotifyKind = 'payment' | 'refund';

export interface NotifyAttempt {
  /** 1 for the first attempt. */
  n: number;
  /** Simulated seconds since the notify was raised. */
  offset: number;
  /** Simulated time of the attempt, ISO. */
  at: string;
  ok: boolean;
  status?: number;
  answer?: string;
  error?: string;
  /** bad_signature_notify: this attempt carried a forged signature (or undecryptable req_info). */
  badSignature?: boolean;
  /** duplicate_notify: an extra copy sent after the merchant had already accepted. */
  duplicate?: boolean;
}

export interface NotifyRecord {
  id: number;
  kind: NotifyKind;
  mchId: string;
  /** out_trade_no for a payment notify, out_refund_no for a refund notify. */
  ref: string;
  url: string;
  raisedAt: string;
  state: 'pending' | 'delivered' | 'gave_up' | 'dropped';
  faults: string[];
  attempts: NotifyAttempt[];
  /** The body sent (the good one). */
  body: string;
}

export interface NotifyInput {
  kind: NotifyKind;
  mchId: string;
  ref: string;
  url: string;
  body: string;
  /** The same notify, forged: sent instead of `body` on the first attempt under bad_signature_notify. */
  forgedBody: string;
}

/** A notify still being delivered: what to send, the faults it drew, and its next attempt. */
export interface PendingNotify {
  recordId: number;
  input: NotifyInput;
  /** bad_signature_notify drew this one: its first attempt is forged. */
  forged: boolean;
  /** duplicate_notify drew this one: once accepted, it is sent once more. */
  duplicate: boolean;
  /** Simulated epoch ms when raised. */
  raisedAt: number;
  /** The next attempt: its number (1 for the first) and simulated due time, epoch ms. */
  next: { n: number; due: number };
}

/** The notify log and the deliveries still under way, as a data dir keeps them. */
export interface NotifierSnapshot {
  records: NotifyRecord[];
  pending: PendingNotify[];
}

export class Notifier {
  readonly records: NotifyRecord[] = [];
  /** Called after every change to the log or to a pending delivery (persistence writes soon after). */
  onChange: () => void = () => {};
  readonly #clock: Clock;
  readonly #faults: Faults;
  readonly #pending = new Map<number, PendingNotify>();
  #nextId = 1;

  constructor(clock: Clock, faults: Faults) {
    this.#clock = clock;
    this.#faults = faults;
  }

  /** Raises a notify: schedules its first attempt (now, unless delayed) and the retries after it. */
  raise(input: NotifyInput): NotifyRecord {
    const names = [`${input.kind}_notify`, 'notify'];
    const fault = (kind: FaultRule['kind']) => this.#faults.take(names, [kind]);
    const drop = fault('drop_notify');
    const delay = fault('delay_notify');
    const duplicate = fault('duplicate_notify');
    const forged = fault('bad_signature_notify');
    const raisedAt = this.#clock.now();
    const record: NotifyRecord = {
      id: this.#nextId++,
      kind: input.kind,
      mchId: input.mchId,
      ref: input.ref,
      url: input.url,
      raisedAt: new Date(raisedAt).toISOString(),
      state: drop ? 'dropped' : 'pending',
      faults: [drop, delay, duplicate, forged].filter((f) => f !== undefined).map((f) => f.kind),
      attempts: [],
      body: input.body,
    };
    this.records.push(record);
    this.onChange();
    if (drop) return record;
    const firstDue = raisedAt + (delay ? (delay.delaySeconds ?? DEFAULT_NOTIFY_DELAY_SECONDS) * 1000 : 0);
    this.#arm(record, {
      recordId: record.id,
      input,
      forged: forged !== undefined,
      duplicate: duplicate !== undefined,
      raisedAt,
      next: { n: 1, due: firstDue },
    });
    return record;
  }

  snapshot(): NotifierSnapshot {
    return { records: this.records, pending: [...this.#pending.values()] };
  }

  /** Loads a stored log and re-arms the deliveries it left under way, at their stored times. */
  restore(stored: NotifierSnapshot): void {
    this.records.push(...stored.records);
    this.#nextId = Math.max(this.#nextId, ...stored.records.map((r) => r.id + 1));
    for (const pending of stored.pending) {
      const record = this.records.find((r) => r.id === pending.recordId);
      if (record?.state === 'pending') this.#arm(record, pending);
    }
  }

  #arm(record: NotifyRecord, pending: PendingNotify): void {
    this.#pending.set(record.id, pending);
    this.onChange();
    this.#clock.at(pending.next.due, () => this.#attempt(record, pending));
  }

  async #attempt(record: NotifyRecord, pending: PendingNotify): Promise<void> {
    const { n, due } = pending.next;
    const { input, raisedAt } = pending;
    const useForged = pending.forged && n === 1;
    const result = await this.#post(input.url, useForged ? input.forgedBody : input.body);
    record.attempts.push({
      n,
      offset: (due - raisedAt) / 1000,
      at: new Date(due).toISOString(),
      ...result,
      ...(useForged ? { badSignature: true } : {}),
    });
    if (result.ok) {
      record.state = 'delivered';
      this.#pending.delete(record.id);
      if (pending.duplicate) {
        const copy = await this.#post(input.url, input.body);
        record.attempts.push({
          n: n + 1,
          offset: (due - raisedAt) / 1000,
          at: new Date(due).toISOString(),
          ...copy,
          duplicate: true,
        });
      }
      this.onChange();
      return;
    }
    const wait = RETRY_SCHEDULE_SECONDS[n - 1];
    if (wait === undefined) {
      record.state = 'gave_up';
      this.#pending.delete(record.id);
      this.onChange();
      return;
    }
    this.#arm(record, { ...pending, next: { n: n + 1, due: due + wait * 1000 } });
  }

  /** One POST; ok only when the answer is XML with return_code SUCCESS. */
  #post(url: string, body: string): Promise<Pick<NotifyAttempt, 'ok' | 'status' | 'answer' | 'error'>> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ ok: false, error: `notify_url is not a URL: ${url}` });
        return;
      }
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        target,
        {
          method: 'POST',
          agent: false,
          timeout: POST_TIMEOUT_MS,
          headers: {
            'content-type': 'text/xml; charset=utf-8',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'Mozilla/4.0 (wxpay sandbox notify)',
            connection: 'close',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= 64 * 1024) chunks.push(chunk);
          });
          res.on('error', (error) => resolve({ ok: false, status: res.statusCode, error: error.message }));
          res.on('end', () => {
            const answer = Buffer.concat(chunks).toString('utf8');
            let accepted = false;
            try {
              accepted = res.statusCode === 200 && parseXml(answer).return_code === 'SUCCESS';
            } catch {
              accepted = false;
            }
            resolve({ ok: accepted, status: res.statusCode, answer: answer.slice(0, MAX_ANSWER_CHARS) });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${POST_TIMEOUT_MS} ms`)));
      req.on('error', (error) => resolve({ ok: false, error: error.message }));
      req.end(body);
    });
  }
}
