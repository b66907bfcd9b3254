/**
 * rewrapTable: re-wrap the envelope columns of a PostgreSQL table in place, with any number of
 * workers (processes, machines) at once. PostgreSQL's row locks are the only coordinator.
 *
 * @module
 */
import { assertPositiveInt, assertString } from '../internal/bytes.js';
import type { KeyEncryptionKey } from '../keys/kek.js';
import { EnvelopeRewrapper } from '../rewrap/internal/envelope-item.js';
import { resolveRewrapOptions } from '../rewrap/options.js';
import { namesTargetsSql } from './internal/kid-filter.js';
import { type SqlClient, isSqlClient, runQuery } from './internal/sql-client.js';
import { type TableShape, describeTable } from './internal/table-columns.js';
import { withTransaction } from './internal/transaction.js';
import { claimBatch, writeBatch } from './internal/table-batch.js';

/** Options of {@link rewrapTable}. */
export interface RewrapTableOptions {
  /** A `pg.Pool` (one connection is held per batch), `pg.Client`, or PGlite. */
  client: SqlClient;
  /** `table` or `schema.table` (lowercase identifiers). */
  table: string;
  /** The primary key (or any unique, indexed) column. */
  idColumn: string;
  /** The envelope columns: `bytea`, or text holding base64 / base64url. NULLs are left alone. */
  columns: readonly string[];
  /** The KEK(s) to re-wrap under (refreshed once at the start: new wraps name the latest version). */
  to: KeyEncryptionKey | readonly KeyEncryptionKey[];
  /** KEKs allowed to unwrap the current wrapped keys (default `to`). */
  from?: KeyEncryptionKey | readonly KeyEncryptionKey[];
  /** Rows claimed (locked) per transaction. Default 200. */
  batchSize?: number;
  /** Distinct wrapped DEKs this worker remembers (default 10,000): beyond it, a DEK met again may cost another unwrap. */
  maxCachedDeks?: number;
  /** Stops after the batch in progress (its transaction commits or rolls back, nothing half-written). */
  signal?: AbortSignal;
  /** Progress from the table itself, at most every `progressIntervalMs` and once at the end. */
  onProgress?: (progress: RewrapTableProgress) => void;
  /** Default 5,000 ms (each report counts the rows left: one scan of the table). */
  progressIntervalMs?: number;
}

/** Progress of one worker, with the whole table's remaining count. */
export interface RewrapTableProgress {
  /** Rows this worker re-wrapped. */
  readonly rewrapped: number;
  /** Rows (any worker's) whose envelopes do not yet all name the targets, failures included. */
  readonly left: number;
  /** This worker's rows per second since it started. */
  readonly rate: number;
  /** Estimated ms until `left` reaches 0 at this worker's rate (undefined when unknown). */
  readonly etaMs: number | undefined;
  readonly failed: number;
  readonly final: boolean;
}

/** A row this worker could not re-wrap (left unchanged). */
export interface RewrapTableFailure {
  readonly id: string;
  readonly column: string;
  readonly code: string;
  readonly message: string;
}

/** What one worker did, and what the table looks like at the end. */
export interface RewrapTableResult {
  /** Rows this worker changed (each row once, all its envelope columns in one UPDATE). */
  readonly rewrapped: number;
  /** Rows this worker claimed and found already current, or that changed under it. */
  readonly skipped: number;
  readonly failed: readonly RewrapTableFailure[];
  /** Batches (transactions) this worker committed. */
  readonly batches: number;
  /** Verification: rows in the whole table still not under the targets (0 lets you disable the old versions). */
  readonly remaining: number;
  /** The kekIds new wraps name, in `to` order. */
  readonly targetKekIds: readonly string[];
}

/**
 * Re-wraps every envelope column of `table` under `to`, in place; payload bytes unchanged.
 * Run it in as many processes as you like, at once or one after another:
 *
 * - Each worker claims `batchSize` rows that do not yet name the target versions with
 *   `SELECT … FOR UPDATE SKIP LOCKED` in a transaction, re-wraps them, and writes each row with
 *   `UPDATE … WHERE md5(column) = <md5 of what it read>` before COMMIT. Rows locked by another
 *   worker are skipped, not waited for.
 * - A worker killed at any point loses nothing: its transaction never commits, PostgreSQL
 *   releases its row locks when the connection dies, and the rows go to whoever claims next.
 * - Vault unwraps ≤ one per (worker, distinct DEK); new RSA wraps are local. A DEK left under
 *   several wrapped keys by an earlier multi-worker run (RSA-OAEP wraps are randomized) is
 *   recognized by its key commitment, not unwrapped again, while its rows are not scattered
 *   among more than 16 other DEKs in id order; at worst one unwrap per distinct wrapped key.
 * - Rows that fail (not an envelope, no matching KEK, wrong DEK) are reported with their id,
 *   left unchanged, and not claimed again by this worker.
 * - The result ends with a verification count of rows still under old versions.
 *
 * Field-mode columns (`FieldEncryptor`) never need this: their rows name a key-store record;
 * re-wrap the records with `rewrapKeyStore(new PostgresKeyStore(…), { to })`.
 *
 * @throws {TypeError | RangeError} on invalid options, an unknown table/column, or a column type
 *   other than bytea/text.
 * @throws {EnvelopeError} when the target KEKs cannot be refreshed or probed (disabled, …).
 * @throws {KeyStoreError-like driver errors} as they come when the database fails mid-run (the
 *   batch in progress rolls back; rerun to continue).
 * @example
 * ```ts
 * import { rewrapTable } from 'kv-envelope/postgres';
 * const result = await rewrapTable({ client: pool, table: 'documents', idColumn: 'id', columns: ['body'], to: kek });
 * if (result.remaining === 0) console.log('safe to disable the old key versions');
 * ```
 */
