/**
 * Drizzle ORM (PostgreSQL dialect) column types for encrypted fields and their blind indexes.
 * The columns hold ciphertext; encryption is async, so it happens in {@link RowCodec} before
 * an insert and after a select, not inside Drizzle's synchronous driver mapping.
 *
 * @module
 */
import { bigint, customType, integer } from 'drizzle-orm/pg-core';

/** A `bytea` column holding a field ciphertext (`FieldEncryptor.encrypt` output). */
export const encrypted = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)),
  // node-postgres gives a Buffer, PGlite a Uint8Array: hand out a plain Uint8Array either way.
  fromDriver: (value) => new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
});

/** A `text` column holding a field ciphertext as unpadded base64url (`encryptText` output). */
export const encryptedText = customType<{ data: string; driverData: string }>({
  dataType: () => 'text',
});

/**
 * A blind-index column: `integer` for up to 31 bits, `bigint` (as a JS number) at 32.
 * @throws {RangeError} when `bits` is outside 1..32.
 * @example `emailIndex: blindIndexColumn('email_bidx', { bits: 16 })`
 */
export function blindIndexColumn(name: string, options: { bits: number }) {
  if (!Number.isInteger(options?.bits) || options.bits < 1 || options.bits > 32) throw new RangeError('options.bits must be 1..32');
  return options.bits <= 31 ? integer(name) : bigint(name, { mode: 'number' });
}
