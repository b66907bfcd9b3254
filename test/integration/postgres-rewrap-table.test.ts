/**
 * rewrapTable in one process, on PGlite or the real server: envelope columns (bytea and base64
 * text) re-wrapped in place after a rotation in the local Key Vault, vault calls = distinct DEKs,
 * bad rows reported and left alone, rows already current cost nothing.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeClient, LocalAesKek, readWrappedKeys } from '../../src/index.js';
import { KeyVaultKek } from '../../src/azure/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { rewrapTable } from '../../src/postgres/index.js';
import { type TestDatabase, openTestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let vault: LocalKeyVault;
let keys: KeyClient;
beforeAll(async () => {
  db = await openTestDatabase();
  vault = await LocalKeyVault.start();
  keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
});
afterAll(async () => {
  await vault?.close();
  await db?.close();
});

function kek(name: string): KeyVaultKek {
  return new KeyVaultKek({ vaultUrl: vault.url, keyName: name, credential: vault.credential(), clientOptions: vault.clientOptions });
}

const text = (i: number): string => `document ${i}: ${'x'.repeat(i % 50)}`;

/** A table of `rows` envelopes under `deks` DEKs: `body` bytea, `copy` base64 text (every 3rd NULL). */
async function seed(keyName: string, rows: number, deks: number): Promise<{ table: string; originals: Map<string, Uint8Array> }> {
  await keys.createRsaKey(keyName, { keySize: 2048 });
  const writer = new EnvelopeClient({ keks: kek(keyName), cache: { maxMessages: Math.ceil(rows / deks) } });
  const table = `"${db.schema}"."${db.table('docs')}"`;
  await db.client.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, body bytea, copy text)`);
  const originals = new Map<string, Uint8Array>();
  for (let i = 0; i < rows; i++) {
    const env = await writer.encrypt(new TextEncoder().encode(text(i)));
    originals.set(String(i), env);
    const copy = i % 3 === 0 ? null : Buffer.from(env).toString(i % 2 === 0 ? 'base64' : 'base64url');
    await db.client.query(`INSERT INTO ${table} (id, body, copy) VALUES ($1, $2, $3)`, [i, env, copy]);
  }
  return { table: table.replaceAll('"', ''), originals };
}

describe('rewrapTable', () => {
  it('re-wraps bytea and base64 columns in place: unwraps = distinct DEKs, every row names the new version and decrypts', async () => {
    const { table, originals } = await seed('docs-kek', 120, 6);
    await keys.rotateKey('docs-kek');
    const target = kek('docs-kek');
    const before = vault.stats.byOperation.unwrapKey ?? 0;
    const progress: number[] = [];
    const result = await rewrapTable({ client: db.client, table, idColumn: 'id', columns: ['body', 'copy'], to: target, batchSize: 25, progressIntervalMs: 1, onProgress: (p) => progress.push(p.left) });
    expect(result.failed).toEqual([]);
    expect(result.rewrapped).toBe(120);
    expect(result.remaining).toBe(0);
    expect(progress.at(-1)).toBe(0);
    expect((vault.stats.byOperation.unwrapKey ?? 0) - before).toBe(6); // one per distinct DEK, not per row or column
    const newKid = result.targetKekIds[0]!;
    const reader = new EnvelopeClient({ keks: target });
    const { rows } = await db.client.query(`SELECT id::text AS id, body, copy FROM ${table} ORDER BY id`);
    for (const row of rows as Array<{ id: string; body: Uint8Array; copy: string | null }>) {
      expect(readWrappedKeys(row.body).map((w) => w.kekId)).toEqual([newKid]);
      expect(new TextDecoder().decode((await reader.decrypt(row.body)).plaintext)).toBe(text(Number(row.id)));
      expect(row.body.length).toBe(originals.get(row.id)!.length); // same key size: only the wrapped key changed
      if (row.copy !== null) {
        expect(Buffer.from(row.copy, 'base64').equals(Buffer.from(row.body))).toBe(true); // one DEK, one new section
        expect(new TextDecoder().decode((await reader.decrypt(Buffer.from(row.copy, 'base64'))).plaintext)).toBe(text(Number(row.id)));
        expect(/[-_]/.test(row.copy) || Number(row.id) % 2 === 0).toBe(true); // alphabet kept
      }
    }
    // A second run finds nothing to do: no row claimed, no vault call.
    const calls = vault.stats.byOperation.unwrapKey ?? 0;
    const again = await rewrapTable({ client: db.client, table, idColumn: 'id', columns: ['body', 'copy'], to: target });
    expect(again).toMatchObject({ rewrapped: 0, skipped: 0, batches: 0, remaining: 0 });
    expect(vault.stats.byOperation.unwrapKey ?? 0).toBe(calls);
  });

  it('attack: garbage and envelopes under a foreign KEK are reported by id, left unchanged, and counted as remaining', async () => {
    const { table } = await seed('mixed-kek', 20, 2);
    const foreign = new EnvelopeClient({ keks: new LocalAesKek({ id: 'someone-else', key: new Uint8Array(32).fill(7) }) });
    const alien = await foreign.encrypt(new TextEncoder().encode('not ours'));
    await db.client.query(`INSERT INTO "${table.replace('.', '"."')}" (id, body) VALUES (1000, $1), (1001, $2)`, [Buffer.from('not an envelope at all'), alien]);
    await keys.rotateKey('mixed-kek');
    const result = await rewrapTable({ client: db.client, table, idColumn: 'id', columns: ['body', 'copy'], to: kek('mixed-kek'), batchSize: 7 });
    expect(result.rewrapped).toBe(20);
    expect(result.failed.map((f) => [f.id, f.column, f.code]).sort()).toEqual([
      ['1000', 'body', 'ERR_ENVELOPE_MALFORMED'],
      ['1001', 'body', 'ERR_NO_MATCHING_KEK'],
    ]);
    expect(result.remaining).toBe(2);
    const { rows } = await db.client.query(`SELECT body FROM "${table.replace('.', '"."')}" WHERE id = 1001`);
    expect(Buffer.from((rows[0] as { body: Uint8Array }).body).equals(Buffer.from(alien))).toBe(true);
  });

  it('refuses unknown tables, columns of the wrong type and identifiers carrying SQL, before any vault call', async () => {
    const t = db.table('shape');
    await db.client.query(`CREATE TABLE "${db.schema}"."${t}" (id int PRIMARY KEY, n int, body bytea)`);
    const base = { client: db.client, idColumn: 'id', to: new LocalAesKek({ id: 'k', key: new Uint8Array(32) }) };
    await expect(rewrapTable({ ...base, table: `${db.schema}.nope`, columns: ['body'] })).rejects.toBeInstanceOf(RangeError);
    await expect(rewrapTable({ ...base, table: `${db.schema}.${t}`, columns: ['n'] })).rejects.toThrow(/bytea or text/);
    await expect(rewrapTable({ ...base, table: `${db.schema}.${t}`, columns: ['body"; DROP TABLE x; --'] })).rejects.toBeInstanceOf(RangeError);
    await expect(rewrapTable({ ...base, table: `${db.schema}.${t}`, columns: [] })).rejects.toBeInstanceOf(TypeError);
  });
});
