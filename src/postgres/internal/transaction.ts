/**
 * One connection for one transaction, whatever the driver: a `pg.Pool` lends a client
 * (`connect()` … `release()`), a `pg.Client` is its own connection, PGlite has
 * `transaction(fn)`. Row locks (`FOR UPDATE SKIP LOCKED`) live exactly as long as the
 * transaction: if the process dies, PostgreSQL ends the transaction and the rows are free again.
 *
 * @module
 * @internal
 */
import type { SqlClient } from './sql-client.js';

interface PoolLike {
  connect(): Promise<SqlClient & { release(err?: unknown): void }>;
  totalCount?: number;
}
interface PGliteLike {
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}

/**
 * Runs `fn` inside BEGIN … COMMIT on one connection; rolls back when `fn` throws. A pool client
 * whose connection broke is released with the error, so the pool discards it.
 */
export async function withTransaction<T>(client: SqlClient, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  if (typeof (client as Partial<PGliteLike>).transaction === 'function') {
    return (client as unknown as PGliteLike).transaction(fn);
  }
  const pooled = typeof (client as Partial<PoolLike>).connect === 'function' && 'totalCount' in client;
  const conn = pooled ? await (client as unknown as PoolLike).connect() : client;
  let broken: unknown;
  try {
    await conn.query('BEGIN');
    try {
      const result = await fn(conn);
      await conn.query('COMMIT');
      return result;
    } catch (err) {
      await conn.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr;
      });
      throw err;
    }
  } finally {
    if (pooled) (conn as SqlClient & { release(err?: unknown): void }).release(broken as Error | undefined);
  }
}
