// The webhook fan-out reads the outbox from a cursor that trails the last pass by an hour, so a pass costs the
// recent events, not 30 days of them, while an event that commits late is still delivered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAccount } from '../src/domain/accounts.ts';
import { recordEvent } from '../src/domain/events.ts';
import { FANOUT_LAG_MS, fanOutEvents } from '../src/domain/webhook-deliveries.ts';
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

    test('the scan starts at the cursor: an event older than it is not read', async () => {
      // No transaction stays open for an hour, so this cannot happen in service; it shows the bound.
      await event('before-cursor', (await cursor()) - 1);
      assert.equal(await fanOutEvents(gateway.ctx), 0);
      assert.equal(await deliveriesFor('test.before-cursor'), 0);
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
