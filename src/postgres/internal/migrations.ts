/**
 * The key store's SQL, versioned. Every step is idempotent (`IF NOT EXISTS`), and `migrate()`
 * runs the whole list as one implicit transaction behind a transaction-scoped advisory lock, so
 * two processes migrating at once serialize and the second finds nothing to do. The applied
 * version is recorded in `kv_envelope_schema` (one row per table), and a store refuses a table
 * migrated by a newer kv-envelope than itself rather than guess at its layout.
 *
 * @module
 * @internal
 */

/** The newest schema version this code writes and reads. */
export const KEY_STORE_SCHEMA_VERSION = 1;

/** The versioned steps: index i brings the table from version i to i + 1. */
const STEPS: readonly ((table: string) => string)[] = [
  // v1: one row per DEK record. `record` is the authoritative encoded record (internal/codec.ts,
  // the same bytes FileKeyStore writes); the other columns index it. `seq` gives list() a
  // stable order so re-wrap of records can checkpoint.
  (table) => `
    CREATE TABLE IF NOT EXISTS ${table} (
      seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
      key_ref text PRIMARY KEY CHECK (key_ref ~ '^[0-9a-f]{16}$'),
      name text UNIQUE,
      kind text NOT NULL CHECK (kind IN ('gcm', 'siv')),
      revision integer NOT NULL CHECK (revision > 0),
      record bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
];

/** The migration script for `schema`.`table` (both already quoted). */
export function migrationScript(quotedSchema: string, quotedTable: string, lockKey: string): string {
  const table = `${quotedSchema}.${quotedTable}`;
  const meta = `${quotedSchema}."kv_envelope_schema"`;
  return [
    `SELECT pg_advisory_xact_lock(hashtext(${literal(lockKey)}))`,
    `CREATE SCHEMA IF NOT EXISTS ${quotedSchema}`,
    `CREATE TABLE IF NOT EXISTS ${meta} (table_name text PRIMARY KEY, version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())`,
    ...STEPS.map((step) => step(table)),
    `INSERT INTO ${meta} (table_name, version) VALUES (${literal(quotedTable)}, ${KEY_STORE_SCHEMA_VERSION})
       ON CONFLICT (table_name) DO UPDATE SET version = GREATEST(${meta}.version, EXCLUDED.version), migrated_at = now()`,
  ].join(';\n');
}

/** The query reading the recorded version (undefined row: never migrated). */
export function versionQuery(quotedSchema: string): string {
  return `SELECT version FROM ${quotedSchema}."kv_envelope_schema" WHERE table_name = $1`;
}

/** A SQL string literal of already-validated identifier text (no quotes inside to escape). */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
