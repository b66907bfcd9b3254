/**
 * rewrapTable's claims and writes, on PGlite or the real server (DATABASE_URL). Adversaries:
 * ids whose text order differs from their numeric order (a claim ordered by the id's text sorts
 * every remaining row and walks the table out of cursor order: extra claims, O(rows²) on a big
 * table), and a batch larger than one statement's 65,535 bind parameters.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeClient, LocalAesKek, readWrappedKeys } from '../../src/index.js';
import { rewrapTable } from '../../src/postgres/index.js';
import { type TestDatabase, openTestDatabase } from '../helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

const kek = (name: string) => new LocalAesKek({ id: `test/batches/${name}/${randomBytes(4).toString('hex')}`, key: randomBytes(32) });

/** `rows` envelopes of `plain(id)` under `from`, ids 1..rows, 10 DEKs; returns the table name. */
async function seed(from: LocalAesKek, rows: number): Promise<string> {
  const writer = new EnvelopeClient({ keks: from, cache: { maxMessages: Math.ceil(rows / 10) } });
  const table = `${db.schema}.${db.table('docs')}`;
  await db.client.query(`CREATE TABLE "${table.replace('.', '"."')}" (id bigint PRIMARY KEY, body bytea NOT NULL)`);
  for (let start = 1; start <= rows; start += 2000) {
    const ids: number[] = [];
    const bodies: Uint8Array[] = [];
    for (let i = start; i < Math.min(start + 2000, rows + 1); i++) {
      ids.push(i);
      bodies.push(await writer.encrypt(new TextEncoder().encode(`row ${i}`)));
    }
    await db.client.query(`INSERT INTO "${table.replace('.', '"."')}" SELECT * FROM unnest($1::bigint[], $2::bytea[])`, [ids, bodies]);
  }
  return table;
}

async function checkAll(table: string, to: LocalAesKek, rows: number): Promise<void> {
  const reader = new EnvelopeClient({ keks: to });
  const { rows: found } = await db.client.query(`SELECT id::text AS id, body FROM "${table.replace('.', '"."')}" ORDER BY id`);
  const all = found as { id: string; body: Uint8Array }[];
  expect(all).toHaveLength(rows);
  for (const r of all) {
    expect(readWrappedKeys(r.body).map((w) => w.kekId)).toEqual([to.id]);
    expect(new TextDecoder().decode((await reader.decrypt(r.body)).plaintext)).toBe(`row ${r.id}`);
  }
}

describe('rewrapTable batches', () => {
  it('claims in numeric id order: one worker over ids 1..1,200 takes exactly 12 batches of 100', async () => {
    const from = kek('from');
    const to = kek('to');
    const table = await seed(from, 1200);
    const result = await rewrapTable({ client: db.client, table, idColumn: 'id', columns: ['body'], to, from, batchSize: 100 });
    expect(result).toMatchObject({ rewrapped: 1200, skipped: 0, failed: [], remaining: 0 });
    expect(result.batches).toBe(12);
    await checkAll(table, to, 1200);
  });

  it('a batch beyond one statement\'s bind parameters is written in several UPDATEs, every row once', async () => {
    const from = kek('from');
    const to = kek('to');
    const rows = 20_100; // 1 id + 2 per column = 3 parameters per row: 20,000 rows per statement
    const table = await seed(from, rows);
    const result = await rewrapTable({ client: db.client, table, idColumn: 'id', columns: ['body'], to, from, batchSize: rows });
    expect(result).toMatchObject({ rewrapped: rows, skipped: 0, failed: [], remaining: 0, batches: 1 });
    await checkAll(table, to, rows);
  }, 120_000);
});
