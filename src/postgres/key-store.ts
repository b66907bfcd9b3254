/**
 * PostgresKeyStore: field-mode DEK records in the service's own PostgreSQL database, shared by
 * every process and machine of a fleet. Works on node-postgres (`pg.Pool` / `pg.Client`) and on
 * PGlite (PostgreSQL in WebAssembly, in-process).
 *
 * @module
 */
import { KeyNotFoundError, KeyStoreError } from '../errors.js';
import { assertPositiveInt, assertString } from '../internal/bytes.js';
import type { WrappedKey } from '../keys/kek.js';
import type { CreateResult, DekRecord, KeyStore, KeyStoreOptions, UpdateWrappedDeksOptions } from '../store/key-store.js';
import { decodeRecord, encodeRecord } from '../store/internal/codec.js';
import { assertKeyRef, assertRecordAuth, assertWrappedDeks, RECORD_LIMITS, toFrozenRecord, withWrappedDeks } from '../store/internal/record.js';
import { quoteIdentifier } from './internal/identifiers.js';
import { KEY_STORE_SCHEMA_VERSION, migrationScript, versionQuery } from './internal/migrations.js';
import { type SqlClient, isSqlClient, runQuery, runScript, storeError } from './internal/sql-client.js';
import { openPool } from './internal/pool.js';

/** Options of {@link PostgresKeyStore}: a client, or a connection string for a pool we own. */
export interface PostgresKeyStoreOptions {
  /** A `pg.Pool` (recommended), a `pg.Client`, or a PGlite instance. */
  client?: SqlClient;
  /** Instead of `client`: a PostgreSQL URL; the store makes (and `close()` ends) its own `pg.Pool`. */
  connectionString?: string;
  /** Schema of the table. Default `'public'`. Lowercase identifier, validated and quoted. */
  schema?: string;
  /** Table name. Default `'kv_envelope_dek_records'`. Lowercase identifier, validated and quoted. */
  table?: string;
  /** Records read per round trip by `list()`. Default 500. */
  listPageSize?: number;
}

interface RecordRow {
  readonly record: Uint8Array;
}

/**
 * A {@link KeyStore} in one PostgreSQL table. `createIfAbsent` is `INSERT … ON CONFLICT DO
 * NOTHING` against the primary key (keyRef) and a unique name, so any number of processes
 * racing on one named key end with one record; updates are compare-and-swap on `revision` in
 * one `UPDATE … WHERE revision = $n`; `list()` pages in insertion order (`seq`). Every record
 * read is decoded and validated exactly like FileKeyStore's files, and a row whose stored
 * record names another keyRef is refused.
 *
 * Errors: `KeyStoreError` (`ERR_KEY_STORE`) for anything the database says — a missing table
 * tells you to run {@link migrate}; a lost connection keeps the driver error as `cause`, and the
 * next call uses a fresh connection (a `pg.Pool` reconnects by itself).
 *
 * @throws {TypeError | RangeError} from the constructor on bad options (naming the option).
 * @example
 * ```ts
 * import pg from 'pg';
 * import { PostgresKeyStore } from 'kv-envelope/postgres';
 * const store = new PostgresKeyStore({ client: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.migrate();
 * const fields = new FieldEncryptor({ keks: kek, keyStore: store });
 * ```
 */
export class PostgresKeyStore implements KeyStore {
  /** `"schema"."table"`, quoted. */
  readonly tableName: string;
  readonly #schema: string;
  readonly #table: string;
  readonly #client: SqlClient;
  readonly #ownsClient: boolean;
  readonly #pageSize: number;

