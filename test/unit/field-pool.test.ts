/**
 * FieldEncryptorPool: byte-compatible with FieldEncryptor both ways, per-item results, chunks
 * that straddle a DEK's retirement, and tampering caught in the workers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FieldEncryptor, FieldEncryptorPool, LocalAesKek, MemoryKeyStore } from '../../src/index.js';
import { CountingKek } from '../helpers/counting-kek.js';

const kek = () => new LocalAesKek({ id: 'pool-kek', key: new Uint8Array(32).fill(4) });
const pools: FieldEncryptorPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});
function pool(fields: FieldEncryptor, chunkSize = 64): FieldEncryptorPool {
  const p = new FieldEncryptorPool({ fields, workers: 2, chunkSize });
  pools.push(p);
  return p;
}
const text = (r: { ok: boolean; value?: Uint8Array }) => (r.ok ? new TextDecoder().decode(r.value) : undefined);

describe('FieldEncryptorPool', () => {
  it('pool ciphertexts decrypt with FieldEncryptor and the reverse; results in input order', async () => {
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek(), keyStore: store });
    const p = pool(fields);
    const items = Array.from({ length: 1000 }, (_, i) => ({ value: `value ${i} ${'é'.repeat(i % 7)}`, aad: `t.c#${i}` }));
    const enc = await p.encryptMany(items);
    expect(enc.every((r, i) => r.ok && r.index === i)).toBe(true);
    const other = new FieldEncryptor({ keks: kek(), keyStore: store });
    for (const i of [0, 1, 63, 64, 999]) {
      const v = (enc[i] as { value: Uint8Array }).value;
      expect(v.length).toBe(Buffer.byteLength(items[i]!.value) + 37);
      expect(new TextDecoder().decode(await other.decrypt(v, { aad: `t.c#${i}` }))).toBe(items[i]!.value);
    }
    const byFields = await fields.encryptMany(items);
    const dec = await pool(new FieldEncryptor({ keks: kek(), keyStore: store })).decryptMany(byFields.map((r, i) => ({ value: (r as { value: Uint8Array }).value, aad: `t.c#${i}` })));
    expect(dec.map(text)).toEqual(items.map((x) => x.value));
  });

  it('attack: tampered, swapped, truncated and foreign values fail alone with typed errors', async () => {
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek(), keyStore: store });
    const p = pool(fields, 4);
    const enc = (await p.encryptMany(['a', 'b', 'c', 'd'].map((v, i) => ({ value: v, aad: `r#${i}` })))).map((r) => (r as { value: Uint8Array }).value);
    const flipped = Uint8Array.from(enc[0]!);
    flipped[20]! ^= 1;
    const foreign = await new FieldEncryptor({ keks: kek(), keyStore: new MemoryKeyStore() }).encrypt('x');
    const results = await p.decryptMany([
      { value: flipped, aad: 'r#0' },
      { value: enc[1]!, aad: 'r#2' },
      { value: enc[2]!.subarray(0, 20), aad: 'r#2' },
      { value: foreign },
      { value: 'nope' as never },
      { value: enc[3]!, aad: 'r#3' },
    ]);
    expect(results.map((r) => (r.ok ? text(r) : (r.error as { code?: string }).code ?? r.error.name))).toEqual([
      'ERR_DECRYPTION_FAILED', 'ERR_DECRYPTION_FAILED', 'ERR_ENVELOPE_MALFORMED', 'ERR_KEY_NOT_FOUND', 'TypeError', 'd',
    ]);
  });

  it('a chunk that straddles a DEK retirement is split: every DEK stays within its encryption limit', async () => {
    const store = new MemoryKeyStore();
    const counting = new CountingKek(kek());
    const fields = new FieldEncryptor({ keks: counting, keyStore: store, limits: { maxEncryptionsPerDek: 100 } });
    const enc = await pool(fields, 64).encryptMany(Array.from({ length: 1000 }, (_, i) => `v${i}`));
    const perKey = new Map<string, number>();
    for (const r of enc) {
      const ref = Buffer.from((r as { value: Uint8Array }).value.subarray(1, 9)).toString('hex');
      perKey.set(ref, (perKey.get(ref) ?? 0) + 1);
    }
    expect([...perKey.values()].every((n) => n <= 100)).toBe(true);
    expect(perKey.size).toBe(10);
    const reader = new FieldEncryptor({ keks: kek(), keyStore: store });
    expect((await reader.decryptMany(enc.map((r) => (r as { value: Uint8Array }).value))).every((r) => r.ok)).toBe(true);
  });

  it('deterministic values are decrypted on the main thread; invalid items are per-item errors', async () => {
    const fields = new FieldEncryptor({ keks: kek(), keyStore: new MemoryKeyStore() });
    const det = await fields.encryptDeterministic('same', { keyName: 'k' });
    const p = pool(fields);
    const r = await p.decryptMany([det]);
    expect(text(r[0]!)).toBe('same');
    const e = await p.encryptMany([{ value: 'x', aad: '\ud800' }, 42 as never, 'ok']);
    expect(e.map((x) => (x.ok ? 'ok' : x.error.name))).toEqual(['RangeError', 'TypeError', 'ok']);
    expect(() => new FieldEncryptorPool({ fields: {} as never })).toThrow(TypeError);
  });
});
