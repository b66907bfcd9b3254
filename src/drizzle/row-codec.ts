/**
 * Encrypting and decrypting whole rows for Drizzle tables: each encrypted column's value is
 * bound to its row by aad = `<table>.<column>#<row key>`, and blind-index columns are filled
 * from the plaintext before it is encrypted.
 *
 * Why the row key must be known before the insert: the aad is authenticated into the
 * ciphertext at encryption time. A `serial`/identity id is assigned by the database during
 * the INSERT, after the value was encrypted, so it cannot be bound (and binding a placeholder
 * lets a value be moved between rows). Use a client-generated key: `uuid().$defaultFn(() =>
 * crypto.randomUUID())`, or any natural key you set yourself.
 *
 * @module
 */
import type { FieldEncryptor } from '../field/encryptor.js';
import type { BlindIndexOptions } from '../search/blind-index.js';

/** One encrypted column of a row codec. */
export interface EncryptedColumnSpec {
  /** `'bytes'` (an `encrypted()` bytea column, default) or `'text'` (an `encryptedText()` column). */
  readonly storage?: 'bytes' | 'text';
  /** A blind index filled from this column's plaintext: the index column's key in the row, and its definition. */
  readonly index?: { readonly column: string } & Omit<BlindIndexOptions, 'signal'>;
}

/** Options of {@link rowCodec}. */
export interface RowCodecOptions<Row> {
  /** The table's name as bound into aad (e.g. `'customers'`); keep it stable. */
  readonly table: string;
  /** The row's stable key (known before insert), as a key of the row object. */
  readonly rowKey: keyof Row & string;
  /** The encrypted columns, by their key in the row object. */
  readonly columns: Readonly<Record<string, EncryptedColumnSpec>>;
}

/** What {@link rowCodec} returns. */
export interface RowCodec<Row> {
  /** A copy of `row` with each encrypted column's plaintext replaced by ciphertext, blind indexes filled. */
  encryptRow(row: Row, options?: { signal?: AbortSignal }): Promise<Row>;
  /** A copy of `row` with each encrypted column decrypted (strings for text values). */
  decryptRow(row: Row, options?: { signal?: AbortSignal }): Promise<Row>;
  /** The blind index of `value` for the index on column `column` (for a WHERE clause). */
  index(column: string, value: string | Uint8Array, options?: { signal?: AbortSignal }): Promise<number>;
}

/**
 * Binds a FieldEncryptor to a table's encrypted columns.
 * @throws {TypeError | RangeError} on invalid options, naming the option.
 * @example
 * ```ts
 * const codec = rowCodec<typeof customers.$inferInsert>(fields, { table: 'customers', rowKey: 'id', columns: {
 *   ssn: {}, email: { index: { column: 'emailIndex', name: 'customers.email', bits: 16, transform: ['trim', 'lowercase'] } } } });
 * await db.insert(customers).values(await codec.encryptRow({ id: crypto.randomUUID(), ssn: '078-05-1120', email: 'ada@example.com' }));
 * ```
 */
export function rowCodec<Row extends Record<string, unknown>>(fields: FieldEncryptor, options: RowCodecOptions<Row>): RowCodec<Row> {
  if (fields === null || typeof fields !== 'object' || typeof fields.encrypt !== 'function') throw new TypeError('fields must be a FieldEncryptor');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (typeof options.table !== 'string' || options.table === '') throw new TypeError('options.table must be a non-empty string');
  if (typeof options.rowKey !== 'string' || options.rowKey === '') throw new TypeError('options.rowKey must name the row key');
  const specs = Object.entries(options.columns ?? {});
  if (specs.length === 0) throw new RangeError('options.columns must name at least one encrypted column');
  const aadOf = (row: Row, column: string): string => {
    const key = row[options.rowKey];
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint') {
      throw new TypeError(`row.${options.rowKey} must be set before encrypting (a client-generated key: see rowCodec's docs)`);
    }
    return `${options.table}.${column}#${String(key)}`;
  };
  return {
    async encryptRow(row, o) {
      const out: Record<string, unknown> = { ...row };
      for (const [column, spec] of specs) {
        const value = row[column];
        if (value === null || value === undefined) continue;
        if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new TypeError(`row.${column} must be a string or Uint8Array`);
        if (spec.index !== undefined) {
          const { column: indexColumn, ...definition } = spec.index;
          out[indexColumn] = await fields.blindIndex(value, { ...definition, signal: o?.signal });
        }
        const aad = aadOf(row, column);
        out[column] = spec.storage === 'text'
          ? await fields.encryptText(typeof value === 'string' ? value : Buffer.from(value).toString('utf8'), { aad, signal: o?.signal })
          : await fields.encrypt(value, { aad, signal: o?.signal });
      }
      return out as Row;
    },
    async decryptRow(row, o) {
      const out: Record<string, unknown> = { ...row };
      for (const [column, spec] of specs) {
        const value = row[column];
        if (value === null || value === undefined) continue;
        const aad = aadOf(row, column);
        out[column] = spec.storage === 'text'
          ? await fields.decryptText(value as string, { aad, signal: o?.signal })
          : new TextDecoder('utf-8', { fatal: true }).decode(await fields.decrypt(value as Uint8Array, { aad, signal: o?.signal }));
      }
      return out as Row;
    },
    async index(column, value, o) {
      const spec = options.columns[column]?.index;
      if (spec === undefined) throw new RangeError(`column ${column} has no blind index in this codec`);
      const { column: _ignored, ...definition } = spec;
      return fields.blindIndex(value, { ...definition, signal: o?.signal });
    },
  };
}
