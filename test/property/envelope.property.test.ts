/**
 * Property tests of EnvelopeClient: round trips for any plaintext (multi-frame with 1 KiB frames)
 * and any context / required context; every single-bit flip, truncation and extension is refused
 * with an EnvelopeError; a wrong or missing required context is ERR_DECRYPTION_FAILED; decrypt
 * is total on arbitrary bytes; re-wrapping changes only the wrapped-key section and its MAC,
 * and a section holding another DEK fails the section MAC / key commitment.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeWrappedKeys, parseComplete, parseHeader } from '../../src/format/envelope.js';
import { spliceSection } from '../../src/format/rewrap.js';
import {
  DecryptionFailedError,
  EnvelopeClient,
  EnvelopeError,
  LocalAesKek,
  readWrappedKeys,
  replaceWrappedKeys,
  type EncryptionContext,
  type EnvelopeErrorCode,
  type WrappedKey,
} from '../../src/index.js';

const FRAME = 1024;
const kek = new LocalAesKek({ id: 'local/aes/envelope-prop', key: randomBytes(32) });
const otherKek = new LocalAesKek({ id: 'vault/keys/rewrap-target/0123456789abcdef', key: randomBytes(32) });
const client = new EnvelopeClient({ keks: kek, frameSize: FRAME });
const otherClient = new EnvelopeClient({ keks: otherKek, frameSize: FRAME });

const CODES: readonly EnvelopeErrorCode[] = ['ERR_ENVELOPE_MALFORMED', 'ERR_DECRYPTION_FAILED', 'ERR_NO_MATCHING_KEK', 'ERR_KEY_NOT_ALLOWED'];

/** Deterministic bytes from a seed (xorshift32): large plaintexts without 70k fast-check values. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const plaintextArb = (max: number) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(fc.constantFrom(0, 1, FRAME - 1, FRAME, FRAME + 1, 2 * FRAME, 3 * FRAME - 1, max), fc.integer()).map(([n, seed]) => pseudoRandomBytes(Math.min(n, max), seed)),
    fc.tuple(fc.integer({ min: 0, max }), fc.integer()).map(([n, seed]) => pseudoRandomBytes(n, seed)),
  );

const RESERVED = 'kv-envelope:';
const keyArb = fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('tenant', 'purpose', '__proto__', 'constructor', 'kv-envelope', 'kv-envelope:x'))
  .filter((k) => !k.startsWith(RESERVED));
const valueArb = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 24 }), fc.string({ maxLength: 24 }));
const contextArb = fc.dictionary(keyArb, valueArb, { maxKeys: 8 });
/** A stored and a required context with disjoint keys. */
const contextsArb = fc.tuple(contextArb, contextArb).map(([context, required]) => {
  const req: Record<string, string> = {};
  for (const [k, v] of Object.entries(required)) if (!Object.hasOwn(context, k)) Object.defineProperty(req, k, { value: v, enumerable: true, writable: true, configurable: true });
  return { context, required: req as EncryptionContext };
});

