// SQLite's plan of the queries a piece of code builds: `EXPLAIN QUERY PLAN` of each, as one line of details.
import { CompiledQuery, createQueryId, type RootOperationNode } from 'kysely';
import type { Db } from '../../src/db/schema.ts';

/** Runs `run` on a database that records the queries it builds, and returns the plan of each, in order. */
export async function sqlitePlans(db: Db, run: (recording: Db) => Promise<unknown>): Promise<string[]> {
  const nodes: RootOperationNode[] = [];
  const recording = db.withPlugin({
    transformQuery: ({ node }) => {
      nodes.push(node);
      return node;
    },
    transformResult: async ({ result }) => result,
  });
  await run(recording);
  const plans: string[] = [];
  for (const node of nodes) {
    const compiled = recording.getExecutor().compileQuery(node, createQueryId());
    const plan = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`EXPLAIN QUERY PLAN ${compiled.sql}`, [...compiled.parameters]),
    );
    plans.push(plan.rows.map((r) => r.detail).join('; '));
  }
  return plans;
}
