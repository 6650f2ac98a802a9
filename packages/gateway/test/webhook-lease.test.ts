// Webhook delivery leases with two gateway processes on one database: a delivery is POSTed by one worker at a
// time, a slow pass never sends what another worker has taken over, a stuck worker's delivery is taken over when
// its lease ends, and a retry asked for during an attempt waits for it and then runs. The clock is the gateways'
// injectable one; the receiver holds each answer until the test releases it.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createAccount } from '../src/domain/accounts.ts';
import type { ServiceContext } from '../src/domain/context.ts';
import { recordEvent } from '../src/domain/events.ts';
import { type DeliveryOptions, retryEvent } from '../src/domain/webhook-deliveries.ts';
import { createWebhookEndpoint } from '../src/domain/webhook-endpoints.ts';
import { buildGateway, type Gateway } from '../src/index.ts';
import { runWebhookDeliveries } from '../src/jobs/webhook-delivery.ts';
import { createTestDatabase, DATABASE_KINDS, type DatabaseKind } from './support/databases.ts';

interface Post {
  eventId: string;
  answer(status: number): void;
}

/**
 * A receiver that holds every answer until the test gives it (or, with `holding` off, answers 200 at once). A POST
 * of an event whose earlier POST is still unanswered is recorded in `overlaps` and answered at once.
 */