  constructor(options: PostgresKeyStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.#schema = quoteIdentifier(options.schema ?? 'public', 'options.schema');
    this.#table = quoteIdentifier(options.table ?? 'kv_envelope_dek_records', 'options.table');
    this.tableName = `${this.#schema}.${this.#table}`;
    this.#pageSize = options.listPageSize ?? 500;
    assertPositiveInt(this.#pageSize, 'options.listPageSize');
    if (options.client !== undefined) {
      if (options.connectionString !== undefined) throw new TypeError('pass options.client or options.connectionString, not both');
      if (!isSqlClient(options.client)) throw new TypeError('options.client must have a query(text, params) method (pg.Pool, pg.Client or PGlite)');
      this.#client = options.client;
      this.#ownsClient = false;
    } else {
      assertString(options.connectionString, 'options.connectionString');
      this.#client = openPool(options.connectionString);
      this.#ownsClient = true;
    }
  }

  /**
   * Creates or upgrades the table (idempotent; safe when several processes run it at once).
   * @throws {KeyStoreError} when the database fails, or the table was migrated by a newer kv-envelope.
   * @example `await store.migrate();`
   */
  async migrate(options?: KeyStoreOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    const found = await this.#schemaVersion();
    if (found !== undefined && found > KEY_STORE_SCHEMA_VERSION) {
      throw new KeyStoreError(`the key store table ${this.tableName} has schema version ${found}; this kv-envelope knows up to ${KEY_STORE_SCHEMA_VERSION}: upgrade kv-envelope`);
    }
    const lockKey = `kv-envelope/key-store:${this.tableName}`;
    await this.#run('migrate', () => runScript(this.#client, migrationScript(this.#schema, this.#table, lockKey)));
  }

  /**
   * The record with this keyRef, or undefined.
   * @throws {KeyStoreError} on a database failure or a corrupt row.
   * @throws {TypeError | RangeError} when `keyRef` is not 16 lowercase hex chars.
   * @example `const record = await store.get('0123456789abcdef');`
   */
  async get(keyRef: string, options?: KeyStoreOptions): Promise<DekRecord | undefined> {
    options?.signal?.throwIfAborted();
    assertKeyRef(keyRef);
    const { rows } = await this.#run('get', () => runQuery<RecordRow>(this.#client, `SELECT record FROM ${this.tableName} WHERE key_ref = $1`, [keyRef]));
    return rows[0] === undefined ? undefined : this.#decode(rows[0], keyRef);
  }

  /**
   * The named record, or undefined.
   * @throws {KeyStoreError} on a database failure or a corrupt row.
   * @throws {TypeError | RangeError} when `name` is not a non-empty string.
   * @example `const record = await store.getByName('customers.email');`
   */
  async getByName(name: string, options?: KeyStoreOptions): Promise<DekRecord | undefined> {
    options?.signal?.throwIfAborted();
    assertString(name, 'name', RECORD_LIMITS.maxNameLength);
    const { rows } = await this.#run('getByName', () =>
      runQuery<RecordRow & { key_ref: string }>(this.#client, `SELECT key_ref, record FROM ${this.tableName} WHERE name = $1`, [name]),
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const record = this.#decode(row, row.key_ref);
    if (record.name !== name) throw new KeyStoreError(`key store row ${row.key_ref} is indexed under another name than its record holds`);
    return record;
  }

  /**
   * Stores `record` unless its keyRef or name is taken (one `INSERT … ON CONFLICT DO NOTHING`);
   * otherwise returns the record that won, with `created: false`.
   * @throws {KeyStoreError} on a database failure.
   * @throws {TypeError | RangeError} when `record` is malformed.
   * @example `const { record, created } = await store.createIfAbsent(newRecord);`
   */
  async createIfAbsent(record: DekRecord, options?: KeyStoreOptions): Promise<CreateResult> {
    options?.signal?.throwIfAborted();
    const own = toFrozenRecord(record);
    const inserted = await this.#run('createIfAbsent', () =>
      runQuery(
        this.#client,
        `INSERT INTO ${this.tableName} (key_ref, name, kind, revision, record) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [own.keyRef, own.name ?? null, own.kind, own.revision, encodeRecord(own)],
      ),
    );
    if (inserted.changed === 1) return Object.freeze({ record: own, created: true });
    // The name wins over the keyRef, as in the other stores (a keyRef collision on a named record is redrawn by the caller).
    const winner = (own.name === undefined ? undefined : await this.getByName(own.name, options)) ?? (await this.get(own.keyRef, options));
    if (winner === undefined) throw new KeyStoreError(`createIfAbsent of ${own.keyRef} conflicted with a row that is gone`);
    return Object.freeze({ record: winner, created: false });
  }

  /**
   * Replaces the wrapped DEKs (and with `options.auth` the commitment and signatures) when the
   * stored revision is `expectedRevision` (compare-and-swap).
   * @throws {KeyNotFoundError} when no record has this keyRef.
   * @throws {KeyStoreError} when the revision moved on (a concurrent update won) or the database fails.
   * @throws {TypeError | RangeError} on malformed arguments.
   * @example `const next = await store.updateWrappedDeks(r.keyRef, [w1, w2], r.revision);`
   */
  async updateWrappedDeks(keyRef: string, wrappedDeks: readonly WrappedKey[], expectedRevision: number, options?: UpdateWrappedDeksOptions): Promise<DekRecord> {
    options?.signal?.throwIfAborted();
    assertKeyRef(keyRef);
    assertWrappedDeks(wrappedDeks);
    assertPositiveInt(expectedRevision, 'expectedRevision');
    if (options?.auth !== undefined) assertRecordAuth(options.auth, 'options.auth');
    const current = await this.get(keyRef, options);
    if (current === undefined) throw new KeyNotFoundError(`key store record not found: ${keyRef}`);
    if (current.revision !== expectedRevision) throw conflict(keyRef, expectedRevision, current.revision);
    const next = withWrappedDeks(current, wrappedDeks, options?.auth);
    const updated = await this.#run('updateWrappedDeks', () =>
      runQuery(
        this.#client,
        `UPDATE ${this.tableName} SET record = $1, revision = $2, updated_at = now() WHERE key_ref = $3 AND revision = $4`,
        [encodeRecord(next), next.revision, keyRef, expectedRevision],
      ),
    );
    if (updated.changed !== 1) throw conflict(keyRef, expectedRevision, undefined);
    return next;
  }

  /**
   * Every record, in creation order (stable, so a re-wrap of records can checkpoint), read in
   * pages of `listPageSize`. Records created during iteration may or may not be included.
   * @throws {KeyStoreError} on a database failure or a corrupt row.
   * @example `for await (const r of store.list()) console.log(r.keyRef);`
   */
  async *list(options?: KeyStoreOptions): AsyncIterable<DekRecord> {
    let after = '0';
    for (;;) {
      options?.signal?.throwIfAborted();
      const { rows } = await this.#run('list', () =>
        runQuery<RecordRow & { key_ref: string; position: string }>(
          this.#client,
          `SELECT seq::text AS position, key_ref, record FROM ${this.tableName} WHERE seq > $1::bigint ORDER BY seq LIMIT ${this.#pageSize}`,
          [after],
        ),
      );
      for (const row of rows) {
        options?.signal?.throwIfAborted();
        yield this.#decode(row, row.key_ref);
      }
      if (rows.length < this.#pageSize) return;
      after = rows[rows.length - 1]!.position; // text: a bigint outgrows a JS number
    }
  }

  /**
   * Ends the pool this store made from `connectionString` (a client you passed in is yours to end).
   * @example `await store.close();`
   */
  async close(): Promise<void> {
    if (this.#ownsClient) await (this.#client as unknown as { end(): Promise<void> }).end();
  }

  async #schemaVersion(): Promise<number | undefined> {
    try {
      const { rows } = await runQuery<{ version: number }>(this.#client, versionQuery(this.#schema), [this.#table]);
      return rows[0]?.version;
    } catch (err) {
      if ((err as { code?: unknown })?.code === '42P01' || (err as { code?: unknown })?.code === '3F000') return undefined;
      throw storeError(err, 'migrate', this.tableName);
    }
  }

  async #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw storeError(err, what, this.tableName);
    }
  }

  #decode(row: RecordRow, keyRef: string): DekRecord {
    try {
      return decodeRecord(row.record, keyRef);
    } catch (err) {
      throw new KeyStoreError(`key store record ${keyRef} in ${this.tableName} is corrupt`, { cause: err });
    }
  }
}

function conflict(keyRef: string, expected: number, found: number | undefined): KeyStoreError {
  const now = found === undefined ? 'it changed concurrently' : `found ${found}`;
  return new KeyStoreError(`revision conflict on key store record ${keyRef}: expected ${expected}, ${now}`);
}
