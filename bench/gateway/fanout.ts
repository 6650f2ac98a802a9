// Webhook fan-out pass time as the events outbox grows: N events already fanned out over the last 30 days, then
// 100 new ones. Reports the pass that fans the new ones out and the idle passes after it (what every worker runs
// every 5 s), each against the same passes on an empty outbox in the same run.
// Run: node --conditions=source --import tsx bench/gateway/fanout.ts [--sizes 100000,1000000 --pg ADMIN_URL]
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { fanOutEvents } from '../../packages/gateway/src/domain/webhook-deliveries.ts';
import { buildGateway, createAccount } from '../../packages/gateway/src/index.ts';
import { createTestDatabase, type DatabaseKind } from '../../packages/gateway/test/support/databases.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '0,100000,1000000' },
    pg: { type: 'string', default: '' },
  },
});
if (args.pg) process.env.WXPAY_TEST_PG_URL = args.pg;
const DAY = 24 * 3600_000;

async function measure(kind: DatabaseKind, size: number) {
  const database = await createTestDatabase(kind);
  const gateway = await buildGateway({ databaseUrl: database.url });
  const db = gateway.ctx.db;
  try {
    const { id: accountId } = await createAccount(db, {
      appid: 'wx0000000000000003',
      mchId: '1900000003',
      key: 'k'.repeat(32),
    });
    const now = Date.now();
    // The old events and their fan-out markers, in multi-row inserts inside one transaction per 50k.
    for (let start = 0; start < size; start += 50_000) {
      await db.transaction().execute(async (trx) => {
        for (let i = start; i < Math.min(size, start + 50_000); i += 500) {
          const rows = Array.from({ length: Math.min(500, size - i) }, (_, k) => ({
            id: `evt_old${String(i + k).padStart(10, '0')}`,
            account_id: accountId,
            livemode: 0,
            type: 'payment_intent.succeeded',
            object_id: 'pi_x',
            data: '{}',
            created: now - 30 * DAY + Math.floor(((i + k) / size) * 30 * DAY) - 60_000,
          }));
          await trx.insertInto('events').values(rows).execute();
          await trx
            .insertInto('event_fanouts')
            .values(rows.map((r) => ({ event_id: r.id, created: r.created })))
            .execute();
        }
      });
    }
    if (kind === 'sqlite') await sql`analyze`.execute(db);
    else await sql`analyze events`.execute(db);
    const fresh = Array.from({ length: 100 }, (_, k) => ({
      id: `evt_new${String(k).padStart(10, '0')}`,
      account_id: accountId,
      livemode: 0,
      type: 'payment_intent.succeeded',
      object_id: 'pi_y',
      data: '{}',
      created: Date.now(),
    }));
    await db.insertInto('events').values(fresh).execute();
    const timed = async () => {
      const t0 = performance.now();
      const n = await fanOutEvents(gateway.ctx);
      return { ms: performance.now() - t0, n };
    };
    const first = await timed();
    const idle: number[] = [];
    for (let i = 0; i < 5; i++) idle.push((await timed()).ms);
    idle.sort((a, b) => a - b);
    const marked = await db
      .selectFrom('event_fanouts')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return { size, firstMs: first.ms, idleMs: idle[2]!, marked: Number(marked.n) };
  } finally {
    await gateway.close();
    await database.drop();
  }
}

for (const kind of ['sqlite', ...(args.pg ? ['postgres' as const] : [])] as DatabaseKind[]) {
  const results = [];
  for (const size of args.sizes.split(',').map(Number)) results.push(await measure(kind, size));
  const base = results[0]!;
  console.log(`\n${kind}: fan-out pass (100 new events; deliveries to no endpoint)\n`);
  console.log(
    '| old events | pass with the 100 new (ms) | ÷ empty | idle pass, median of 5 (ms) | ÷ empty | markers |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results)
    console.log(
      `| ${r.size} | ${r.firstMs.toFixed(2)} | ${(r.firstMs / base.firstMs).toFixed(1)}× | ${r.idleMs.toFixed(2)} | ${(r.idleMs / base.idleMs).toFixed(1)}× | ${r.marked} |`,
    );
}
