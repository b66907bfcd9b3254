/**
 * SQL identifiers from options (schema and table names) are validated and quoted, never
 * interpolated raw: a name from configuration must not become SQL injection.
 *
 * @module
 * @internal
 */

/** Lowercase letters, digits and `_`, not starting with a digit, at most 63 bytes (NAMEDATALEN - 1). */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * `"name"` after checking `name` against a conservative pattern.
 * @throws {TypeError} when `name` is not a string.
 * @throws {RangeError} when it is not a plain lowercase identifier.
 * @example `quoteIdentifier('kv_envelope') // '"kv_envelope"'`
 */
export function quoteIdentifier(name: unknown, option: string): string {
  if (typeof name !== 'string') throw new TypeError(`${option} must be a string`);
  if (!IDENTIFIER.test(name)) {
    throw new RangeError(`${option} must be a lowercase SQL identifier (a-z, 0-9, _; not starting with a digit; at most 63 characters)`);
  }
  return `"${name}"`;
}

/** `"schema"."table"` from validated parts. */
export function qualifiedName(schema: string, table: string, schemaOption: string, tableOption: string): string {
  return `${quoteIdentifier(schema, schemaOption)}.${quoteIdentifier(table, tableOption)}`;
}
