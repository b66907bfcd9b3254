/**
 * `kv-envelope rewrap --database-url URL --table T …`: re-wrap the envelope columns of a
 * PostgreSQL table in place (run it in as many processes as you like), or with `--key-store T`
 * the DEK records of a PostgresKeyStore (field mode: rows never change).
 */
import { rewrapKeyStore } from '../../rewrap/index.js';
import { PostgresKeyStore, rewrapTable } from '../../postgres/index.js';
import { quoteIdentifier } from '../../postgres/internal/identifiers.js';
import { escapeUntrusted } from '../../internal/escape.js';
import type { KeyEncryptionKey } from '../../keys/kek.js';
import { intOption, parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import type { VaultContext } from '../vault-context.js';

export const REWRAP_TABLE_HELP = `Usage: kv-envelope rewrap --database-url URL --table [SCHEMA.]TABLE --id-column ID --column C [--column C2] --key NAME [options]
       kv-envelope rewrap --database-url URL --key-store [SCHEMA.]TABLE --key NAME

Re-wraps envelope columns (bytea, or text holding base64) of a PostgreSQL table in place under
the latest version of vault key NAME. Start the same command in any number of processes, on one
machine or many: each claims batches of rows with SELECT … FOR UPDATE SKIP LOCKED, writes a row
only if it is unchanged since it was read, and commits per batch. A process killed at any point
loses nothing; its rows go to the others (or to a rerun). Each distinct data key costs one vault
unwrap per process. At the end it counts the rows still under old versions: 0 means the old key
versions can be disabled. Rows that are not envelopes or not under a key you hold are reported
with their id and left alone (exit 1).

Field-mode columns (FieldEncryptor) never need re-writing: they name a key-store record. Re-wrap
the records instead, with --key-store (the PostgresKeyStore table, default kv_envelope_dek_records).

Options:
  --database-url URL   PostgreSQL connection string (or $DATABASE_URL)
  --table T            the table, optionally schema-qualified
  --id-column ID       its primary key column
  --column C           an envelope column (repeatable)
  --key-store T        re-wrap the DEK records of this PostgresKeyStore table instead
  --key NAME           the key to re-wrap under (its latest enabled version)
  --from NAME          a key the envelopes are under now, if not NAME (repeatable)
  --batch-size N       rows per transaction (default 200)
  --json               JSON output (progress as JSON lines on stderr)

Exit codes: 0 done (0 rows left), 1 some rows failed or are left, 2 usage error.`;

const OPTIONS = {
  key: { type: 'string' }, from: { type: 'string', multiple: true }, 'database-url': { type: 'string' }, table: { type: 'string' },
  'id-column': { type: 'string' }, column: { type: 'string', multiple: true }, 'key-store': { type: 'string' }, 'batch-size': { type: 'string' },
} as const;

/** True when `argv` asks for the database mode. */
export function isTableRewrap(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--database-url' || a.startsWith('--database-url=') || a === '--key-store' || a.startsWith('--key-store='));
}

export async function rewrapTableCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const { values } = parse(argv, OPTIONS, 'rewrap');
  if (values.help) {
    process.stdout.write(`${REWRAP_TABLE_HELP}\n`);
    return 0;
  }
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (url === undefined) throw new UsageError('rewrap needs --database-url URL (or $DATABASE_URL) for a table (see: kv-envelope rewrap --help)');
  if (values.key === undefined) throw new UsageError('rewrap needs --key NAME (see: kv-envelope rewrap --help)');
  const storeTable = values['key-store'];
  if (storeTable === undefined && (values.table === undefined || values['id-column'] === undefined || (values.column ?? []).length === 0)) {
    throw new UsageError('rewrap of a table needs --table, --id-column and at least one --column (see: kv-envelope rewrap --help)');
  }
  const batchSize = intOption(values['batch-size'], 'batch-size');
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  try {
    const v = await vault();
    const to = v.kek(values.key);
    const from = [to, ...(values.from ?? []).map((n) => v.kek(n))];
    if (storeTable !== undefined) return await rewrapRecords(pool, storeTable, to, from, out);
    const fieldMode = await detectFieldMode(pool, values.table!, values.column!);
    if (fieldMode !== undefined) {
      throw new UsageError(`column ${fieldMode} holds field ciphertexts (FieldEncryptor): rows never change on rotation. Re-wrap the key-store records instead: kv-envelope rewrap --database-url URL --key-store [SCHEMA.]TABLE --key ${values.key}`);
    }
    const result = await rewrapTable({
      client: pool, table: values.table!, idColumn: values['id-column']!, columns: values.column!, to, from,
      ...(batchSize === undefined ? {} : { batchSize }),
      onProgress: (p) => {
        if (out.json || !process.stderr.isTTY) process.stderr.write(`${JSON.stringify({ progress: p })}\n`);
        else process.stderr.write(`\r${p.rewrapped} re-wrapped here, ${p.left} left in the table, ${p.rate.toFixed(0)}/s${p.etaMs === undefined ? '' : ` eta ${Math.ceil(p.etaMs / 1000)}s`}  ${p.final ? '\n' : ''}`);
      },
    });
    for (const f of result.failed) process.stderr.write(`failed: row ${escapeUntrusted(f.id)} column ${f.column}: ${f.code} ${escapeUntrusted(f.message)}\n`);
    out.result(
      `re-wrapped ${result.rewrapped} rows in ${result.batches} batches, ${result.failed.length} failed; ${result.remaining} rows in the table still under old versions${result.remaining === 0 ? ' (safe to disable them)' : ''}`,
      { rewrapped: result.rewrapped, skipped: result.skipped, batches: result.batches, failed: result.failed, remaining: result.remaining, kekIds: result.targetKekIds },
    );
    return result.failed.length > 0 || result.remaining > 0 ? 1 : 0;
  } finally {
    await pool.end();
  }
}

