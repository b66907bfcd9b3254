/**
 * Property tests of AES-SIV across backends: the node:crypto S2V/CTR and noble's pure-JS
 * `aessiv` give identical bytes for random keys, plaintexts and associated-data vectors, also
 * when the node backend's per-key contexts and associated-data memo are reused, mixed across keys
 * or fed a key array whose bytes changed; and both reject every single bit flip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleBackend } from '../../src/aead/noble-backend.js';
import { nodeBackend } from '../../src/aead/node-backend.js';
import { AesSiv } from '../../src/aead/siv.js';
import { DecryptionFailedError } from '../../src/errors.js';

const nodeSiv = new AesSiv(nodeBackend);
const nobleSiv = new AesSiv(nobleBackend);
const RUNS = { numRuns: 200 };

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const sivKey = fc.constantFrom(32, 48, 64).chain((n) => bytes(n));
/**
 * Lengths around the block size, the ECB/CTR switch at 256 bytes and the end of the scratch
 * memory (1040) are where padding, xorend and keystream bugs live.
 */
const plaintext = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc.constantFrom(15, 16, 17, 31, 32, 33, 240, 255, 256, 257, 272, 1023, 1024, 1025, 1039, 1040, 1041, 4099).chain((n) => bytes(n)),
  fc.uint8Array({ maxLength: 3000, size: 'max' }),
);
const associatedData = fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 500, maxLength: 600 })), { maxLength: 5 });

function flipBit(data: Uint8Array, bit: number): Uint8Array {
  const copy = data.slice();
  copy[bit >> 3] = copy[bit >> 3]! ^ (1 << (bit & 7));
  return copy;
}

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

describe('AES-SIV: node:crypto ≡ noble', () => {
  it('seal gives identical bytes and each backend opens the other', () => {
    fc.assert(
      fc.property(sivKey, plaintext, associatedData, (key, pt, ad) => {
        const a = nodeSiv.seal(key, pt, ...ad);
        const b = nobleSiv.seal(key, pt, ...ad);
        expect(hex(a)).toBe(hex(b));
        expect(hex(nodeSiv.open(key, b, ...ad))).toBe(hex(pt));
        expect(hex(nobleSiv.open(key, a, ...ad))).toBe(hex(pt));
      }),
      RUNS,
    );
  });

  // The adversary is the node backend's own state: contexts kept per key array, a memo of the last
  // associated data, and a caller that reuses one array for another key (a pooled buffer).
  it('agree over a sequence of calls that reuses, mixes and mutates keys and repeats near-identical associated data', () => {
    const step = fc.record({
      keyIndex: fc.nat(2),
      pt: fc.uint8Array({ maxLength: 80 }),
      adIndex: fc.nat(3),
      tweak: fc.option(fc.nat(), { nil: undefined }), // flip one bit of the chosen AD for this call
      mutateKey: fc.option(fc.nat(), { nil: undefined }), // overwrite one key byte in place first
      open: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(sivKey, { minLength: 3, maxLength: 3 }), fc.array(associatedData, { minLength: 4, maxLength: 4 }), fc.array(step, { minLength: 1, maxLength: 30 }), (keys, ads, steps) => {
        for (const s of steps) {
          const key = keys[s.keyIndex]!;
          if (s.mutateKey !== undefined) key[s.mutateKey % key.length] = key[s.mutateKey % key.length]! ^ 0x5a;
          let ad: Uint8Array[] = ads[s.adIndex]!;
          const adBits = ad.reduce((n, c) => n + c.length * 8, 0);
          if (s.tweak !== undefined && adBits > 0) {
            let bit = s.tweak % adBits;
            let i = 0;
            while (bit >= ad[i]!.length * 8) bit -= ad[i++]!.length * 8;
            ad = ad.map((c, j) => (j === i ? flipBit(c, bit) : c));
          }
          const expected = nobleSiv.seal(key, s.pt, ...ad);
          if (s.open) expect(hex(nodeSiv.open(key, expected, ...ad))).toBe(hex(s.pt));
          else expect(hex(nodeSiv.seal(key, s.pt, ...ad))).toBe(hex(expected));
        }
      }),
      { numRuns: 100 },
    );
  });
});

// The adversary: Node code passes Buffers, whose slice() is a view, not a copy. A backend that
// "copies" with slice() would write into the caller's sealed bytes (the CTR counter), keep a live
// view of a pooled buffer as its key check or associated-data memo, and then verify against
// bytes that changed under it.
describe('AES-SIV: Buffer arguments (slice() is a view)', () => {
  const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b);

  it('node opens Buffers without touching them, and equals noble', () => {
    fc.assert(
      fc.property(sivKey, plaintext, associatedData, (key, pt, ad) => {
        const sealed = asBuffer(nobleSiv.seal(key, pt, ...ad));
        const before = hex(sealed);
        const adBuffers = ad.map(asBuffer);
        expect(hex(nodeSiv.open(asBuffer(key), sealed, ...adBuffers))).toBe(hex(pt));
        expect(hex(sealed)).toBe(before);
        expect(hex(nodeSiv.seal(asBuffer(key), asBuffer(pt), ...adBuffers))).toBe(before);
      }),
      RUNS,
    );
  });

  it('a key Buffer or an associated-data Buffer rewritten in place between calls is seen', () => {
    fc.assert(
      fc.property(bytes(64), bytes(64), fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (k1, k2, a1, pt) => {
        const key = Buffer.from(k1);
        const ad = Buffer.from(a1);
        nodeSiv.seal(key, pt, ad); // warms the context and the memo on these very Buffers
        key.set(k2);
        ad[0] = ad[0]! ^ 0xff;
        expect(hex(nodeSiv.seal(key, pt, ad))).toBe(hex(nobleSiv.seal(k2, pt, ad)));
      }),
      RUNS,
    );
  });
});

describe('AES-SIV: tampering', () => {
  for (const siv of [nodeSiv, nobleSiv]) {
    it(`${siv.backend.name}: any single bit flip in the sealed bytes or an AD component is rejected, and the backend releases nothing`, () => {
      fc.assert(
        fc.property(sivKey, fc.uint8Array({ maxLength: 200 }), associatedData, fc.nat(), (key, pt, ad, pick) => {
          const sealed = siv.seal(key, pt, ...ad);
          const parts = [sealed, ...ad];
          const totalBits = parts.reduce((n, p) => n + p.length * 8, 0);
          let bit = pick % totalBits;
          let index = 0;
          while (bit >= parts[index]!.length * 8) bit -= parts[index++]!.length * 8;
          parts[index] = flipBit(parts[index]!, bit);
          const [tampered, ...tamperedAd] = parts;
          expect(siv.backend.sivOpen(key, tampered!, tamperedAd)).toBeUndefined();
          expectDecryptionFailure(() => siv.open(key, tampered!, ...tamperedAd));
          // A failed open leaves nothing behind that breaks the next one (node: shared CBC chain).
          expect(hex(siv.open(key, sealed, ...ad))).toBe(hex(pt));
        }),
        RUNS,
      );
    });
  }
});
