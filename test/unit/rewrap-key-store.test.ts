/**
 * rewrapKeyStore with local KEKs: records re-wrapped in place (field rows untouched and still
 * decrypting), skips, dry run, verify, and the compare-and-swap paths: a conflicting writer
 * makes the run re-read and retry, a writer that already re-wrapped makes it skip, a writer
 * that never stops exhausts `maxAttempts`, and an I/O failure is reported as it is.
 */
import { describe, expect, it } from 'vitest';
import {
  FieldEncryptor, KeyStoreError, MemoryKeyStore, type DekRecord, type KeyStore, type KeyStoreOptions, type WrappedKey,
} from '../../src/index.js';
import { rewrapKeyStore, rewrapResultToJSON } from '../../src/rewrap/index.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { aesKek } from '../helpers/keys.js';
import { drain } from '../helpers/rewrap.js';

/** Writes field rows under `kek` into `store`: `rows` values over DEKs of `perDek` rows, plus one deterministic key. */
async function writeRows(store: KeyStore, kek: CountingKek | ReturnType<typeof aesKek>, rows = 40, perDek = 10, named = true) {
  const fields = new FieldEncryptor({ keks: kek, keyStore: store, limits: { maxEncryptionsPerDek: perDek } });
  const out: { aad: string; value: string; ct: string }[] = [];
  for (let i = 0; i < rows; i++) out.push({ aad: `t.c#${i}`, value: `v${i}`, ct: await fields.encryptText(`v${i}`, { aad: `t.c#${i}` }) });
  const det = named ? await fields.encryptDeterministicText('alice@example.com', { keyName: 'users.email', aad: 'users.email' }) : '';
  return { out, det };
}

async function records(store: KeyStore): Promise<DekRecord[]> {
  return drain(store.list());
}

/** A store that lets a test run code right before each updateWrappedDeks. */
class HookedStore extends MemoryKeyStore {
  beforeUpdate: ((keyRef: string) => Promise<void>) | undefined;
  override async updateWrappedDeks(keyRef: string, w: readonly WrappedKey[], rev: number, o?: KeyStoreOptions): Promise<DekRecord> {
    await this.beforeUpdate?.(keyRef);
    return super.updateWrappedDeks(keyRef, w, rev, o);
  }
}

