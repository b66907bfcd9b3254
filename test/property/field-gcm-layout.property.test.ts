/**
 * Property tests of the randomized field layout against an independent AES-GCM: the hot path
 * binds its AAD in reused buffers (a copy loop for short ASCII labels, TextEncoder otherwise)
 * and keeps a per-DEK backend key, so these check from outside that what it seals is exactly
 * `0xF1 ‖ keyRef ‖ nonce ‖ AES-256-GCM(DEK, nonce, value, AAD = 0xF1 ‖ keyRef ‖ UTF-8(aad)) ‖ tag`
 * (docs/format.md §Field), for ASCII, non-ASCII and long AADs, in any order of calls; and that
 * a backend's per-key object (`gcmKey`) gives the bytes of its plain calls.
 *
 * Adversary: an AAD encoder that diverges from UTF-8 (a fast path that mis-writes a character,
 * keeps a previous call's longer AAD, or a stale keyRef prefix) would bind another string than
 * the caller's; a per-key cache that serves another key's state would seal under it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleBackend } from '../../src/aead/noble-backend.js';
import { nodeBackend } from '../../src/aead/node-backend.js';
import { FieldEncryptor, LocalAesKek, MemoryKeyStore } from '../../src/index.js';

const te = new TextEncoder();
const kek = new LocalAesKek({ id: 'local/aes/layout', key: randomBytes(32) });
const store = new MemoryKeyStore();
const encryptors = {
  node: new FieldEncryptor({ keks: kek, keyStore: store }),
  noble: new FieldEncryptor({ keks: kek, keyStore: store, backend: 'noble' }),
};

/** AADs across the fast path's boundaries: short ASCII, non-ASCII anywhere, and past 64 chars. */
const aadArb = fc.oneof(
  fc.constantFrom('', 'users.ssn#42', 'a'.repeat(64), 'a'.repeat(65), 'é', 'users.ssn#4é', 'x'.repeat(63) + '€'),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('a', 'Z', '#', '\u007f', '\u0080', 'é', '€', '😀'), maxLength: 70 }),
);

async function dekOf(ct: Uint8Array): Promise<Uint8Array> {
  const record = await store.get(Buffer.from(ct.subarray(1, 9)).toString('hex'));
  if (record === undefined) throw new Error('no record for the keyRef');
  return kek.unwrap(record.wrappedDeks[0]!);
}

describe('field GCM layout against an independent AES-GCM', () => {
  it('any sequence of values and aads seals as AES-GCM under prefix ‖ UTF-8(aad), on both backends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('node' as const, 'noble' as const),
        fc.array(fc.record({ value: fc.uint8Array({ maxLength: 200 }), aad: aadArb }), { minLength: 1, maxLength: 6 }),
        async (backend, items) => {
          const fields = encryptors[backend];
          for (const { value, aad } of items) {
            const ct = await fields.encrypt(value, { aad });
            const dek = await dekOf(ct);
            const bound = Buffer.concat([ct.subarray(0, 9), te.encode(aad)]);
            const d = createDecipheriv('aes-256-gcm', dek, ct.subarray(9, 21));
            d.setAuthTag(ct.subarray(ct.length - 16));
            d.setAAD(bound);
            const plain = Buffer.concat([d.update(ct.subarray(21, ct.length - 16)), d.final()]);
            expect(plain.equals(Buffer.from(value))).toBe(true);
            // And the other way: an independent seal under the same binding decrypts.
            const nonce = randomBytes(12);
            const c = createCipheriv('aes-256-gcm', dek, nonce);
            c.setAAD(bound);
            const body = Buffer.concat([c.update(value), c.final()]);
            const theirs = Buffer.concat([ct.subarray(0, 9), nonce, body, c.getAuthTag()]);
            expect(Buffer.from(await fields.decrypt(theirs, { aad })).equals(Buffer.from(value))).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a decrypt after a longer or non-ASCII aad still binds only its own aad', async () => {
    const fields = encryptors.node;
    const ct = await fields.encrypt('v', { aad: 'ab' });
    await fields.decrypt(await fields.encrypt('w', { aad: 'abé-and-a-longer-label' }), { aad: 'abé-and-a-longer-label' });
    expect(new TextDecoder().decode(await fields.decrypt(ct, { aad: 'ab' }))).toBe('v');
    await expect(fields.decrypt(ct, { aad: 'abé' })).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    await expect(fields.decrypt(ct, { aad: 'a' })).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
  });
});

describe('AeadBackend.gcmKey', () => {
  it('seals and opens exactly as the plain calls with its key, for interleaved keys', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(nodeBackend, nobleBackend),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ which: fc.nat(), nonce: fc.uint8Array({ minLength: 12, maxLength: 12 }), pt: fc.uint8Array({ maxLength: 100 }), aad: fc.uint8Array({ maxLength: 40 }) }), { minLength: 1, maxLength: 8 }),
        (backend, keys, calls) => {
          const bound = keys.map((k) => backend.gcmKey!(k));
          for (const { which, nonce, pt, aad } of calls) {
            const i = which % keys.length;
            const sealed = bound[i]!.seal(nonce, pt, aad, 3);
            expect(Buffer.from(sealed).equals(Buffer.from(backend.gcmSeal(keys[i]!, nonce, pt, aad, 3)))).toBe(true);
            const ct = sealed.subarray(3, sealed.length - 16);
            const tag = sealed.subarray(sealed.length - 16);
            expect(Buffer.from(bound[i]!.open(nonce, ct, tag, aad)!).equals(Buffer.from(pt))).toBe(true);
            const flipped = tag.slice();
            flipped[0]! ^= 1;
            expect(bound[i]!.open(nonce, ct, flipped, aad)).toBeUndefined();
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
