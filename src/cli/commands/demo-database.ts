/**
 * The demo's database chapter: PostgreSQL in-process (PGlite, no server), a customers table with
 * encrypted columns and a blind index, a lookup by email, a KEK rotation, and both kinds of
 * re-wrap (key-store records for fields, rows for an envelope column), with the vault calls.
 */
import type { KeyClient } from '@azure/keyvault-keys';
import type { KeyVaultKek } from '../../azure/index.js';
import { EnvelopeClient } from '../../envelope/client.js';
import { FieldEncryptor } from '../../field/encryptor.js';
import { PostgresKeyStore, rewrapTable } from '../../postgres/index.js';
import { rewrapKeyStore } from '../../rewrap/index.js';
import { planBlindIndex } from '../../search/planner.js';

/** What the chapter needs from the demo. */
export interface ChapterContext {
  readonly keys: KeyClient;
  readonly keyName: string;
  readonly kek: KeyVaultKek;
  readonly say: (text: string) => void;
  /** Vault calls since the last call of `calls`. */
  readonly calls: () => Record<string, number>;
  readonly fmt: (calls: Record<string, number>) => string;
}

/** Runs the chapter; returns its step record (or a skip note when PGlite is not installed). */
export async function databaseChapter(n: number, c: ChapterContext): Promise<Record<string, unknown>> {
  let PGlite: typeof import('@electric-sql/pglite').PGlite;
  try {
    ({ PGlite } = await import('@electric-sql/pglite'));
  } catch {
    c.say(`${n}. database chapter skipped: npm install @electric-sql/pglite to run it in-process (or use a server: see docs/operations.md)`);
    return { step: 'database', skipped: 'install @electric-sql/pglite' };
  }
  const db = new PGlite();
  try {
    const keyStore = new PostgresKeyStore({ client: db });
    await keyStore.migrate();
    const fields = new FieldEncryptor({ keks: c.kek, keyStore });
    const rows = 1000;
    const bits = planBlindIndex({ rows, distinctValues: rows }).bits!;
    const index = { name: 'customers.email', bits, transform: ['trim', 'lowercase'] } as const;
    await db.exec('CREATE TABLE customers (id uuid PRIMARY KEY, email bytea, ssn bytea, email_bidx integer); CREATE INDEX ON customers (email_bidx);');
    await db.exec('CREATE TABLE documents (id int PRIMARY KEY, body bytea)');
    const docs = new EnvelopeClient({ keks: c.kek, cache: { maxMessages: 100 } });
    for (let i = 0; i < rows; i++) {
      const id = crypto.randomUUID();
      const email = `customer${i}@example.com`;
      await db.query('INSERT INTO customers VALUES ($1, $2, $3, $4)', [
        id, await fields.encrypt(email, { aad: `customers.email#${id}` }), await fields.encrypt(`078-05-${String(i).padStart(4, '0')}`, { aad: `customers.ssn#${id}` }),
        await fields.blindIndex(email, index),
      ]);
      await db.query('INSERT INTO documents VALUES ($1, $2)', [i, await docs.encrypt(new TextEncoder().encode(`invoice ${i}`))]);
    }
    const made = c.calls();
    c.say(`${n}. PostgreSQL (PGlite, in this process): ${rows} customers with encrypted email and SSN plus a blind index on email (${bits} bits, planBlindIndex), and ${rows} envelope documents; vault: ${c.fmt(made)}`);
    const wanted = ' Customer123@Example.com';
    const { rows: candidates } = await db.query<{ id: string; email: Uint8Array }>('SELECT id, email FROM customers WHERE email_bidx = $1', [await fields.blindIndex(wanted, index)]);
    const hits = [];
    for (const r of candidates) if (new TextDecoder().decode(await fields.decrypt(r.email, { aad: `customers.email#${r.id}` })) === wanted.trim().toLowerCase()) hits.push(r.id);
    c.say(`   WHERE email_bidx = … for "${wanted.trim()}": ${candidates.length} candidate rows from the index, ${hits.length} match after decrypting (the rest are the bucket's false positives)`);
    await c.keys.rotateKey(c.keyName);
    const before = JSON.stringify((await db.query('SELECT ssn FROM customers ORDER BY id')).rows);
    let records = 0;
    for await (const r of rewrapKeyStore(keyStore, { to: c.kek })) if (r.status === 'rewrapped') records++;
    const unchanged = JSON.stringify((await db.query('SELECT ssn FROM customers ORDER BY id')).rows) === before;
    const recordCalls = c.calls();
    const table = await rewrapTable({ client: db, table: 'documents', idColumn: 'id', columns: ['body'], to: c.kek });
    const tableCalls = c.calls();
    c.say(`   rotated the key; fields: ${records} key-store records re-wrapped, customer rows unchanged: ${unchanged}; vault: ${c.fmt(recordCalls)}`);
    c.say(`   envelope column: rewrapTable re-wrapped ${table.rewrapped} rows in place (FOR UPDATE SKIP LOCKED batches), ${table.remaining} left on old versions; vault: ${c.fmt(tableCalls)}`);
    return { step: 'database', rows, blindIndexBits: bits, candidates: candidates.length, matches: hits.length, recordsRewrapped: records, rowsUnchanged: unchanged, tableRewrapped: table.rewrapped, remaining: table.remaining, vaultCalls: { insert: made, records: recordCalls, table: tableCalls } };
  } finally {
    await db.close();
  }
}
