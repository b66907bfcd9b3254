/**
 * What rewrapTable needs to know about the caller's table, read from the catalog: the id
 * column's type (to cast parameters back to it, so the primary key index is used) and each
 * envelope column's storage (`bytea`, or text holding base64).
 *
 * @module
 * @internal
 */
import { quoteIdentifier } from './identifiers.js';
import { type SqlClient, runQuery } from './sql-client.js';

/** How an envelope column stores its bytes. */
export type ColumnStorage = 'bytea' | 'text';

/** The validated, quoted table description. */
export interface TableShape {
  /** `"schema"."table"`. */
  readonly table: string;
  readonly id: { readonly quoted: string; readonly type: string };
  readonly columns: readonly { readonly name: string; readonly quoted: string; readonly storage: ColumnStorage }[];
}

const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar']);
const TYPE_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * Looks the table up and validates every name (identifiers are never interpolated raw).
 * @throws {RangeError} when a name is not a plain identifier, the table or a column is
 *   missing, or a column is neither bytea nor text.
 */
export async function describeTable(client: SqlClient, table: string, idColumn: string, columns: readonly string[]): Promise<TableShape> {
  const [schema, name] = table.includes('.') ? table.split('.', 2) : ['public', table];
  const quotedTable = `${quoteIdentifier(schema, 'options.table (schema part)')}.${quoteIdentifier(name, 'options.table')}`;
  const idQuoted = quoteIdentifier(idColumn, 'options.idColumn');
  columns.forEach((c, i) => quoteIdentifier(c, `options.columns[${i}]`));
  const { rows } = await runQuery<{ column_name: string; udt_name: string }>(
    client,
    'SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [schema, name],
  );
  if (rows.length === 0) throw new RangeError(`options.table: no table ${schema}.${name} (or no columns visible to this user)`);
  const types = new Map(rows.map((r) => [r.column_name, r.udt_name]));
  const idType = types.get(idColumn);
  if (idType === undefined) throw new RangeError(`options.idColumn: ${schema}.${name} has no column ${idColumn}`);
  if (!TYPE_NAME.test(idType)) throw new RangeError(`options.idColumn: unsupported type ${idType}`);
  return {
    table: quotedTable,
    id: { quoted: idQuoted, type: idType },
    columns: columns.map((c, i) => {
      const t = types.get(c);
      if (t === undefined) throw new RangeError(`options.columns[${i}]: ${schema}.${name} has no column ${c}`);
      const storage: ColumnStorage | undefined = t === 'bytea' ? 'bytea' : TEXT_TYPES.has(t) ? 'text' : undefined;
      if (storage === undefined) throw new RangeError(`options.columns[${i}]: column ${c} is ${t}; envelope columns are bytea or text (base64)`);
      return { name: c, quoted: quoteIdentifier(c, `options.columns[${i}]`), storage };
    }),
  };
}