export async function rewrapTable(options: RewrapTableOptions): Promise<RewrapTableResult> {
  const o = validate(options);
  const shape = await describeTable(o.client, o.table, o.idColumn, o.columns);
  const signal = o.signal ?? new AbortController().signal;
  const rewrapper = new EnvelopeRewrapper({ from: o.keks.from, to: o.keks.to, verify: false }, false, o.maxCachedDeks);
  await rewrapper.start(signal);
  const kekIds = rewrapper.targetKekIds;
  const state = { rewrapped: 0, skipped: 0, batches: 0, failed: [] as RewrapTableFailure[], excluded: [] as string[] };
  const started = Date.now();
  let lastReport = started;
  const report = async (final: boolean): Promise<number> => {
    const left = await countLeft(o.client, shape, kekIds);
    if (o.onProgress !== undefined) {
      const rate = state.rewrapped / Math.max((Date.now() - started) / 1000, 1e-3);
      o.onProgress({ rewrapped: state.rewrapped, left, rate, etaMs: rate > 0 ? (left / rate) * 1000 : undefined, failed: state.failed.length, final });
    }
    return left;
  };
  // The cursor makes each claim start after this worker's last batch. When it reaches the end,
  // one more pass from the start picks up rows skipped while another worker held them (e.g. a
  // worker that was killed: its locks are gone with its connection).
  let after: string | undefined;
  let fromStart = false;
  try {
    for (;;) {
      if (o.signal?.aborted) break;
      const claimed = await withTransaction(o.client, async (tx) => {
        const rows = await claimBatch(tx, shape, kekIds, state.excluded, o.batchSize, after);
        if (rows.length === 0) return 0;
        after = rows[rows.length - 1]!.id;
        const outcome = await writeBatch(tx, shape, rows, rewrapper, signal);
        state.rewrapped += outcome.rewrapped;
        state.skipped += outcome.skipped;
        for (const f of outcome.failed) {
          state.failed.push(f);
          state.excluded.push(f.id);
        }
        return rows.length;
      });
      if (claimed === 0) {
        if (after === undefined || fromStart) break;
        after = undefined;
        fromStart = true;
        continue;
      }
      fromStart = false;
      state.batches++;
      if (o.onProgress !== undefined && Date.now() - lastReport >= o.progressIntervalMs) {
        lastReport = Date.now();
        await report(false);
      }
    }
  } finally {
    rewrapper.finish();
  }
  const remaining = await report(true);
  return { rewrapped: state.rewrapped, skipped: state.skipped, failed: state.failed, batches: state.batches, remaining, targetKekIds: kekIds };
}

/** Rows of `shape` with a non-NULL envelope column that does not name every target. */
async function countLeft(client: SqlClient, shape: TableShape, kekIds: readonly string[]): Promise<number> {
  const params: unknown[] = [];
  const pending = shape.columns.map((c) => `(${c.quoted} IS NOT NULL AND NOT ${namesTargetsSql(c.quoted, c.storage, kekIds, params)})`).join(' OR ');
  const { rows } = await runQuery<{ n: string | number }>(client, `SELECT count(*)::text AS n FROM ${shape.table} WHERE ${pending}`, params);
  return Number(rows[0]?.n ?? 0);
}

interface Resolved {
  readonly client: SqlClient;
  readonly table: string;
  readonly idColumn: string;
  readonly columns: readonly string[];
  readonly keks: { readonly to: readonly KeyEncryptionKey[]; readonly from: readonly KeyEncryptionKey[] };
  readonly batchSize: number;
  readonly maxCachedDeks: number;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((p: RewrapTableProgress) => void) | undefined;
  readonly progressIntervalMs: number;
}

function validate(options: RewrapTableOptions): Resolved {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (!isSqlClient(options.client)) throw new TypeError('options.client must have a query(text, params) method (pg.Pool, pg.Client or PGlite)');
  assertString(options.table, 'options.table', 200);
  assertString(options.idColumn, 'options.idColumn', 63);
  if (!Array.isArray(options.columns) || options.columns.length === 0) throw new TypeError('options.columns must be a non-empty array of column names');
  const common = resolveRewrapOptions({ to: options.to, ...(options.from === undefined ? {} : { from: options.from }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const batchSize = options.batchSize ?? 200;
  assertPositiveInt(batchSize, 'options.batchSize');
  const maxCachedDeks = options.maxCachedDeks ?? 10_000;
  assertPositiveInt(maxCachedDeks, 'options.maxCachedDeks');
  const progressIntervalMs = options.progressIntervalMs ?? 5_000;
  assertPositiveInt(progressIntervalMs, 'options.progressIntervalMs');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('options.onProgress must be a function');
  return {
    client: options.client, table: options.table, idColumn: options.idColumn, columns: [...options.columns],
    keks: { to: common.to, from: common.from }, batchSize, maxCachedDeks, signal: common.signal,
    onProgress: options.onProgress, progressIntervalMs,
  };
}

