/**
 * Where the PostgreSQL tests get a database: the real server named by DATABASE_URL (CI sets
 * it), else PGlite in-process, so `npm test` passes on a machine with no server. The server is
 * shared by every test run, so each run works in a schema of its own and drops it at the end.
 */
import { randomBytes } from 'node:crypto';
import type { SqlClient } from '../../src/postgres/index.js';

/** A database for one test file. */
export interface TestDatabase {
  /** 'postgres' (a real server through pg.Pool) or 'pglite'. */
  readonly kind: 'postgres' | 'pglite';
  readonly client: SqlClient;
  /** A schema made for this run (dropped by close()). */
  readonly schema: string;
  /** The server's URL, for child processes (undefined with PGlite). */
  readonly url: string | undefined;
  /** A fresh table name, unique within the schema. */
  table(prefix?: string): string;
  close(): Promise<void>;
}

export const DATABASE_URL = process.env.DATABASE_URL || undefined;

/** Opens the test database and creates this run's schema. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const schema = `kvtest_${process.pid}_${randomBytes(4).toString('hex')}`;
  let n = 0;
  const table = (prefix = 't'): string => `${prefix}_${n++}_${randomBytes(3).toString('hex')}`;
  if (DATABASE_URL !== undefined) {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    pool.on('error', () => undefined);
    await pool.query(`CREATE SCHEMA "${schema}"`);
    return {
      kind: 'postgres', client: pool, schema, url: DATABASE_URL, table,
      async close() {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      },
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite();
  await db.query(`CREATE SCHEMA "${schema}"`);
  return { kind: 'pglite', client: db, schema, url: undefined, table, close: () => db.close() };
}
