/**
 * Property tests: the node and noble backends are interchangeable byte for byte, and any single
 * bit flip anywhere in the authenticated input makes opening fail with ERR_DECRYPTION_FAILED.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AesGcm } from '../../src/aead/gcm.js';
import { nobleBackend } from '../../src/aead/noble-backend.js';
import { nodeBackend } from '../../src/aead/node-backend.js';
import { sivOpen, sivSeal } from '../../src/aead/siv.js';
import { DecryptionFailedError } from '../../src/errors.js';

const node = new AesGcm(nodeBackend);
const noble = new AesGcm(nobleBackend);
const RUNS = { numRuns: 150 };

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const gcmInput = fc.record({
  key: bytes(32),
  nonce: bytes(12),
  aad: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
  // Small values dominate real field data; the second arm spreads lengths over 0..4096.
  plaintext: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 4096, size: 'max' })),
  prefixLength: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
});

function flipBit(data: Uint8Array, bit: number): Uint8Array {
  const copy = data.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

/** Asserts `fn` throws DecryptionFailedError with the stable code. */
function expectDecryptionFailure(fn: () => unknown): void {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(DecryptionFailedError);
  expect((error as DecryptionFailedError).code).toBe('ERR_DECRYPTION_FAILED');
}

describe('AES-GCM: node and noble agree', () => {
  it('seal produces identical bytes and each opens the other\'s output', () => {
    fc.assert(
      fc.property(gcmInput, ({ key, nonce, aad, plaintext, prefixLength }) => {
        const a = node.seal(key, nonce, plaintext, aad, prefixLength);
        const b = noble.seal(key, nonce, plaintext, aad, prefixLength);
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        expect(a.length).toBe(prefixLength + plaintext.length + 16);
        expect(a.subarray(0, prefixLength).every((x) => x === 0)).toBe(true);
        const ct = a.subarray(prefixLength, a.length - 16);
        const tag = a.subarray(a.length - 16);
        expect(Buffer.from(noble.open(key, nonce, ct, tag, aad)).equals(Buffer.from(plaintext))).toBe(true);
        expect(Buffer.from(node.open(key, nonce, ct, tag, aad)).equals(Buffer.from(plaintext))).toBe(true);
      }),
      RUNS,
    );
  });

  it('any single bit flip in ciphertext, tag, aad or nonce is rejected by both', () => {
    fc.assert(
      fc.property(gcmInput, fc.nat(), ({ key, nonce, aad, plaintext }, pick) => {
        const sealed = node.seal(key, nonce, plaintext, aad);
        let ct = sealed.subarray(0, plaintext.length);
        let tag = sealed.subarray(plaintext.length);
        let ad: Uint8Array = aad ?? new Uint8Array(0);
        let iv: Uint8Array = nonce;
        // One bit index over the concatenation ciphertext || tag || aad || nonce.
        let bit = pick % ((ct.length + tag.length + ad.length + iv.length) * 8);
        if (bit < ct.length * 8) ct = flipBit(ct, bit);
        else if ((bit -= ct.length * 8) < tag.length * 8) tag = flipBit(tag, bit);
        else if ((bit -= tag.length * 8) < ad.length * 8) ad = flipBit(ad, bit);
        else iv = flipBit(iv, bit - ad.length * 8);
        for (const aead of [node, noble]) expectDecryptionFailure(() => aead.open(key, iv, ct, tag, ad));
      }),
      RUNS,
    );
  });

  it('a missing or an extra AAD is rejected', () => {
    fc.assert(
      fc.property(bytes(32), bytes(12), fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), (key, nonce, aad, pt) => {
        const withAad = node.seal(key, nonce, pt, aad);
        const without = node.seal(key, nonce, pt);
        for (const aead of [node, noble]) {
          expectDecryptionFailure(() => aead.open(key, nonce, withAad.subarray(0, -16), withAad.subarray(-16)));
          expectDecryptionFailure(() => aead.open(key, nonce, without.subarray(0, -16), without.subarray(-16), aad));
        }
      }),
      RUNS,
    );
  });
});

describe('HKDF-SHA-256: node and noble agree', () => {
  it('for any ikm, salt, info (including info > 1024 bytes) and length', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 128 }),
        fc.uint8Array({ maxLength: 128 }),
        fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 1000, maxLength: 1100 })),
        fc.oneof(fc.integer({ min: 1, max: 96 }), fc.integer({ min: 1, max: 8160 })),
        (ikm, salt, info, length) => {
          const a = node.hkdf(ikm, salt, info, length);
          const b = noble.hkdf(ikm, salt, info, length);
          expect(a.length).toBe(length);
          expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        },
      ),
      RUNS,
    );
  });
});

describe('AES-SIV', () => {
  const sivInput = fc.record({
    key: fc.constantFrom(32, 48, 64).chain((n) => bytes(n)),
    plaintext: fc.uint8Array({ maxLength: 1024 }),
    ad: fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 4 }),
  });

  it('round-trips and is deterministic', () => {
    fc.assert(
      fc.property(sivInput, ({ key, plaintext, ad }) => {
        const sealed = sivSeal(key, plaintext, ...ad);
        expect(sealed.length).toBe(plaintext.length + 16);
        expect(Buffer.from(sivSeal(key, plaintext, ...ad)).equals(Buffer.from(sealed))).toBe(true);
        expect(Buffer.from(sivOpen(key, sealed, ...ad)).equals(Buffer.from(plaintext))).toBe(true);
      }),
      RUNS,
    );
  });

  it('any single bit flip in the sealed bytes or an AD component is rejected', () => {
    fc.assert(
      fc.property(sivInput, fc.nat(), ({ key, plaintext, ad }, pick) => {
        const sealed = sivSeal(key, plaintext, ...ad);
        const parts = [sealed, ...ad];
        const totalBits = parts.reduce((n, p) => n + p.length * 8, 0);
        let bit = pick % totalBits;
        let index = 0;
        while (bit >= parts[index]!.length * 8) bit -= parts[index++]!.length * 8;
        parts[index] = flipBit(parts[index]!, bit);
        const [tampered, ...tamperedAd] = parts;
        expectDecryptionFailure(() => sivOpen(key, tampered!, ...tamperedAd));
      }),
      RUNS,
    );
  });

  it('AD components are not concatenated: splitting or reordering them changes the context', () => {
    fc.assert(
      fc.property(bytes(64), fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.uint8Array({ minLength: 1, maxLength: 16 }), (key, pt, a, b) => {
        const sealed = sivSeal(key, pt, a, b);
        const joined = new Uint8Array([...a, ...b]);
        expectDecryptionFailure(() => sivOpen(key, sealed, joined));
        if (!Buffer.from(a).equals(Buffer.from(b))) expectDecryptionFailure(() => sivOpen(key, sealed, b, a));
        expectDecryptionFailure(() => sivOpen(key, sealed, a));
      }),
      RUNS,
    );
  });
});
