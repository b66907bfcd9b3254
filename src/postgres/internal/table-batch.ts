/**
 * One batch of rewrapTable, inside the caller's transaction: claim rows with
 * `FOR UPDATE SKIP LOCKED` in id order, re-wrap their envelope columns in memory, and write them
 * back with `UPDATE … FROM (VALUES …)` (one statement per 60,000 bind parameters) that changes a
 * row only if every column still has the md5 it was read with.
 *
 * @module
 * @internal
 */
import type { EnvelopeRewrapper } from '../../rewrap/internal/envelope-item.js';
import { namesTargetsSql } from './kid-filter.js';
import { type SqlClient, runQuery } from './sql-client.js';
import type { TableShape } from './table-columns.js';

/** A claimed row: its id as text, each column's value (or null) and md5. */
export interface ClaimedRow {
  readonly id: string;
  readonly values: readonly (Uint8Array | string | null)[];
  readonly md5s: readonly (string | null)[];
}

/**
 * Claims up to `limit` rows that still need work (not in `excluded`), in id order after `after`
 * (a worker's cursor: without it every claim would rescan the finished part of the table).
 */
export async function claimBatch(tx: SqlClient, shape: TableShape, kekIds: readonly string[], excluded: readonly string[], limit: number, after: string | undefined): Promise<ClaimedRow[]> {
  const params: unknown[] = [];
  const pending = shape.columns.map((c) => `(t.${c.quoted} IS NOT NULL AND NOT ${namesTargetsSql(`t.${c.quoted}`, c.storage, kekIds, params)})`).join(' OR ');
  let cursor = '';
  if (after !== undefined) {
    params.push(after);
    cursor = ` AND t.${shape.id.quoted} > $${params.length}::${shape.id.type}`;
  }
  params.push(excluded);
  const select = shape.columns.map((c, i) => `t.${c.quoted} AS v${i}, md5(t.${c.quoted}) AS h${i}`).join(', ');
  // ORDER BY the table's column (t.id), never the output's `id` (its text: a sort of every
  // remaining row per claim, in an order the cursor does not follow).
  const { rows } = await runQuery<Record<string, unknown>>(
    tx,
    `SELECT t.${shape.id.quoted}::text AS id, ${select} FROM ${shape.table} AS t
      WHERE (${pending})${cursor} AND NOT (t.${shape.id.quoted}::text = ANY($${params.length}::text[]))
      ORDER BY t.${shape.id.quoted} LIMIT ${limit} FOR UPDATE OF t SKIP LOCKED`,
    params,
  );
  return rows.map((r) => ({
    id: String(r.id),
    values: shape.columns.map((_, i) => (r[`v${i}`] ?? null) as Uint8Array | string | null),
    md5s: shape.columns.map((_, i) => (r[`h${i}`] ?? null) as string | null),
  }));
}

/** What one batch did. */
export interface BatchOutcome {
  readonly rewrapped: number;
  readonly skipped: number;
  readonly failed: { id: string; column: string; code: string; message: string }[];
}

/** Re-wraps the claimed rows and writes the changed ones; returns the counts. */
export async function writeBatch(tx: SqlClient, shape: TableShape, rows: readonly ClaimedRow[], rewrapper: EnvelopeRewrapper, signal: AbortSignal): Promise<BatchOutcome> {
  const failed: BatchOutcome['failed'] = [];
  const ids: string[] = [];
  const columns: (Uint8Array | string | null)[][] = shape.columns.map(() => []);
  const md5s: (string | null)[][] = shape.columns.map(() => []);
  let skipped = 0;
  for (const row of rows) {
    const next: (Uint8Array | string | null)[] = [];
    let changed = false;
    for (let i = 0; i < shape.columns.length; i++) {
      const value = row.values[i];
      if (value === null || value === undefined) {
        next.push(null);
        continue;
      }
      const text = typeof value === 'string' ? value : undefined;
      const envelope = text === undefined ? (value as Uint8Array) : decodeBase64(text);
      const result = envelope === undefined ? undefined : await rewrapper.process({ id: row.id, envelope }, signal);
      if (result === undefined || result.status === 'failed') {
        const error = result?.status === 'failed' ? result.error : undefined;
        failed.push({ id: row.id, column: shape.columns[i]!.name, code: error?.code ?? 'ERR_ENVELOPE_MALFORMED', message: error?.message ?? 'column text is not base64' });
        next.push(null);
      } else if (result.status === 'rewrapped') {
        next.push(text === undefined ? result.envelope : encodeLike(result.envelope, text));
        changed = true;
      } else {
        next.push(null);
      }
    }
    if (!changed) {
      skipped++;
      continue;
    }
    ids.push(row.id);
    next.forEach((v, i) => {
      columns[i]!.push(v);
      md5s[i]!.push(v === null ? null : row.md5s[i]!);
    });
  }
  if (ids.length === 0) return { rewrapped: 0, skipped, failed };
  // One parameter per cell (node-postgres sends bytea as binary: an array parameter would go as
  // hex text, twice the bytes to send and parse); chunks stay under the protocol's 65,535.
  const perRow = 1 + 2 * shape.columns.length;
  const rowsPerStatement = Math.max(1, Math.floor(MAX_PARAMETERS / perRow));
  const vcols = ['id', ...shape.columns.flatMap((_, i) => [`n${i}`, `h${i}`])];
  const sets = shape.columns.map((c, i) => `${c.quoted} = COALESCE(v.n${i}, t.${c.quoted})`).join(', ');
  const unchanged = shape.columns.map((c, i) => `(v.h${i} IS NULL OR md5(t.${c.quoted}) = v.h${i})`).join(' AND ');
  let written = 0;
  for (let start = 0; start < ids.length; start += rowsPerStatement) {
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (let r = start; r < Math.min(ids.length, start + rowsPerStatement); r++) {
      const cells = [`$${params.push(ids[r])}::text`];
      shape.columns.forEach((c, i) => {
        cells.push(`$${params.push(columns[i]![r])}::${c.storage === 'bytea' ? 'bytea' : 'text'}`, `$${params.push(md5s[i]![r])}::text`);
      });
      tuples.push(`(${cells.join(', ')})`);
    }
    const { rows } = await runQuery(
      tx,
      `UPDATE ${shape.table} AS t SET ${sets} FROM (VALUES ${tuples.join(', ')}) AS v(${vcols.join(', ')})
        WHERE t.${shape.id.quoted} = v.id::${shape.id.type} AND ${unchanged} RETURNING 1`,
      params,
    );
    written += rows.length;
  }
  return { rewrapped: written, skipped: skipped + (ids.length - written), failed };
}

/** Bind parameters per statement: the protocol's limit is 65,535. */
const MAX_PARAMETERS = 60_000;


const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeBase64(text: string): Uint8Array | undefined {
  if (!STANDARD.test(text) && !URL_SAFE.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Base64 in the alphabet and padding style of `original`. */
function encodeLike(bytes: Uint8Array, original: string): string {
  const urlSafe = /[-_]/.test(original) || (!/[+/=]/.test(original) && original.length % 4 !== 0);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return urlSafe ? b.toString('base64url') : b.toString('base64');
}
