/**
 * PostgresKeyStore against a real PostgreSQL (DATABASE_URL) or PGlite: the KeyStore contract,
 * migrations run concurrently, hostile identifiers and rows, and connection failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStoreError } from '../../src/errors.js';
import { PostgresKeyStore } from '../../src/postgres/index.js';
import { encodeRecord } from '../../src/store/internal/codec.js';
import { describeKeyStoreContract, makeRecord } from '../unit/key-store.contract.js';
import { DATABASE_URL, type TestDatabase, openTestDatabase } from '../helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

async function freshStore(options: { listPageSize?: number } = {}): Promise<PostgresKeyStore> {
  const store = new PostgresKeyStore({ client: db.client, schema: db.schema, table: db.table('dek'), ...options });
  await store.migrate();
  return store;
}

describeKeyStoreContract('PostgresKeyStore', () => freshStore());
describeKeyStoreContract('PostgresKeyStore (list pages of 2)', () => freshStore({ listPageSize: 2 }));

describe('PostgresKeyStore', () => {
  it('lists in creation order across pages (a stable order re-wrap can checkpoint)', async () => {
    const store = await freshStore({ listPageSize: 3 });
    const made = [];
    for (let i = 0; i < 10; i++) made.push((await store.createIfAbsent(makeRecord())).record.keyRef);
    const listed = [];
    for await (const r of store.list()) listed.push(r.keyRef);
    expect(listed).toEqual(made);
  });

  it('migrate() is idempotent and safe when several callers run it at once', async () => {
    const table = db.table('mig');
    const stores = Array.from({ length: 4 }, () => new PostgresKeyStore({ client: db.client, schema: db.schema, table }));
    await Promise.all(stores.map((s) => s.migrate()));
    await stores[0]!.migrate();
    const record = makeRecord();
    await stores[1]!.createIfAbsent(record);
    expect(await stores[2]!.get(record.keyRef)).toEqual(record);
  });

  it('a missing table is a KeyStoreError that says to run migrate()', async () => {
    const store = new PostgresKeyStore({ client: db.client, schema: db.schema, table: db.table('never') });
    const err = await store.get('0123456789abcdef').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyStoreError);
    expect((err as KeyStoreError).code).toBe('ERR_KEY_STORE');
    expect((err as Error).message).toMatch(/migrate\(\)/);
  });

  it('refuses a table migrated by a newer kv-envelope', async () => {
    const store = await freshStore();
    const table = store.tableName.split('.')[1]!;
    await db.client.query(`UPDATE "${db.schema}"."kv_envelope_schema" SET version = 99 WHERE table_name = $1`, [table]);
    await expect(store.migrate()).rejects.toMatchObject({ code: 'ERR_KEY_STORE', message: expect.stringMatching(/version 99/) });
  });

  it('attack: schema/table options carrying SQL are refused before any query', () => {
    for (const bad of ['x"; DROP TABLE users; --', 'Users', '1abc', 'a b', 'a'.repeat(64), '']) {
      expect(() => new PostgresKeyStore({ client: db.client, table: bad })).toThrow(RangeError);
      expect(() => new PostgresKeyStore({ client: db.client, schema: bad })).toThrow(RangeError);
    }
    expect(() => new PostgresKeyStore({ client: {} as never })).toThrow(TypeError);
    expect(() => new PostgresKeyStore({ client: db.client, connectionString: 'postgres://x' })).toThrow(TypeError);
  });

  it('attack: a store writer swaps the record bytes of two rows → reads refuse both', async () => {
    const store = await freshStore();
    const a = makeRecord();
    const b = makeRecord({ name: 'users.email', kind: 'siv' });
    await store.createIfAbsent(a);
    await store.createIfAbsent(b);
    await db.client.query(`UPDATE ${store.tableName} SET record = $1 WHERE key_ref = $2`, [encodeRecord(b), a.keyRef]);
    await expect(store.get(a.keyRef)).rejects.toBeInstanceOf(KeyStoreError);
    // Re-pointing the name column to another row is refused too: the record names itself.
    await db.client.query(`UPDATE ${store.tableName} SET name = NULL WHERE key_ref = $1`, [b.keyRef]);
    await db.client.query(`UPDATE ${store.tableName} SET name = 'users.email', record = $1 WHERE key_ref = $2`, [encodeRecord(a), a.keyRef]);
    await expect(store.getByName('users.email')).rejects.toBeInstanceOf(KeyStoreError);
  });

  it('a corrupt row is a KeyStoreError naming the keyRef', async () => {
    const store = await freshStore();
    const r = makeRecord();
    await store.createIfAbsent(r);
    await db.client.query(`UPDATE ${store.tableName} SET record = $1 WHERE key_ref = $2`, [Buffer.from([0xc1, 0xff]), r.keyRef]);
    await expect(store.get(r.keyRef)).rejects.toMatchObject({ code: 'ERR_KEY_STORE', message: expect.stringContaining(r.keyRef) });
  });

  it('a server that is not there is a typed KeyStoreError (connection refused), not a crash', async () => {
    const store = new PostgresKeyStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: 'public' });
    try {
      const err = await store.get('0123456789abcdef').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect((err as Error).cause).toBeDefined();
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(DATABASE_URL === undefined)('PostgresKeyStore on a real server (needs DATABASE_URL; skipped on PGlite)', () => {
  it('a lost connection fails the call in flight with ERR_KEY_STORE, and the next call reconnects', async () => {
    const table = db.table('conn');
    const store = new PostgresKeyStore({ connectionString: DATABASE_URL!, schema: db.schema, table });
    try {
      await store.migrate();
      const r = makeRecord();
      await store.createIfAbsent(r);
      // Kill every backend of this store's pool (an administrator, a failover, a network cut).
      const kill = () => db.client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%${table}%'`);
      await kill();
      await new Promise((res) => setTimeout(res, 50));
      let reconnected = false;
      for (let i = 0; i < 3 && !reconnected; i++) {
        try {
          expect(await store.get(r.keyRef)).toEqual(r);
          reconnected = true;
        } catch (err) {
          expect(err).toBeInstanceOf(KeyStoreError);
        }
      }
      expect(reconnected).toBe(true);
    } finally {
      await store.close();
    }
  });
});