describe('rewrapKeyStore', () => {
  it('re-wraps every record (randomized and deterministic) and old rows decrypt with the new KEK alone', async () => {
    const a = aesKek('kek/a');
    const b = aesKek('kek/b');
    const store = new MemoryKeyStore();
    const { out, det } = await writeRows(store, a);
    const before = await records(store);
    expect(before).toHaveLength(5);
    const from = new CountingKek(a);
    const results = await drain(rewrapKeyStore(store, { to: [b], from: [from] }));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rewrapped'));
    expect(rewrapResultToJSON(results[0]!)).toEqual({ id: before[0]!.keyRef, status: 'rewrapped', kekIds: ['kek/b'], revision: 2, verified: false });
    expect(from.unwraps).toBe(5);
    for (const r of await records(store)) {
      expect(r.revision).toBe(2);
      expect(r.wrappedDeks.map((w) => w.kekId)).toEqual(['kek/b']);
    }
    const reader = new FieldEncryptor({ keks: b, keyStore: store });
    for (const row of out) expect(await reader.decryptText(row.ct, { aad: row.aad })).toBe(row.value);
    expect(await reader.decryptText(det, { aad: 'users.email' })).toBe('alice@example.com');
    // Nothing left to do: a second run skips all, without unwrapping.
    const again = new CountingKek(a);
    expect((await drain(rewrapKeyStore(store, { to: [b], from: [again, b] }))).map((r) => r.status)).toEqual(Array(5).fill('skipped'));
    expect(again.unwraps).toBe(0);
  });

  it('dry run changes nothing; verify checks each new wrapped key', async () => {
    const a = aesKek('kek/a');
    const b = new CountingKek(aesKek('kek/b'));
    const store = new MemoryKeyStore();
    await writeRows(store, a, 20, 10, false);
    const planned = await drain(rewrapKeyStore(store, { to: [b], from: [a], dryRun: true }));
    expect(planned.map((r) => r.status)).toEqual(['would-rewrap', 'would-rewrap']);
    expect((await records(store)).every((r) => r.revision === 1)).toBe(true);
    const verified = await drain(rewrapKeyStore(store, { to: [b], from: [a], verify: true }));
    expect(verified.every((r) => r.status === 'rewrapped' && r.verified)).toBe(true);
    expect(b.unwraps).toBe(2);
  });

  it('a record under no `from` KEK fails with ERR_NO_MATCHING_KEK; the others go on', async () => {
    const a = aesKek('kek/a');
    const store = new MemoryKeyStore();
    await writeRows(store, a, 10, 10, false);
    await writeRows(store, aesKek('kek/other'), 10, 10, false);
    const results = await drain(rewrapKeyStore(store, { to: [aesKek('kek/b')], from: [a] }));
    expect(results.filter((r) => r.status === 'failed').map((r) => r.status === 'failed' && r.error.code)).toEqual(['ERR_NO_MATCHING_KEK']);
    expect(results.filter((r) => r.status === 'rewrapped')).toHaveLength(1);
  });

  it('a conflicting writer: the run re-reads and retries from the new state', async () => {
    const a = aesKek('kek/a');
    const dr = aesKek('kek/dr');
    const b = aesKek('kek/b');
    const store = new HookedStore();
    await writeRows(store, a, 10, 10, false);
    const [record] = await records(store);
    let interfered = false;
    store.beforeUpdate = async (keyRef) => {
      if (interfered) return;
      interfered = true; // someone adds a DR wrapping meanwhile
      const current = (await store.get(keyRef))!;
      const dek = await a.unwrap(current.wrappedDeks[0]!);
      await store.updateWrappedDeks(keyRef, [current.wrappedDeks[0]!, await dr.wrap(dek)], current.revision);
    };
    const results = await drain(rewrapKeyStore(store, { to: [b], from: [a] }));
    expect(results).toEqual([expect.objectContaining({ status: 'rewrapped', id: record!.keyRef, revision: 3 })]);
  });

  it('another run that already re-wrapped the record makes this one skip it', async () => {
    const a = aesKek('kek/a');
    const b = aesKek('kek/b');
    const store = new HookedStore();
    await writeRows(store, a, 10, 10, false);
    let first = true;
    store.beforeUpdate = async () => {
      if (!first) return;
      first = false;
      await drain(rewrapKeyStore(store, { to: [b], from: [a] })); // a concurrent run wins the race
    };
    const results = await drain(rewrapKeyStore(store, { to: [b], from: [a] }));
    expect(results).toEqual([expect.objectContaining({ status: 'skipped', reason: 'already-current' })]);
    expect((await records(store))[0]!.revision).toBe(2);
  });

  it('a writer that never stops exhausts maxAttempts; an I/O failure is reported as is', async () => {
    const a = aesKek('kek/a');
    const store = new HookedStore();
    await writeRows(store, a, 10, 10, false);
    store.beforeUpdate = async (keyRef) => {
      const current = (await store.get(keyRef))!;
      await MemoryKeyStore.prototype.updateWrappedDeks.call(store, keyRef, current.wrappedDeks, current.revision);
    };
    const [lost] = await drain(rewrapKeyStore(store, { to: [aesKek('kek/b')], from: [a], maxAttempts: 2 }));
    expect(lost).toMatchObject({ status: 'failed', error: { code: 'ERR_KEY_STORE', message: expect.stringMatching(/2 compare-and-swap attempts/) } });
    store.beforeUpdate = async () => {
      throw new KeyStoreError('disk on fire');
    };
    const [io] = await drain(rewrapKeyStore(store, { to: [aesKek('kek/b')], from: [a] }));
    expect(io).toMatchObject({ status: 'failed', error: { code: 'ERR_KEY_STORE', message: 'disk on fire' } });
  });

  it('rejects a store that is not a KeyStore, synchronously', () => {
    expect(() => rewrapKeyStore({} as never, { to: aesKek() })).toThrow(TypeError);
    expect(() => rewrapKeyStore(new MemoryKeyStore(), { to: aesKek(), maxAttempts: 0 })).toThrow(RangeError);
  });
});
