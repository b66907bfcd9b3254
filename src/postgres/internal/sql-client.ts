/**
 * The one thing kv-envelope asks of a database driver: `query(text, params)`. node-postgres'
 * `Pool` / `Client` and PGlite both answer it (their result shapes differ slightly; this module
 * evens them out), so the key store, blind indexes and table re-wrap run on either.
 *
 * @module
 * @internal
 */
import { KeyStoreError } from '../../errors.js';

/** A node-postgres `Pool` or `Client`, a PGlite instance, or anything with the same `query`. */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null; affectedRows?: number }>;
}

/** Rows and the number of rows a statement changed. */
export interface SqlResult<Row> {
  readonly rows: Row[];
  readonly changed: number;
}

/** True when `value` has a callable `query` (a pg Pool/Client or PGlite). */
export function isSqlClient(value: unknown): value is SqlClient {
  return typeof value === 'object' && value !== null && typeof (value as { query?: unknown }).query === 'function';
}

/** Runs one statement and normalizes the result of either driver. */
export async function runQuery<Row>(client: SqlClient, text: string, params: unknown[] = []): Promise<SqlResult<Row>> {
  const r = await client.query(text, params);
  const changed = typeof r.affectedRows === 'number' && r.affectedRows > 0 ? r.affectedRows : (r.rowCount ?? 0);
  return { rows: r.rows as Row[], changed };
}

/**
 * Runs several statements as ONE implicit transaction: a multi-statement simple query is atomic
 * in PostgreSQL (protocol §Simple Query) unless it contains its own BEGIN/COMMIT. PGlite takes
 * multi-statement text through `exec`; node-postgres through `query` without parameters.
 */
export async function runScript(client: SqlClient, script: string): Promise<void> {
  const exec = (client as { exec?: unknown }).exec;
  if (typeof exec === 'function') await (exec as (s: string) => Promise<unknown>).call(client, script);
  else await client.query(script);
}

/** SQLSTATE codes this package reacts to. */
const UNDEFINED_TABLE = '42P01';
const UNDEFINED_SCHEMA = '3F000';

/**
 * A driver error as a KeyStoreError: a missing table says to run `migrate()`; anything else
 * (connection refused or lost, timeouts) keeps the driver error as `cause`. SQL text and
 * parameters are never put in the message.
 */
export function storeError(err: unknown, what: string, table: string): KeyStoreError {
  const code = (err as { code?: unknown })?.code;
  if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) {
    return new KeyStoreError(`${what}: the key store table ${table} does not exist; run \`await store.migrate()\` once (or \`kv-envelope db migrate\`)`, { cause: err });
  }
  const reason = typeof code === 'string' ? ` (${code})` : '';
  return new KeyStoreError(`${what} failed${reason}: ${describe(err)}`, { cause: err });
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Driver messages can quote values from the statement; keep the first line, bounded.
  return message.split('\n', 1)[0]!.slice(0, 200);
}
