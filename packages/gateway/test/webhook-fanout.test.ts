// The webhook fan-out reads the outbox from a cursor that trails the last pass by an hour, so a pass costs the
// recent events, not 30 days of them, while an event that commits late is still delivered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAccount } from '../src/domain/accounts.ts';
import { recordEvent } from '../src/domain/events.ts';
import { FANOUT_LAG_MS, FANOUT_SWEEP_EVERY_MS, fanOutEvents } from '../src/domain/webhook-deliveries.ts';
import { createWebhookEndpoint } from '../src/domain/webhook-endpoints.ts';
import { buildGateway, type Gateway } from '../src/index.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.ts';

const HOUR = 3600_000;

for (const kind of DATABASE_KINDS) {
  describe(`webhook fan-out cursor on ${kind}`, () => {
    let database: TestDatabase;
    let gateway: Gateway;
    let accountId: string;
    const T0 = Date.parse('2026-11-20T08:00:00Z');
    const clock = { now: T0 };
    before(async () => {
      database = await createTestDatabase(kind);
      gateway = await buildGateway({ databaseUrl: database.url, now: () => clock.now });
      ({ id: accountId } = await createAccount(
        gateway.ctx.db,
        { appid: 'wx0000000000000003', mchId: '1900000003', key: 'k'.repeat(32) },
        T0 - 48 * HOUR,
      ));
      clock.now = T0 - 48 * HOUR;
      await createWebhookEndpoint(
        gateway.ctx,
        { accountId, livemode: false },
        { url: 'https://example.com/hook', enabled_events: ['*'] },
      );
      clock.now = T0;
    });
    after(async () => {
      await gateway.close();
      await database.drop();
    });

    const cursor = async () =>
      (
        await gateway.ctx.db
          .selectFrom('webhook_fanout_cursor')
          .select('fanned_below')
          .where('id', '=', 'events')
          .executeTakeFirstOrThrow()
      ).fanned_below;
    const event = (id: string, created: number) =>
      recordEvent(
        gateway.ctx.db,
        { accountId, livemode: false, type: `test.${id}`, objectId: id, data: {} },
        created,
      );
    const deliveriesFor = async (type: string) =>
      (
        await gateway.ctx.db
          .selectFrom('webhook_deliveries as d')
          .innerJoin('events as e', 'e.id', 'd.event_id')
          .select('e.type')
          .where('e.type', '=', type)
          .execute()
      ).length;

    test('an idle pass moves the cursor to an hour before it; an event committed late within that hour is delivered', async () => {
      assert.equal(await fanOutEvents(gateway.ctx), 0);
      assert.equal(await cursor(), T0 - FANOUT_LAG_MS);
      // Written with a time 30 minutes before the pass (its transaction began then), committed after it.
      await event('late', T0 - 30 * 60_000);
      assert.equal(await fanOutEvents(gateway.ctx), 1);
      assert.equal(await deliveriesFor('test.late'), 1);
      // The cursor never moves back, and a pass never fans an event out twice.
      assert.equal(await fanOutEvents(gateway.ctx), 0);
      assert.equal(await cursor(), T0 - FANOUT_LAG_MS);
    });

    test("the scan starts at the cursor; an event behind it (its writer's clock far behind) waits for the hourly sweep", async () => {
      await event('before-cursor', (await cursor()) - 1);
      assert.equal(await fanOutEvents(gateway.ctx), 0);
      assert.equal(await deliveriesFor('test.before-cursor'), 0);
      // Delayed, never dropped: the next sweep reads the whole lookback.
      clock.now += FANOUT_SWEEP_EVERY_MS;
      assert.equal(await fanOutEvents(gateway.ctx), 1);
      assert.equal(await deliveriesFor('test.before-cursor'), 1);
      assert.equal(await fanOutEvents(gateway.ctx), 0, 'and the sweep is not repeated before it is due');
    });

    test('accounts are read in groups, as many as one query may bind, and every event is fanned out once', async () => {
      const db = gateway.ctx.db;
      const start = clock.now;
      const others: string[] = [];
      for (let k = 0; k < 4; k++) {
        const { id } = await createAccount(db, {
          appid: `wx00000000000001${k}0`,
          mchId: `190000010${k}`,
          key: 'k'.repeat(32),
        });
        others.push(id);
      }
      // Two of them have an endpoint; the other two have none, and their events get no delivery.
      clock.now = start - 60_000;
      for (const id of others.slice(0, 2)) {
        await createWebhookEndpoint(
          gateway.ctx,
          { accountId: id, livemode: false },
          { url: 'https://example.com/hook', enabled_events: ['*'] },
        );
      }
      clock.now = start;
      for (const [k, id] of others.entries()) {
        await recordEvent(
          db,
          { accountId: id, livemode: false, type: `test.group-${k}`, objectId: `o${k}`, data: {} },
          start + k,
        );
      }
      await event('group-main', start + 10);
      const fannedOut = async () =>
        Number(
          (
            await db
              .selectFrom('event_fanouts')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await fannedOut();
      // One account per query: five queries a pass, two events a pass.
      assert.equal(await fanOutEvents(gateway.ctx, { accountsPerQuery: 1, limit: 2 }), 2);
      assert.equal(await fanOutEvents(gateway.ctx, { accountsPerQuery: 1, limit: 2 }), 0);
      assert.equal(await fanOutEvents(gateway.ctx, { accountsPerQuery: 1, limit: 2 }), 1);
      assert.equal(await fanOutEvents(gateway.ctx, { accountsPerQuery: 1, limit: 2 }), 0);
      assert.equal(await fannedOut(), before + 5);
      assert.equal(await deliveriesFor('test.group-0'), 1);
      assert.equal(await deliveriesFor('test.group-1'), 1);
      assert.equal(await deliveriesFor('test.group-2'), 0);
      assert.equal(await deliveriesFor('test.group-3'), 0);
      assert.equal(await deliveriesFor('test.group-main'), 1);
    });

    test('a pass works with more accounts than one query can bind (SQLite 32 766 parameters, PostgreSQL 65 535)', async () => {
      const db = gateway.ctx.db;
      const count = kind === 'sqlite' ? 33_000 : 66_000;
      const ids = Array.from({ length: count }, (_, k) => `acct_bulk${String(k).padStart(6, '0')}`);
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < ids.length; i += 2000) {
          await trx
            .insertInto('accounts')
            .values(
              ids.slice(i, i + 2000).map((id) => ({
                id,
                name: id,
                appid: 'wx0000000000000009',
                mch_id: '1900000009',
                mch_key: 'k'.repeat(32),
                sign_type: 'MD5',
                cert_p12: null,
                cert_passphrase: null,
                created: clock.now,
              })),
            )
            .execute();
        }
      });
      try {
        await event('bulk', clock.now + 20);
        assert.equal(await fanOutEvents(gateway.ctx), 1);
        assert.equal(await deliveriesFor('test.bulk'), 1);
      } finally {
        await db.deleteFrom('accounts').where('id', 'like', 'acct_bulk%').execute();
      }
    });

    test('a pass cut short by its limit moves the cursor to the last event it marked; the next passes go on', async () => {
      // A worker that was down for five hours comes back to five events.
      const base = (await cursor()) + 10 * 60_000;
      for (let k = 0; k < 5; k++) await event(`backlog-${k}`, base + k);
      clock.now = T0 + 5 * HOUR;
      assert.equal(await fanOutEvents(gateway.ctx, { limit: 2 }), 2);
      assert.equal(await cursor(), base + 1);
      assert.equal(await fanOutEvents(gateway.ctx, { limit: 2 }), 2);
      assert.equal(await cursor(), base + 3);
      assert.equal(await fanOutEvents(gateway.ctx, { limit: 2 }), 1);
      assert.equal(await cursor(), clock.now - FANOUT_LAG_MS);
      for (let k = 0; k < 5; k++) assert.equal(await deliveriesFor(`test.backlog-${k}`), 1, `backlog-${k}`);
    });
  });
}
