/**
 * Blind index memoization (per encryptor: the definition's encoding, the derived index key).
 * Adversaries: a caller that mutates its options object between calls (a stale memo would
 * index under the old definition, and lookups would silently find nothing or the wrong
 * bucket), and an implementation drift (the values are checked against the construction in
 * src/search/blind-index.ts recomputed here from node:crypto and the key record's own DEK).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FieldEncryptor, LocalAesKek, MemoryKeyStore } from '../../src/index.js';
import type { BlindIndexOptions } from '../../src/search/blind-index.js';

const kek = new LocalAesKek({ id: 'bidx-memo', key: new Uint8Array(32).fill(9) });
const parts = (xs: readonly Uint8Array[]) => Buffer.concat([u32(xs.length), ...xs.flatMap((x) => [u32(x.length), Buffer.from(x)])]);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const BUILTIN: Record<string, (v: string) => string> = { trim: (v) => v.trim(), lowercase: (v) => v.toLowerCase(), digits: (v) => v.replace(/\D+/gu, '') };

/** The documented construction, from the record's DEK (unwrapped here by the KEK itself). */
async function reference(store: MemoryKeyStore, o: { name: string; bits: number; aad?: string; transform?: readonly string[] }, values: readonly (string | Uint8Array)[]): Promise<number> {
  const record = (await store.getByName(`blind-index:${o.name}`))!;
  const dek = await kek.unwrap(record.wrappedDeks[0]!);
  const t = o.transform ?? [];
  const definition = parts(['kv-envelope blind index v1', o.name, String(o.bits), String(values.length), o.aad ?? '', ...t].map((s) => Buffer.from(s, 'utf8')));
  const key = Buffer.from(hkdfSync('sha256', dek, new Uint8Array(0), definition, 32));
  const bytes = values.map((v) => (typeof v === 'string' ? Buffer.from(t.reduce((x, n) => BUILTIN[n]!(x), v), 'utf8') : v));
  return createHmac('sha256', key).update(parts(bytes)).digest().readUInt32BE(0) >>> (32 - o.bits);
}

describe('blind index memoization', () => {
  it('values match the documented construction, for one value, compound values, bytes, transforms, aad and 32 bits (fast-check)', async () => {
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek, keyStore: store });
    const value = fc.oneof(fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 40 }));
    await fc.assert(
      fc.asyncProperty(
        fc.record({ name: fc.constantFrom('a', 'users.email'), bits: fc.integer({ min: 1, max: 32 }), aad: fc.option(fc.string(), { nil: undefined }), transform: fc.subarray(['trim', 'lowercase', 'digits']) }),
        fc.array(value, { minLength: 1, maxLength: 3 }),
        async (o, values) => {
          const options = { name: o.name, bits: o.bits, transform: o.transform as BlindIndexOptions['transform'], ...(o.aad === undefined ? {} : { aad: o.aad }) };
          const first = await fields.blindIndex(values.length === 1 ? values[0]! : values, options);
          const again = await fields.blindIndex(values.length === 1 ? values[0]! : values, options); // memoized path
          expect(again).toBe(first);
          expect(first).toBe(await reference(store, o, values));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('attack: a caller mutating its options object between calls always gets the current definition', async () => {
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek, keyStore: store });
    const fresh = (o: BlindIndexOptions) => fields.blindIndex('  Ada@Example.COM ', { ...o, transform: Array.isArray(o.transform) ? [...o.transform] : o.transform });
    const transform: ('trim' | 'lowercase')[] = ['trim'];
    const options: BlindIndexOptions = { name: 'users.email', bits: 32, transform };
    const seen = new Set<number>();
    const check = async () => {
      const v = await fields.blindIndex('  Ada@Example.COM ', options);
      expect(v).toBe(await fresh(options));
      seen.add(v);
    };
    await check();
    options.bits = 31;
    await check();
    transform.push('lowercase'); // in place: same array object
    await check();
    options.aad = 'tenant-2';
    await check();
    const custom = { id: 'v1', apply: (v: string) => v.trim() };
    options.transform = [custom];
    await check();
    custom.id = 'v2'; // same object, new id: a new definition
    await check();
    custom.apply = (v: string) => v.toUpperCase();
    await check();
    expect(seen.size).toBe(7); // every change made a different index value
    options.bits = 40;
    await expect(fields.blindIndex('x', options)).rejects.toBeInstanceOf(RangeError); // validated again
  });

  it('a new key record (retireDataKey reloads it) re-derives the key; the index stays the same', async () => {
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek, keyStore: store });
    const options = { name: 'users.email', bits: 20 };
    const before = await fields.blindIndex('ada@example.com', options);
    fields.retireDataKey();
    expect(await fields.blindIndex('ada@example.com', options)).toBe(before);
    expect(await new FieldEncryptor({ keks: kek, keyStore: store }).blindIndex('ada@example.com', { ...options })).toBe(before);
  });
});
