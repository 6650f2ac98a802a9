// The data layer: connection by DATABASE_URL, schema types and migrations.
export { type Connection, connect, type DialectName, dialectOf } from './connect.js';
export { migrate } from './migrations.js';
export type * from './schema.js';
