// The floor: the least any gateway must write per create while keeping DESIGN.md's invariants on SQLite, written
// straight to better-sqlite3 with statements prepared once. It authenticates the key by hash, stores the intent
// (with its out_trade_no) and its `created` event in one transaction that is on disk before WeChat is called
// (invariants 4 and 6), makes the same unifiedorder call as the ceiling, then stores the raw reply, the prepay
// and the `requires_action` event in a second durable transaction. Same schema and indexes as the gateway (the
// file is migrated by the gateway), same log sync (fdatasync of the WAL off the event loop, shared by the
// commits made while one runs), and checkpoints on a worker thread like the gateway's. No Kysely, no domain code, no checks beyond the key: what is left of the
// gateway's CPU per create above this is what its own code costs.
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { WechatPay } from '@wxpay/sdk';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { BACKSTOP_CHECKPOINT_PAGES, Checkpointer } from '../../packages/gateway/src/db/checkpointer.ts';

interface FloorOptions {
  databasePath: string;
  client: WechatPay;
  notifyUrl: string;
  wechatTime(ms: number): string;
}

export async function addFloorRoute(
  app: FastifyInstance,
  options: FloorOptions,
): Promise<() => Promise<void>> {
  const db = new Database(options.databasePath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('DELETE FROM events WHERE 0'); // a write, so that the log file exists before it is opened
  const wal: FileHandle = await open(`${options.databasePath}-wal`, 'r+');
  // Checkpoints on a worker thread, as the gateway runs them.
  const checkpointer = new Checkpointer(options.databasePath, (reason) => {
    throw new Error(`the floor's checkpointer stopped: ${reason}`);
  });
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);

  // A commit is durable once a sync that started after it has finished; commits meanwhile share the next one.
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const durable = (): Promise<void> => {
    if (!running) {
      running = wal.datasync().finally(() => {
        running = undefined;
      });
      return running;
    }
    next ??= running.then(() => {
      next = undefined;
      return durable();
    });
    return next;
  };

  const keyLookup = db.prepare(
    'SELECT a.id, a.appid, a.mch_id, k.livemode FROM api_keys k JOIN accounts a ON a.id = k.account_id ' +
      'WHERE k.key_hash = ? AND k.revoked IS NULL',
  );
  const insertIntent = db.prepare(
    'INSERT INTO payment_intents (id, account_id, livemode, amount, currency, status, out_trade_no, terminal_type, ' +
      'metadata, client_ip, ordered_at, next_query_at, query_count, confirming_until, expires_at, created, updated) ' +
      "VALUES (?, ?, ?, ?, ?, 'requires_confirmation', ?, 'WEB', '{}', ?, ?, ?, 0, ?, ?, ?, ?)",
  );
  const insertEvent = db.prepare(
    'INSERT INTO events (id, account_id, livemode, type, object_id, data, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertPayload = db.prepare(
    'INSERT INTO wechat_payloads (id, intent_id, kind, body, created) VALUES (?, ?, ?, ?, ?)',
  );
  const recordPrepay = db.prepare(
    "UPDATE payment_intents SET status = 'requires_action', trade_type = 'NATIVE', next_action = ?, " +
      'wechat_prepay_id = ?, prepay_at = ?, confirming_until = NULL, updated = ? ' +
      "WHERE id = ? AND status = 'requires_confirmation' AND out_trade_no = ?",
  );
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  const inTransaction = async (work: () => void) => {
    begin.run();
    try {
      work();
      commit.run();
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    await durable();
  };
  const id = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url')}`;

  app.post('/floor/v1/payment_intents', async (request, reply) => {
    const key = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const account = keyLookup.get(createHash('sha256').update(key).digest('hex')) as
      | { id: string; livemode: number }
      | undefined;
    if (!account) return reply.code(401).send({ error: { type: 'authentication_error' } });
    const body = request.body as { amount: number; currency: string };
    const now = Date.now();
    const intentId = id('pi');
    const outTradeNo = intentId.slice(3);
    const created = { id: intentId, object: 'payment_intent', amount: body.amount, currency: body.currency };
    await inTransaction(() => {
      insertIntent.run(
        intentId,
        account.id,
        account.livemode,
        body.amount,
        body.currency,
        outTradeNo,
        '203.0.113.9',
        now,
        now + 60_000,
        now + 30_000,
        now + 7_200_000,
        now,
        now,
      );
      insertEvent.run(
        id('evt'),
        account.id,
        account.livemode,
        'payment_intent.created',
        intentId,
        JSON.stringify(created),
        now,
      );
    });
    const prepay = await options.client.unifiedOrder({
      body: 'wxpay',
      out_trade_no: outTradeNo,
      total_fee: body.amount,
      fee_type: body.currency,
      spbill_create_ip: '203.0.113.9',
      trade_type: 'NATIVE',
      notify_url: options.notifyUrl,
      time_start: options.wechatTime(now),
      time_expire: options.wechatTime(now + 7_200_000),
      product_id: outTradeNo,
    });
    const nextAction = {
      type: 'wechat_pay_display_qr_code',
      wechat_pay_display_qr_code: { image_data_url: prepay.code_url },
    };
    const view = { ...created, status: 'requires_action', next_action: nextAction };
    const later = Date.now();
    await inTransaction(() => {
      insertPayload.run(id('pl'), intentId, 'prepay', JSON.stringify(prepay), later);
      recordPrepay.run(JSON.stringify(nextAction), prepay.prepay_id, later, later, intentId, outTradeNo);
      insertEvent.run(
        id('evt'),
        account.id,
        account.livemode,
        'payment_intent.requires_action',
        intentId,
        JSON.stringify(view),
        later,
      );
    });
    return view;
  });
  return async () => {
    await checkpointer.close();
    await wal.close();
    db.close();
  };
}
