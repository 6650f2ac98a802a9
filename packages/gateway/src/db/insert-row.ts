// One-row inserts on hot paths, without rebuilding the query each time.
//
// Kysely builds and freezes an operation tree and compiles it to SQL on every call: for the gateway's widest
// inserts (an intent, an event) that costs more CPU than SQLite spends storing the row. The SQL of a one-row
// insert depends only on the dialect, the table and the column list, so it is compiled by Kysely once and the
// next rows are bound to the same text. A row holding anything but plain values (an SQL expression, a Date)
// goes through Kysely as usual.
import { CompiledQuery, type Insertable } from 'kysely';
import type { Database, Db } from './schema.js';

type Plain = string | number | bigint | null;

const compiled = new WeakMap<object, Map<string, string>>();

function isPlain(value: unknown): value is Plain {
  return value === null || ['string', 'number', 'bigint'].includes(typeof value);
}

export async function insertRow<T extends keyof Database & string>(
  db: Db,
  table: T,
  row: Insertable<Database[T]>,
): Promise<void> {
  const columns: string[] = [];
  const values: Plain[] = [];
  for (const [column, value] of Object.entries(row)) {
    // Kysely leaves undefined columns out; so does the compiled text.
    if (value === undefined) continue;
    if (!isPlain(value)) {
      await db.insertInto(table).values(row).execute();
      return;
    }
    columns.push(column);
    values.push(value);
  }
  // The adapter is the dialect's, shared by the Kysely instance and its transactions.
  const dialect = db.getExecutor().adapter;
  let texts = compiled.get(dialect);
  if (!texts) {
    texts = new Map();
    compiled.set(dialect, texts);
  }
  const key = `${table}(${columns.join(',')})`;
  let text = texts.get(key);
  if (text === undefined) {
    const query = db.insertInto(table).values(row).compile();
    // Bind by position only when Kysely's own parameters are exactly the row's values, in column order.
    const sameOrder =
      query.parameters.length === values.length && query.parameters.every((p, i) => p === values[i]);
    if (!sameOrder) {
      await db.executeQuery(query);
      return;
    }
    text = query.sql;
    texts.set(key, text);
  }
  await db.executeQuery(CompiledQuery.raw(text, values));
}