async function startReceiver() {
  const posts: Post[] = [];
  const overlaps: string[] = [];
  const open = new Map<string, number>();
  const state = { holding: true };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const eventId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id;
      const already = open.get(eventId) ?? 0;
      open.set(eventId, already + 1);
      let answered = false;
      const answer = (status: number) => {
        if (answered) return;
        answered = true;
        open.set(eventId, (open.get(eventId) ?? 1) - 1);
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`);
      };
      posts.push({ eventId, answer });
      if (already > 0) overlaps.push(eventId);
      if (already > 0 || !state.holding) answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    posts,
    overlaps,
    state,
    /** Resolves once `n` POSTs have arrived. */
    async arrived(n: number) {
      const deadline = Date.now() + 10_000;
      while (posts.length < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for POST ${n}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    count(eventId: string) {
      return posts.filter((p) => p.eventId === eventId).length;
    },
    async close() {
      for (const p of posts) p.answer(503);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Two gateway processes (workers A and B) on one database, sharing a movable clock, and one webhook endpoint. */
async function twoWorkers(kind: DatabaseKind) {
  const database = await createTestDatabase(kind);
  const clock = { now: Date.parse('2026-11-20T08:00:00Z') };
  const gateways: Gateway[] = [];
  const receiver = await startReceiver();
  try {
    for (let i = 0; i < 2; i++)
      gateways.push(await buildGateway({ databaseUrl: database.url, now: () => clock.now }));
    const [a, b] = gateways.map((g) => g.ctx) as [ServiceContext, ServiceContext];
    const { id: accountId } = await createAccount(
      a.db,
      { appid: 'wx0000000000000007', mchId: '1900000007', key: 'k'.repeat(32) },
      clock.now,
    );
    const auth = { accountId, livemode: false };
    await createWebhookEndpoint(a, auth, { url: receiver.url, enabled_events: ['*'] });
    return {
      a,
      b,
      clock,
      auth,
      receiver,
      event: (n: number) =>
        recordEvent(
          a.db,
          { accountId, livemode: false, type: 'test.lease', objectId: null, data: { n } },
          clock.now,
        ),
      /** Every delivery's attempt count is the number of attempts logged for it. */
      async assertAttemptsMatchLog() {
        const deliveries = await a.db.selectFrom('webhook_deliveries').select(['id', 'attempts']).execute();
        const log = await a.db.selectFrom('webhook_attempts').select('delivery_id').execute();
        for (const d of deliveries)
          assert.equal(d.attempts, log.filter((l) => l.delivery_id === d.id).length, `attempts of ${d.id}`);
      },
      delivery: (eventId: string) =>
        a.db
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('event_id', '=', eventId)
          .executeTakeFirstOrThrow(),
      async close() {
        await receiver.close();
        for (const g of gateways) await g.close();
        await database.drop();
      },
    };
  } catch (error) {
    await receiver.close();
    for (const g of gateways) await g.close();
    await database.drop();
    throw error;
  }
}

const deliver = (ctx: ServiceContext, options: DeliveryOptions = {}) =>
  runWebhookDeliveries(ctx, { random: () => 0.5, timeoutMs: 10_000, ...options });

for (const kind of DATABASE_KINDS) {
  describe(`webhook delivery leases on ${kind}`, () => {
    test('a pass longer than a lease: every POST is made by one worker at a time, and attempts match the log', async () => {
      const w = await twoWorkers(kind);
      try {
        const events: string[] = [];
        for (let n = 0; n < 8; n++) events.push(await w.event(n));
        // Worker A sends one at a time; each answer takes 9 s (under the 10 s timeout).
        const passA = deliver(w.a, { concurrency: 1 });
        for (let k = 1; k < 8; k++) {
          await w.receiver.arrived(k);
          w.clock.now += 9_000;
          w.receiver.posts[k - 1]!.answer(200);
        }
        // A's eighth POST started 63 s into its pass and is unanswered; worker B runs a pass now.
        await w.receiver.arrived(8);
        const passB = await deliver(w.b);
        w.receiver.posts[7]!.answer(200);
        const resultA = await passA;
        assert.deepEqual(
          w.receiver.overlaps,
          [],
          'no delivery was POSTed while its earlier POST was unanswered',
        );
        assert.equal(passB.attempted, 0, 'B had nothing to send: A held what it was sending');
        assert.deepEqual(resultA, { attempted: 8, succeeded: 8 });
        for (const id of events) {
          assert.equal(w.receiver.count(id), 1, `${id} POSTed once`);
          assert.equal((await w.delivery(id)).status, 'succeeded');
        }
        await w.assertAttemptsMatchLog();
      } finally {
        await w.close();
      }
    });

    test('a pass takes at most `limit` deliveries; the rest stay free for other workers', async () => {
      // On a fresh PostgreSQL table the claim's locking SELECT, run as a subquery of the UPDATE, can be planned as
      // a nested loop that runs it again for every row and so takes every due delivery.
      const w = await twoWorkers(kind);
      try {
        for (let n = 0; n < 8; n++) await w.event(n);
        w.receiver.state.holding = false;
        assert.deepEqual(await deliver(w.a, { limit: 3 }), { attempted: 3, succeeded: 3 });
        assert.equal(w.receiver.posts.length, 3);
        const rest = await w.a.db
          .selectFrom('webhook_deliveries')
          .select(['status', 'lease_until'])
          .where('status', '=', 'pending')
          .execute();
        assert.deepEqual(rest, Array(5).fill({ status: 'pending', lease_until: null }));
        assert.deepEqual(await deliver(w.b), { attempted: 5, succeeded: 5 });
        await w.assertAttemptsMatchLog();
      } finally {
        await w.close();
      }
    });

    test('a pass holds only the deliveries it is sending; another worker sends the rest meanwhile', async () => {
      const w = await twoWorkers(kind);
      try {
        const events: string[] = [];
        for (let n = 0; n < 3; n++) events.push(await w.event(n));
        const passA = deliver(w.a, { concurrency: 1 });
        await w.receiver.arrived(1);
        w.receiver.state.holding = false;
        const passB = await deliver(w.b);
        assert.deepEqual(passB, { attempted: 2, succeeded: 2 });
        w.receiver.posts[0]!.answer(200);
        assert.deepEqual(await passA, { attempted: 1, succeeded: 1 });
        assert.deepEqual(w.receiver.overlaps, []);
        for (const id of events) assert.equal(w.receiver.count(id), 1, `${id} POSTed once`);
        await w.assertAttemptsMatchLog();
      } finally {
        await w.close();
      }
    });

    test("a worker stuck past its lease: another takes the delivery over, and the stuck one's late answer is counted but changes nothing", async () => {
      const w = await twoWorkers(kind);
      try {
        const id = await w.event(0);
        const passA = deliver(w.a);
        await w.receiver.arrived(1);
        // A is stuck (or gone) long past its attempt's timeout; its lease has ended.
        w.clock.now += 10 * 60_000;
        w.receiver.state.holding = false;
        assert.deepEqual(await deliver(w.b), { attempted: 1, succeeded: 1 });
        assert.equal((await w.delivery(id)).status, 'succeeded');
        // A's POST finally gets an answer, a failure: B's success stands, the attempt is still logged and counted.
        w.receiver.posts[0]!.answer(500);
        await passA;
        const delivery = await w.delivery(id);
        assert.equal(delivery.status, 'succeeded');
        assert.equal(delivery.lease_until, null);
        assert.equal(delivery.attempts, 2);
        await w.assertAttemptsMatchLog();
        const endpoint = await w.a.db.selectFrom('webhook_endpoints').selectAll().executeTakeFirstOrThrow();
        assert.equal(endpoint.failing_since, null, 'a stale failure does not mark the endpoint failing');
        assert.equal(endpoint.status, 'enabled');
      } finally {
        await w.close();
      }
    });

    test('a retry asked for while the delivery is being POSTed waits for that attempt, then sends it again', async () => {
      const w = await twoWorkers(kind);
      try {
        const id = await w.event(0);
        const passA = deliver(w.a);
        await w.receiver.arrived(1);
        w.clock.now += 2_000;
        await retryEvent(w.b, w.auth, id);
        w.receiver.state.holding = false;
        // B runs a pass during A's attempt: the delivery is still A's.
        assert.equal((await deliver(w.b)).attempted, 0);
        assert.equal(w.receiver.posts.length, 1);
        w.receiver.posts[0]!.answer(200);
        await passA;
        // The retry was not lost: the delivery is sent again once the first attempt ended.
        await deliver(w.b);
        assert.deepEqual(w.receiver.overlaps, []);
        assert.equal(w.receiver.count(id), 2);
        const delivery = await w.delivery(id);
        assert.equal(delivery.status, 'succeeded');
        assert.equal(delivery.attempts, 2);
        await w.assertAttemptsMatchLog();
        // Nothing more is due.
        assert.equal((await deliver(w.b)).attempted, 0);
        assert.equal(w.receiver.count(id), 2);
      } finally {
        await w.close();
      }
    });
  });
}
