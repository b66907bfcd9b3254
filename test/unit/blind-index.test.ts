/**
 * Blind indexes and their planner: determinism across processes sharing a store, definitions
 * that cannot be mixed up, bounds, distribution, and key separation from the values' DEKs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FieldEncryptor, LocalAesKek, MemoryKeyStore, planBlindIndex } from '../../src/index.js';

const kek = () => new LocalAesKek({ id: 'bidx-kek', key: new Uint8Array(32).fill(3) });

describe('FieldEncryptor.blindIndex', () => {
  it('two encryptors sharing a key store compute the same index; normalization is part of the definition', async () => {
    const store = new MemoryKeyStore();
    const a = new FieldEncryptor({ keks: kek(), keyStore: store });
    const b = new FieldEncryptor({ keks: kek(), keyStore: store });
    const def = { name: 'users.email', bits: 16, transform: ['trim', 'lowercase'] } as const;
    const ia = await a.blindIndex(' Ada@Example.com ', def);
    expect(await b.blindIndex('ada@example.com', def)).toBe(ia);
    expect(ia).toBeGreaterThanOrEqual(0);
    expect(ia).toBeLessThan(2 ** 16);
    // One key record for the index, whoever made it first.
    const names = [];
    for await (const r of store.list()) names.push(r.name);
    expect(names).toEqual(['blind-index:users.email']);
  });

  it('a string indexes as its UTF-8 bytes, short or long (the one-update fast path agrees with the general encoding)', async () => {
    // Attack: a fast path that hashes different bytes for some strings would make equal values
    // land in different buckets (missed rows) or unequal ones collide by construction.
    const fields = new FieldEncryptor({ keks: kek(), keyStore: new MemoryKeyStore() });
    const def = { name: 'users.note', bits: 32 } as const;
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.string({ minLength: 330, maxLength: 1200 })), async (s) => {
      expect(await fields.blindIndex(s, def)).toBe(await fields.blindIndex(new TextEncoder().encode(s), def));
    }), { numRuns: 200 });
  });

  it('a different definition (bits, transform, aad, arity) gives unrelated values, not a prefix', async () => {
    const fields = new FieldEncryptor({ keks: kek(), keyStore: new MemoryKeyStore() });
    const values = Array.from({ length: 64 }, (_, i) => `user${i}@example.com`);
    const at = async (o: Record<string, unknown>) => Promise.all(values.map((v) => fields.blindIndex(v, { name: 'users.email', bits: 16, ...o })));
    const base = await at({});
    const b15 = await at({ bits: 15 });
    expect(b15.filter((x, i) => x === base[i]! >>> 1).length).toBeLessThan(8); // not base >>> 1
    for (const other of [await at({ transform: 'lowercase' }), await at({ aad: 'tenant-2' })]) {
      expect(other.filter((x, i) => x === base[i]).length).toBeLessThan(4);
    }
    // Compound: ('ab','c') and ('a','bc') differ; order matters.
    const ab = await fields.blindIndex(['ab', 'c'], { name: 'pair', bits: 32 });
    expect(await fields.blindIndex(['a', 'bc'], { name: 'pair', bits: 32 })).not.toBe(ab);
    expect(await fields.blindIndex(['c', 'ab'], { name: 'pair', bits: 32 })).not.toBe(ab);
  });

  it('values stay in [0, 2^bits) and spread over the buckets (fast-check)', async () => {
    const fields = new FieldEncryptor({ keks: kek(), keyStore: new MemoryKeyStore() });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 32 }), fc.string(), async (bits, v) => {
        const x = await fields.blindIndex(v, { name: 'p', bits });
        return Number.isInteger(x) && x >= 0 && x < 2 ** bits;
      }),
      { numRuns: 200 },
    );
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[await fields.blindIndex(`v${i}`, { name: 'spread', bits: 4 })]++;
    for (const c of counts) expect(c).toBeGreaterThan(850); // expected 1,000 each
  });

  it('attack: a deterministic key named like an index key is refused (the index key stays apart from every value DEK)', async () => {
    const fields = new FieldEncryptor({ keks: kek(), keyStore: new MemoryKeyStore() });
    await expect(fields.encryptDeterministic('x', { keyName: 'blind-index:users.email' })).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects bad definitions with TypeError / RangeError naming the option', async () => {
    const fields = new FieldEncryptor({ keks: kek(), keyStore: new MemoryKeyStore() });
    await expect(fields.blindIndex('x', { name: 'a', bits: 0 })).rejects.toThrow(/options.bits/);
    await expect(fields.blindIndex('x', { name: 'a', bits: 33 })).rejects.toBeInstanceOf(RangeError);
    await expect(fields.blindIndex('x', { name: 'a', bits: 1.5 })).rejects.toBeInstanceOf(TypeError);
    await expect(fields.blindIndex('x', { name: 'a', bits: 8, transform: 'rot13' as never })).rejects.toThrow(/options.transform\[0\]/);
    await expect(fields.blindIndex([], { name: 'a', bits: 8 })).rejects.toBeInstanceOf(RangeError);
    await expect(fields.blindIndex(42 as never, { name: 'a', bits: 8 })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('planBlindIndex', () => {
  it('recommends the largest bits that keeps ≥ 2 distinct values per index value', () => {
    const p = planBlindIndex({ rows: 1_000_000, distinctValues: 1_000_000 });
    expect(p.bits).toBe(18); // 2^18 = 262,144 buckets → 3.8 values each; 19 bits would give 1.9
    expect(p.valuesPerBucket).toBeGreaterThanOrEqual(2);
    expect(p.rowsPerLookup).toBeCloseTo(1 + 999_999 / 2 ** 18, 3);
    expect(p.explanation).toMatch(/18 bits/);
  });

  it('counts other indexes on the same rows, and refuses when no index is safe', () => {
    expect(planBlindIndex({ rows: 1_000_000, distinctValues: 1_000_000, otherIndexBits: 10 }).bits).toBe(8);
    const states = planBlindIndex({ rows: 1_000_000, distinctValues: 3 });
    expect(states.bits).toBeUndefined();
    expect(states.explanation).toMatch(/reveal equality/);
    expect(planBlindIndex({ rows: 10, distinctValues: 8, minValuesPerBucket: 4 }).bits).toBe(1);
    expect(planBlindIndex({ rows: 2 ** 40, distinctValues: 2 ** 40 }).bits).toBe(32);
  });

  it('validates its input', () => {
    expect(() => planBlindIndex({ rows: 10, distinctValues: 11 })).toThrow(RangeError);
    expect(() => planBlindIndex({ rows: 0, distinctValues: 0 })).toThrow(RangeError);
    expect(() => planBlindIndex({ rows: 10, distinctValues: 5, otherIndexBits: -1 })).toThrow(RangeError);
  });
});