async function rewrapRecords(pool: import('pg').Pool, table: string, to: KeyEncryptionKey, from: KeyEncryptionKey[], out: Output): Promise<number> {
  const [schema, name] = table.includes('.') ? table.split('.', 2) : ['public', table];
  const store = new PostgresKeyStore({ client: pool, schema, table: name });
  let rewrapped = 0;
  let skipped = 0;
  let failed = 0;
  for await (const r of rewrapKeyStore(store, { to, from })) {
    if (r.status === 'rewrapped') rewrapped++;
    else if (r.status === 'skipped') skipped++;
    else if (r.status === 'failed') {
      failed++;
      process.stderr.write(`failed: record ${escapeUntrusted(r.id)}: ${r.error.code}\n`);
    }
  }
  out.result(`re-wrapped ${rewrapped} key-store records, skipped ${skipped} (already current), failed ${failed}; no row changes`, { rewrapped, skipped, failed });
  return failed > 0 ? 1 : 0;
}

/** The first column whose values look like field ciphertexts (0xF1/0xF2), if any. */
async function detectFieldMode(pool: import('pg').Pool, table: string, columns: readonly string[]): Promise<string | undefined> {
  const [schema, name] = table.includes('.') ? table.split('.', 2) : ['public', table];
  const quoted = `${quoteIdentifier(schema, 'options.table (schema part)')}.${quoteIdentifier(name, 'options.table')}`;
  for (const c of columns) {
    const column = quoteIdentifier(c, 'options.columns');
    const { rows } = await pool.query(`SELECT ${column} AS v FROM ${quoted} WHERE ${column} IS NOT NULL LIMIT 1`).catch(() => ({ rows: [] as { v: unknown }[] }));
    const v = rows[0]?.v;
    const first = v instanceof Uint8Array ? v[0] : typeof v === 'string' ? Buffer.from(v.slice(0, 4), 'base64')[0] : undefined;
    if (first === 0xf1 || first === 0xf2) return c;
  }
  return undefined;
}
