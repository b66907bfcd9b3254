/**
 * The Drizzle column types and row codec on PostgreSQL (PGlite, or the real server through
 * node-postgres): insert encrypted rows, find one by its blind index, and see that a value
 * moved to another row does not decrypt.
 */
import { eq, sql } from 'drizzle-orm';
import { pgSchema, uuid } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecryptionFailedError, FieldEncryptor, LocalAesKek } from '../../src/index.js';
import { blindIndexColumn, encrypted, encryptedText, rowCodec } from '../../src/drizzle/index.js';
import { PostgresKeyStore } from '../../src/postgres/index.js';
import { type TestDatabase, openTestDatabase } from '../helpers/database.js';

let db: TestDatabase;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let orm: any;
beforeAll(async () => {
  db = await openTestDatabase();
  orm = db.kind === 'pglite'
    ? (await import('drizzle-orm/pglite')).drizzle({ client: db.client as never })
    : (await import('drizzle-orm/node-postgres')).drizzle({ client: db.client as never });
});
afterAll(async () => {
  await db?.close();
});

describe('kv-envelope/drizzle', () => {
  it('inserts encrypted rows, finds one by blind index, and binds each value to its row', async () => {
    const schema = pgSchema(db.schema);
    const customers = schema.table('customers', {
      id: uuid('id').primaryKey().$defaultFn(() => crypto.randomUUID()),
      ssn: encrypted('ssn').notNull(),
      email: encryptedText('email').notNull(),
      emailIndex: blindIndexColumn('email_bidx', { bits: 8 }).notNull(),
    });
    await orm.execute(sql.raw(`CREATE TABLE "${db.schema}"."customers" (id uuid PRIMARY KEY, ssn bytea NOT NULL, email text NOT NULL, email_bidx integer NOT NULL)`));
    const store = new PostgresKeyStore({ client: db.client, schema: db.schema, table: 'dek_records' });
    await store.migrate();
    const fields = new FieldEncryptor({ keks: new LocalAesKek({ id: 'orm-kek', key: new Uint8Array(32).fill(1) }), keyStore: store });
    type Row = typeof customers.$inferInsert;
    const codec = rowCodec<Row>(fields, {
      table: 'customers', rowKey: 'id',
      columns: { ssn: {}, email: { storage: 'text', index: { column: 'emailIndex', name: 'customers.email', bits: 8, transform: ['trim', 'lowercase'] } } },
    });
    const people = Array.from({ length: 300 }, (_, i) => ({ id: crypto.randomUUID(), ssn: `078-05-${String(i).padStart(4, '0')}`, email: `Person${i}@Example.com`, emailIndex: 0 }));
    for (const p of people) await orm.insert(customers).values(await codec.encryptRow(p as unknown as Row));
    const wanted = people[123]!;
    const candidates = await orm.select().from(customers).where(eq(customers.emailIndex, await codec.index('email', ' person123@example.com')));
    expect(candidates.length).toBeGreaterThan(0);
    const found = [];
    for (const c of candidates) {
      const row = await codec.decryptRow(c);
      if (row.email === wanted.email) found.push(row);
    }
    expect(found).toEqual([{ ...wanted, emailIndex: expect.any(Number) }]);
    // Attack: an attacker with write access copies victim's ssn ciphertext into their own row.
    const [victim] = await orm.select().from(customers).where(eq(customers.id, people[1]!.id));
    await orm.update(customers).set({ ssn: victim.ssn }).where(eq(customers.id, people[2]!.id));
    const [moved] = await orm.select().from(customers).where(eq(customers.id, people[2]!.id));
    await expect(codec.decryptRow(moved)).rejects.toBeInstanceOf(DecryptionFailedError);
  });

  it('refuses to encrypt a row whose key is not set yet (an id assigned by the database cannot be bound)', async () => {
    const fields = new FieldEncryptor({ keks: new LocalAesKek({ id: 'k', key: new Uint8Array(32) }), keyStore: new PostgresKeyStore({ client: db.client, schema: db.schema, table: 'unused' }) });
    const codec = rowCodec<{ id?: number; ssn: string }>(fields, { table: 't', rowKey: 'id', columns: { ssn: {} } });
    await expect(codec.encryptRow({ ssn: 'x' })).rejects.toThrow(/row.id must be set/);
  });
});
