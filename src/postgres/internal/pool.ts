/**
 * The `pg.Pool` a store makes from a connection string. `pg` is loaded lazily through
 * `createRequire`, so `kv-envelope/postgres` can be imported (e.g. for PGlite) without it.
 *
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import type { SqlClient } from './sql-client.js';

const requireFromHere = createRequire(import.meta.url);

/** A pool for `connectionString`; idle connection errors are swallowed (the next query reconnects). */
export function openPool(connectionString: string): SqlClient {
  const pg = requireFromHere('pg') as { Pool: new (o: { connectionString: string; max?: number }) => SqlClient & { on(e: string, f: (err: unknown) => void): void } };
  const pool = new pg.Pool({ connectionString, max: 10 });
  // A backend that dies while a connection is idle emits 'error' on the pool; unhandled, it would crash the process.
  pool.on('error', () => undefined);
  return pool;
}
