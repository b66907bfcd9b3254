/**
 * Property: with one UnwrappedKeyCache shared by every client, a decrypt succeeds exactly when
 * the decrypting client could have unwrapped the DEK itself, whatever other clients did before.
 * The adversary is every other tenant of the process: KEKs that share our KEK's id but not its
 * key, clients with other key stores, and any interleaving of their encrypts and decrypts
 * (which warm the cache and the hot memos).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeClient, EnvelopeError, FieldEncryptor, LocalAesKek, MemoryKeyStore, UnwrappedKeyCache } from '../../src/index.js';

// Three KEK objects; 0 and 1 share an id (an impostor), 2 is unrelated.
const KEK_IDS = ['tenant/shared', 'tenant/shared', 'tenant/other'] as const;
// Client configurations: which KEK objects, which of two stores.
const CONFIGS: ReadonlyArray<{ keks: readonly number[]; store: number }> = [
  { keks: [0], store: 0 }, { keks: [1], store: 0 }, { keks: [2], store: 1 }, { keks: [0, 2], store: 0 }, { keks: [1], store: 1 },
];

const opArb = fc.record({ writer: fc.nat(CONFIGS.length - 1), reader: fc.nat(CONFIGS.length - 1), field: fc.boolean() });

describe('shared UnwrappedKeyCache: served only to clients that could unwrap (property)', () => {
  it('any interleaving of tenants: a decrypt opens iff the reader holds a KEK object that wrapped the DEK (and, for fields, the store)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const keks = KEK_IDS.map((id) => new LocalAesKek({ id, key: randomBytes(32) }));
        const stores = [new MemoryKeyStore(), new MemoryKeyStore()];
        const cache = new UnwrappedKeyCache();
        const envelopes = CONFIGS.map((c) => new EnvelopeClient({ keks: c.keks.map((i) => keks[i]!), unwrappedKeyCache: cache }));
        const fields = CONFIGS.map((c) => new FieldEncryptor({ keks: c.keks.map((i) => keks[i]!), keyStore: stores[c.store]!, unwrappedKeyCache: cache }));
        for (const { writer, reader, field } of ops) {
          const w = CONFIGS[writer]!;
          const r = CONFIGS[reader]!;
          const shared = w.keks.some((i) => r.keks.includes(i)) && (!field || w.store === r.store);
          const plaintext = randomBytes(8);
          const outcome = field
            ? await fields[reader]!.decrypt(await fields[writer]!.encrypt(plaintext)).then((p) => p, (e: unknown) => e)
            : await envelopes[reader]!.decrypt(await envelopes[writer]!.encrypt(plaintext)).then((d) => d.plaintext, (e: unknown) => e);
          if (shared) expect(Buffer.from(outcome as Uint8Array)).toEqual(plaintext);
          else expect(outcome).toBeInstanceOf(EnvelopeError);
        }
      }),
      { numRuns: 60 },
    );
  });
});
