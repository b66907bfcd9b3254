/**
 * Envelope v2: every byte is authenticated, for any number of KEKs.
 *
 * Adversary: someone who can write the stored envelope (a backup, a blob store, a message queue)
 * and holds no DEK. With several KEKs (primary + DR vaults) they damage or swap bytes of one
 * wrapped-key entry, or any other byte, hoping that a reader who still has another KEK decrypts
 * anyway and nobody notices the broken DR copy until the primary is gone. Every single-bit flip,
 * truncation and extension of envelopes with 1, 2, 3 and 4 KEKs must give an EnvelopeError, for
 * a reader holding all the KEKs and for one holding only the last (the DR reader).
 *
 * Re-wrap (which holds the DEK): frames byte-identical, section and MAC replaced, still decrypts.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseComplete, parseHeader } from '../../src/format/envelope.js';
import {
  DecryptionFailedError, EnvelopeClient, EnvelopeError, LocalAesKek, readWrappedKeys, replaceWrappedKeys, type EnvelopeErrorCode,
} from '../../src/index.js';

const KEKS = [0, 1, 2, 3].map((i) => new LocalAesKek({ id: `vault-${i}/keys/kek/${'0123456789abcdef'.slice(i)}`, key: randomBytes(32) }));
const TARGETS = [0, 1, 2].map((i) => new LocalAesKek({ id: `new-vault-${i}/keys/kek/2`, key: randomBytes(32) }));
const CODES: readonly EnvelopeErrorCode[] = ['ERR_ENVELOPE_MALFORMED', 'ERR_DECRYPTION_FAILED', 'ERR_NO_MATCHING_KEK'];

const writers = [1, 2, 3, 4].map((n) => new EnvelopeClient({ keks: KEKS.slice(0, n), frameSize: 1024 }));
/** A reader with every KEK of an n-KEK envelope, and one with only its last KEK (the DR reader). */
const readers = [1, 2, 3, 4].map((n) => [new EnvelopeClient({ keks: KEKS.slice(0, n) }), new EnvelopeClient({ keks: KEKS[n - 1]! })] as const);

async function refused(c: EnvelopeClient, env: Uint8Array, what: string): Promise<EnvelopeError> {
  let n: number;
  try {
    n = (await c.decrypt(env)).plaintext.length;
  } catch (err) {
    if (!(err instanceof EnvelopeError)) throw new Error(`${what}: expected an EnvelopeError, got ${String(err)}`, { cause: err });
    expect(CODES).toContain(err.code);
    return err;
  }
  throw new Error(`${what}: decrypted to ${n} bytes instead of failing`);
}

function flipBit(data: Uint8Array, bit: number): Uint8Array {
  const copy = data.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

const kekCount = fc.integer({ min: 1, max: 4 });
const plaintextArb = fc.oneof(fc.uint8Array({ maxLength: 48 }), fc.integer({ min: 1025, max: 2100 }).map((n) => randomBytes(n)));

describe('envelope v2: every byte authenticated for 1..4 KEKs', () => {
  it('every single-bit flip is refused by the reader with all KEKs and by the DR reader', async () => {
    await fc.assert(
      fc.asyncProperty(kekCount, plaintextArb, fc.boolean(), async (n, plaintext, withContext) => {
        const env = await writers[n - 1]!.encrypt(plaintext, withContext ? { context: { t: '1' } } : {});
        expect(env[0]).toBe(0xe2);
        const [all, dr] = readers[n - 1]!;
        expect(Buffer.from((await dr.decrypt(env)).plaintext).equals(Buffer.from(plaintext))).toBe(true);
        const header = parseComplete(() => parseHeader(env));
        // every bit of the header, every frame header word, and every bit of the last 64 bytes
        const bits = new Set<number>();
        for (let b = 0; b < header.headerLength * 8; b++) bits.add(b);
        for (let off = header.headerLength; off < env.length; off += 1024 + 20) for (let b = 0; b < 32; b++) bits.add(off * 8 + b);
        for (let b = Math.max(0, env.length - 64) * 8; b < env.length * 8; b++) bits.add(b);
        for (const bit of bits) {
          const bad = flipBit(env, bit);
          await refused(all, bad, `${n} KEKs, flip of bit ${bit}/${env.length * 8} (all KEKs)`);
          await refused(dr, bad, `${n} KEKs, flip of bit ${bit}/${env.length * 8} (DR reader)`);
        }
      }),
      { numRuns: 12 },
    );
  });

  it('every truncation and any extension is refused', async () => {
    await fc.assert(
      fc.asyncProperty(kekCount, fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 1, maxLength: 40 }), async (n, plaintext, tail) => {
        const env = await writers[n - 1]!.encrypt(plaintext);
        const [all, dr] = readers[n - 1]!;
        for (let len = 0; len < env.length; len++) {
          await refused(all, env.subarray(0, len), `${n} KEKs, truncation to ${len}`);
          await refused(dr, env.subarray(0, len), `${n} KEKs, truncation to ${len} (DR reader)`);
        }
        const longer = Buffer.concat([env, tail]);
        expect((await refused(all, longer, `${n} KEKs, extension by ${tail.length}`)).code).toBe('ERR_ENVELOPE_MALFORMED');
      }),
      { numRuns: 16 },
    );
  });

  it('re-wrap: frames byte-identical, the section and its MAC replaced, decrypts with the new KEKs only', async () => {
    await fc.assert(
      fc.asyncProperty(kekCount, fc.integer({ min: 1, max: 3 }), plaintextArb, async (n, m, plaintext) => {
        const env = await writers[n - 1]!.encrypt(plaintext, { requiredContext: { row: '7' } });
        const dek = await KEKS[0]!.unwrap(readWrappedKeys(env)[0]!);
        const targets = TARGETS.slice(0, m);
        const re = replaceWrappedKeys(env, await Promise.all(targets.map((k) => k.wrap(dek))), { dek });
        const before = parseComplete(() => parseHeader(env));
        const after = parseComplete(() => parseHeader(re));
        // prefix identical; everything after the section MAC (context, frame size, all frames) identical
        expect(Buffer.from(re.subarray(0, 34)).equals(Buffer.from(env.subarray(0, 34)))).toBe(true);
        expect(Buffer.from(re.subarray(after.tailStart)).equals(Buffer.from(env.subarray(before.tailStart)))).toBe(true);
        expect(after.wrappedKeys.map((w) => w.kekId)).toEqual(targets.map((k) => k.id));
        expect(Buffer.from(after.commitment).equals(Buffer.from(before.commitment))).toBe(false);
        for (const k of targets) {
          const { plaintext: out } = await new EnvelopeClient({ keks: k }).decrypt(re, { requiredContext: { row: '7' } });
          expect(Buffer.from(out).equals(Buffer.from(plaintext))).toBe(true);
        }
        // a re-wrapped envelope is as tamper-evident as a fresh one: flip a bit of the new section
        const bit = (34 + 1 + fc.sample(fc.nat(after.wrappedSectionEnd - 35 - 1), 1)[0]!) * 8;
        await refused(new EnvelopeClient({ keks: targets }), flipBit(re, bit), 'flip in the re-wrapped section');
        // re-wrap refuses a DEK that is not the envelope's
        expect(() => replaceWrappedKeys(env, readWrappedKeys(env), { dek: randomBytes(32) })).toThrow(DecryptionFailedError);
        dek.fill(0);
      }),
      { numRuns: 25 },
    );
  });
});