const sameMap = (a: EncryptionContext | undefined, b: EncryptionContext | undefined): boolean => {
  const ea = Object.entries(a ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const eb = Object.entries(b ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return JSON.stringify(ea) === JSON.stringify(eb);
};

/** Decrypts and returns the EnvelopeError; fails when it decrypts or throws anything else. */
async function refusal(c: EnvelopeClient, env: Uint8Array, requiredContext: EncryptionContext | undefined, what: string): Promise<EnvelopeError> {
  let plaintextLength: number;
  try {
    plaintextLength = (await c.decrypt(env, requiredContext === undefined ? {} : { requiredContext })).plaintext.length;
  } catch (err) {
    if (!(err instanceof EnvelopeError)) throw new Error(`${what}: expected an EnvelopeError, got ${String(err)}`, { cause: err });
    expect(CODES).toContain(err.code);
    return err;
  }
  throw new Error(`${what}: decrypted to ${plaintextLength} bytes instead of failing`);
}

/** Offset of the byte after the wrapped-key section, computed from the parsed wrapped keys. */
function sectionEnd(wrapped: readonly WrappedKey[]): number {
  let end = 34 + 1;
  for (const w of wrapped) end += 2 + Buffer.byteLength(w.kekId) + 1 + Buffer.byteLength(w.alg) + 2 + w.bytes.length;
  return end;
}

const wrapped = (dek: Uint8Array): WrappedKey => ({ kekId: kek.id, alg: 'A256KW', bytes: dek });

/** The attacker's splice: a new wrapped-key section, every other byte (the old section MAC included) kept. */
function spliceRaw(env: Uint8Array, keys: readonly WrappedKey[]): Uint8Array {
  const h = parseComplete(() => parseHeader(env));
  return Buffer.concat([env.subarray(0, h.wrappedSectionStart), encodeWrappedKeys(keys), env.subarray(h.wrappedSectionEnd)]);
}

function flipBit(data: Uint8Array, bit: number): Uint8Array {
  const copy = data.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

const enc = (plaintext: Uint8Array, context: EncryptionContext, required: EncryptionContext) =>
  client.encrypt(plaintext, { context, ...(Object.keys(required).length > 0 ? { requiredContext: required } : {}) });

describe('EnvelopeClient properties', () => {
  it('round trip: any plaintext up to 70 KB (1 KiB frames), any context and disjoint required context', async () => {
    await fc.assert(
      fc.asyncProperty(plaintextArb(70 * 1024), contextsArb, async (plaintext, { context, required }) => {
        const env = await enc(plaintext, context, required);
        const frames = plaintext.length === 0 ? 1 : Math.ceil(plaintext.length / FRAME);
        // exact size: v2 header (prefix, section, section MAC, stored context, frameSize) + 20 B per frame
        let contextLength = 2;
        for (const [k, v] of Object.entries(context)) contextLength += 4 + Buffer.byteLength(k) + Buffer.byteLength(v);
        const headerLength = sectionEnd(readWrappedKeys(env)) + 32 + 2 + contextLength + 4;
        expect(env[0]).toBe(0xe2);
        expect(env.length).toBe(headerLength + plaintext.length + 20 * frames);
        const out = await client.decrypt(env, { requiredContext: required });
        expect(Buffer.from(out.plaintext).equals(Buffer.from(plaintext))).toBe(true);
        expect(out.context).toEqual({ ...context });
        expect(sameMap(out.context, context)).toBe(true);
        // a fresh client (cold cache) reads it too
        const cold = new EnvelopeClient({ keks: kek });
        expect(Buffer.from((await cold.decrypt(env, { requiredContext: required })).plaintext).equals(Buffer.from(plaintext))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('every single-bit flip of a small envelope (all bits) is refused', async () => {
    const smallContext = fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }).filter((k) => !k.startsWith(RESERVED)), fc.string({ maxLength: 4 }), { maxKeys: 2 });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 80, size: 'max' }), smallContext, fc.boolean(), async (plaintext, context, withRequired) => {
        const required: EncryptionContext = withRequired ? { row: '42' } : {};
        const env = await enc(plaintext, context, required);
        expect(env.length).toBeLessThanOrEqual(300);
        for (let bit = 0; bit < env.length * 8; bit++) {
          await refusal(client, flipBit(env, bit), required, `flip of bit ${bit}/${env.length * 8}`);
        }
      }),
      { numRuns: 8 },
    );
  });

  it('single-bit flips of multi-frame envelopes (header bits, frame boundaries, a sample of the rest) are refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: FRAME + 1, max: 5 * FRAME }),
        fc.integer(),
        fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
        async (n, seed, sample) => {
          const plaintext = pseudoRandomBytes(n, seed);
          const env = await enc(plaintext, { tenant: 't1' }, {});
          const bits = env.length * 8;
          const frames = Math.ceil(n / FRAME);
          const headerLength = env.length - n - 20 * frames;
          const positions = new Set<number>();
          for (let b = 0; b < headerLength * 8; b++) positions.add(b); // the whole header
          for (let f = 0; f < frames; f++) {
            const start = headerLength + f * (FRAME + 20);
            for (let b = 0; b < 32; b++) positions.add(start * 8 + b); // each frame header word
          }
          for (let b = 0; b < 128; b++) positions.add(bits - 1 - b); // the last tag
          for (const s of sample) positions.add(s % bits);
          for (const bit of positions) await refusal(client, flipBit(env, bit), undefined, `flip of bit ${bit}/${bits}`);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('every truncation is refused (all prefix lengths, multi-frame included)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 100 }), plaintextArb(3 * FRAME + 10)), async (plaintext) => {
        const env = await enc(plaintext, { a: 'b' }, {});
        for (let len = 0; len < env.length; len++) {
          await refusal(client, env.subarray(0, len), undefined, `truncation to ${len}/${env.length}`);
        }
      }),
      { numRuns: 10 },
    );
  });

  it('any extension is refused with ERR_ENVELOPE_MALFORMED', async () => {
    await fc.assert(
      fc.asyncProperty(plaintextArb(4 * FRAME), fc.uint8Array({ minLength: 1, maxLength: 64, size: 'max' }), async (plaintext, tail) => {
        const env = await enc(plaintext, {}, {});
        const longer = new Uint8Array(env.length + tail.length);
        longer.set(env);
        longer.set(tail, env.length);
        expect((await refusal(client, longer, undefined, `extension by ${tail.length}`)).code).toBe('ERR_ENVELOPE_MALFORMED');
        // a whole second envelope appended is trailing data too
        const twice = new Uint8Array(env.length * 2);
        twice.set(env);
        twice.set(env, env.length);
        expect((await refusal(client, twice, undefined, 'envelope appended to itself')).code).toBe('ERR_ENVELOPE_MALFORMED');
      }),
      { numRuns: 100 },
    );
  });

  it('a wrong or missing required context is ERR_DECRYPTION_FAILED', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), contextsArb, contextArb, async (plaintext, { context, required }, wrong) => {
        const env = await enc(plaintext, context, required);
        if (Object.keys(required).length > 0) {
          expect((await refusal(client, env, undefined, 'missing requiredContext')).code).toBe('ERR_DECRYPTION_FAILED');
          expect((await refusal(client, env, {}, 'empty requiredContext')).code).toBe('ERR_DECRYPTION_FAILED');
        }
        fc.pre(!sameMap(wrong, required));
        expect((await refusal(client, env, wrong, 'wrong requiredContext')).code).toBe('ERR_DECRYPTION_FAILED');
        // the stored context cannot stand in for the required one
        if (Object.keys(required).length > 0) {
          expect((await refusal(client, env, { ...context, ...required, extra: 'x' }, 'superset')).code).toBe('ERR_DECRYPTION_FAILED');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('decrypt is total on arbitrary bytes: an EnvelopeError or plaintext, nothing else', async () => {
    const known = await client.encrypt(new Uint8Array([1, 2, 3]), { context: { a: 'b' } });
    const arbitrary = fc.uint8Array({ maxLength: 400, size: 'max' });
    const withVersion = fc.tuple(fc.constantFrom([0xe1, 0x01], [0xe2, 0x02], [0xe2, 0x01], [0xe1, 0x02]), fc.uint8Array({ maxLength: 400, size: 'max' }))
      .map(([v, rest]) => Uint8Array.of(...v, ...rest));
    // A real prefix and wrapped-key section, then garbage: reaches context/frame parsing and the commitment.
    const withRealHeader = fc.tuple(fc.integer({ min: 34, max: known.length }), fc.uint8Array({ maxLength: 200, size: 'max' }))
      .map(([cut, rest]) => Uint8Array.of(...known.subarray(0, cut), ...rest));
    // Plausible section shapes: count, u16 lengths, … with small random numbers.
    const shaped = fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }), fc.uint8Array({ maxLength: 100 }))
      .map(([id, nums, rest]) => Uint8Array.of(0xe2, 0x02, ...id, ...nums.flatMap((n) => [0, n]), ...rest));
    const base64ish = fc.base64String({ maxLength: 200 }).map((s) => Buffer.from(s));
    await fc.assert(
      fc.asyncProperty(fc.oneof(arbitrary, withVersion, withRealHeader, shaped, base64ish), fc.option(contextArb, { nil: undefined }), async (input, requiredContext) => {
        try {
          await client.decrypt(input, requiredContext === undefined ? {} : { requiredContext });
        } catch (err) {
          if (!(err instanceof EnvelopeError)) throw new Error(`non-EnvelopeError ${String(err)} for ${Buffer.from(input).toString('hex')}`, { cause: err });
          expect(CODES).toContain(err.code);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('re-wrap changes only the wrapped-key section and its MAC, and only the new KEK is needed afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(plaintextArb(6 * FRAME), contextsArb, async (plaintext, { context, required }) => {
        const env = await enc(plaintext, context, required);
        const wrapped = readWrappedKeys(env);
        expect(wrapped).toHaveLength(1);
        const dek = await kek.unwrap(wrapped[0]!);
        const re = replaceWrappedKeys(env, [await otherKek.wrap(dek)], { dek });
        // everything after the section MAC (stored context, frame size, every frame) is byte-identical
        const end = sectionEnd(wrapped) + 32;
        const k = env.length - end;
        const newEnd = sectionEnd(readWrappedKeys(re)) + 32;
        expect(re.length - newEnd).toBe(k);
        expect(Buffer.from(re.subarray(0, 34)).equals(Buffer.from(env.subarray(0, 34)))).toBe(true);
        expect(Buffer.from(re.subarray(re.length - k)).equals(Buffer.from(env.subarray(env.length - k)))).toBe(true);
        expect(readWrappedKeys(re).map((w) => w.kekId)).toEqual([otherKek.id]);

        const out = await otherClient.decrypt(re, { requiredContext: required });
        expect(Buffer.from(out.plaintext).equals(Buffer.from(plaintext))).toBe(true);
        expect(out.context).toEqual({ ...context });
        expect((await refusal(client, re, required, 'old KEK after re-wrap')).code).toBe('ERR_NO_MATCHING_KEK');
        // Both wrapped keys in one section: either client reads it.
        const both = replaceWrappedKeys(env, [...wrapped, await otherKek.wrap(dek)], { dek });
        expect(Buffer.from((await client.decrypt(both, { requiredContext: required })).plaintext).equals(Buffer.from(plaintext))).toBe(true);
        expect(Buffer.from((await otherClient.decrypt(both, { requiredContext: required })).plaintext).equals(Buffer.from(plaintext))).toBe(true);
        dek.fill(0);
      }),
      { numRuns: 30 },
    );
  });

  it('a section holding a wrap of a DIFFERENT DEK is refused: by replaceWrappedKeys, by the section MAC, and by the commitment even with a MAC under that DEK', async () => {
    const stranger = new EnvelopeClient({ keks: kek, frameSize: FRAME, cache: false });
    await fc.assert(
      fc.asyncProperty(plaintextArb(3 * FRAME), fc.boolean(), async (plaintext, fromAnotherEnvelope) => {
        const env = await client.encrypt(plaintext);
        let wrongDek: Uint8Array;
        if (fromAnotherEnvelope) {
          // the DEK of a real, different envelope (what an attacker can splice in)
          wrongDek = await kek.unwrap(readWrappedKeys(await stranger.encrypt(new Uint8Array(1)))[0]!);
        } else {
          wrongDek = randomBytes(32);
        }
        const realDek = await kek.unwrap(readWrappedKeys(env)[0]!);
        fc.pre(!Buffer.from(realDek).equals(Buffer.from(wrongDek)));
        // replaceWrappedKeys checks the DEK it is given against the envelope first
        expect(() => replaceWrappedKeys(env, [wrapped(wrongDek)], { dek: wrongDek })).toThrow(DecryptionFailedError);
        // an attacker without any DEK splices a section in and keeps the old MAC
        const swapped = spliceRaw(env, [await otherKek.wrap(wrongDek)]);
        expect((await refusal(otherClient, swapped, undefined, 'swapped DEK (other KEK)')).code).toBe('ERR_DECRYPTION_FAILED');
        const swappedSameKek = spliceRaw(env, [await kek.wrap(wrongDek)]);
        expect((await refusal(new EnvelopeClient({ keks: kek }), swappedSameKek, undefined, 'swapped DEK (same KEK)')).code).toBe('ERR_DECRYPTION_FAILED');
        // an insider holding the other DEK writes a valid section MAC under it: the content key still differs
        const header = parseComplete(() => parseHeader(env));
        const insider = spliceSection(env, header, encodeWrappedKeys([await kek.wrap(wrongDek)]), wrongDek);
        expect((await refusal(new EnvelopeClient({ keks: kek }), insider, undefined, 'section MAC under another DEK')).code).toBe('ERR_DECRYPTION_FAILED');
        // a wrapped key of the right length but garbage bytes fails the KEK's integrity check
        const garbage = spliceRaw(env, [{ ...readWrappedKeys(env)[0]!, bytes: randomBytes(40) }]);
        expect((await refusal(new EnvelopeClient({ keks: kek }), garbage, undefined, 'garbage wrapped key')).code).toBe('ERR_DECRYPTION_FAILED');
      }),
      { numRuns: 40 },
    );
  });

  it('a context with a lone surrogate is refused at encryption (it could never be decrypted or read back)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0xd800, max: 0xdfff }), fc.boolean(), fc.boolean(), async (unit, inKey, required) => {
        const s = String.fromCharCode(unit);
        const ctx = inKey ? { [`k${s}`]: 'v' } : { k: `v${s}` };
        const err = await client.encrypt(new Uint8Array(1), required ? { requiredContext: ctx } : { context: ctx }).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(RangeError);
        expect((err as Error).message).toMatch(required ? /requiredContext/ : /context/);
      }),
      { numRuns: 50 },
    );
  });
});
