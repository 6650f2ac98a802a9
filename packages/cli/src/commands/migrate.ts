// `wxpay migrate`: brings the database named by DATABASE_URL up to date, as the gateway does on start.
import { connect, loadConfig, migrate } from '@wxpay/gateway';
import { unreachableDatabase } from '../start-errors.js';

export async function runMigrate(): Promise<void> {
  const { databaseUrl } = loadConfig(process.env);
  const connection = connect(databaseUrl);
  try {
    const applied = await migrate(connection.db);
    process.stdout.write(
      applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n',
    );
  } catch (error) {
    throw unreachableDatabase(error);
  } finally {
    await connection.close();
  }
}
