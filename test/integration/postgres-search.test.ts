/**
 * Searching an encrypted column through a blind index on PostgreSQL (PGlite or the real server):
 * the query returns candidates by an ordinary index, decrypting filters the false positives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldEncryptor, LocalAesKek, planBlindIndex } from '../../src/index.js';
import { PostgresKeyStore } from '../../src/postgres/index.js';
import { type TestDatabase, openTestDatabase } from '../helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

describe('blind index on PostgreSQL', () => {
  it('finds a customer by email among 2,000 through a 6-bit index: candidates include it, decrypting removes the rest', async () => {
    const store = new PostgresKeyStore({ client: db.client, schema: db.schema, table: db.table('keys') });
    await store.migrate();
    const fields = new FieldEncryptor({ keks: new LocalAesKek({ id: 'search-kek', key: new Uint8Array(32).fill(5) }), keyStore: store });
    const plan = planBlindIndex({ rows: 2_000, distinctValues: 2_000, minValuesPerBucket: 20 });
    expect(plan.bits).toBe(6);
    const index = { name: 'customers.email', bits: plan.bits!, transform: ['trim', 'lowercase'] } as const;
    const t = `"${db.schema}"."${db.table('customers')}"`;
    await db.client.query(`CREATE TABLE ${t} (id uuid PRIMARY KEY, email bytea NOT NULL, email_bidx integer NOT NULL)`);
    await db.client.query(`CREATE INDEX ON ${t} (email_bidx)`);
    const ids: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      const email = `customer${i}@example.com`;
      await db.client.query(`INSERT INTO ${t} VALUES ($1, $2, $3)`, [id, await fields.encrypt(email, { aad: `customers.email#${id}` }), await fields.blindIndex(email, index)]);
    }
    const { rows } = await db.client.query(`SELECT id, email FROM ${t} WHERE email_bidx = $1`, [await fields.blindIndex('  Customer1234@EXAMPLE.com', index)]);
    expect(rows.length).toBeGreaterThan(1); // a bucket, not a unique match
    expect(rows.length).toBeLessThan(200);
    const matches = [];
    for (const r of rows as Array<{ id: string; email: Uint8Array }>) {
      if (new TextDecoder().decode(await fields.decrypt(r.email, { aad: `customers.email#${r.id}` })) === 'customer1234@example.com') matches.push(r.id);
    }
    expect(matches).toEqual([ids[1234]]);
  });
});
