// The same service's data layer on Drizzle ORM: column types from kv-envelope/drizzle, and a
// row codec that binds every encrypted value to its row (aad = customers.<column>#<id>).
import { eq } from 'drizzle-orm';
import { pgSchema, pgTable, uuid } from 'drizzle-orm/pg-core';
import { blindIndexColumn, encrypted, rowCodec } from 'kv-envelope/drizzle';
import { EMAIL_INDEX } from './app.mjs';

export function drizzleCustomers({ orm, fields, schema = 'public' }) {
  // Drizzle refuses pgSchema('public'): the default schema goes through pgTable.
  const table = schema === 'public' ? pgTable : (name, columns) => pgSchema(schema).table(name, columns);
  const customers = table('customers', {
    id: uuid('id').primaryKey().$defaultFn(() => crypto.randomUUID()),
    ssn: encrypted('ssn').notNull(),
    email: encrypted('email').notNull(),
    emailIndex: blindIndexColumn('email_bidx', { bits: EMAIL_INDEX.bits }).notNull(),
  });
  const codec = rowCodec(fields, {
    table: 'customers', rowKey: 'id',
    columns: { ssn: {}, email: { index: { column: 'emailIndex', ...EMAIL_INDEX } } },
  });
  const plain = ({ id, ssn, email }) => ({ id, ssn, email });
  return {
    async create({ ssn, email }) {
      const id = crypto.randomUUID();
      await orm.insert(customers).values(await codec.encryptRow({ id, ssn, email }));
      return id;
    },
    async get(id) {
      const [row] = await orm.select().from(customers).where(eq(customers.id, id));
      return row === undefined ? undefined : plain(await codec.decryptRow(row));
    },
    async findByEmail(email) {
      const rows = await orm.select().from(customers).where(eq(customers.emailIndex, await codec.index('email', email)));
      const wanted = email.trim().toLowerCase();
      const out = [];
      for (const r of rows) {
        const c = plain(await codec.decryptRow(r));
        if (c.email.trim().toLowerCase() === wanted) out.push(c);
      }
      return { customers: out, candidates: rows.length };
    },
  };
}
