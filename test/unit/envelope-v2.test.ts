/**
 * Envelope v2 findings, each with its adversary:
 * - a store someone else can write + a second (DR) KEK: a damaged or swapped DR entry was
 *   accepted as long as the primary worked (v1); v2 refuses it at once;
 * - re-wrap: v2 needs the DEK and checks it; a v1 envelope stays v1;
 * - a hostile stream: a ~50 KB header fed in 4-byte chunks costs parse work linear in its size;
 * - one-shot messages up to 4 MiB are one frame (decrypt returns the cipher output, no copy).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HeaderReader } from '../../src/envelope/internal/header-reader.js';
import { parseComplete, parseHeader } from '../../src/format/envelope.js';
import { Limits } from '../../src/format/limits.js';
import {
  DecryptionFailedError, EnvelopeClient, EnvelopeError, LocalAesKek, readWrappedKeys, replaceWrappedKeys, type WrappedKey,
} from '../../src/index.js';
import { aesKek, collect } from '../helpers/keys.js';

async function rejection(p: Promise<unknown>): Promise<EnvelopeError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EnvelopeError);
  return err as EnvelopeError;
}

/** Byte offsets of entry `i`'s kekId, alg and wrapped bytes, from the public wrapped keys alone. */
function entryOffsets(wrapped: readonly WrappedKey[], i: number): { kekId: number; alg: number; bytes: number } {
  let off = 34 + 1;
  for (let j = 0; j < i; j++) off += 2 + Buffer.byteLength(wrapped[j]!.kekId) + 1 + Buffer.byteLength(wrapped[j]!.alg) + 2 + wrapped[j]!.bytes.length;
  const kekId = off + 2;
  const alg = kekId + Buffer.byteLength(wrapped[i]!.kekId) + 1;
  return { kekId, alg, bytes: alg + Buffer.byteLength(wrapped[i]!.alg) + 2 };
}

function chunked(data: Uint8Array, size: number): Readable {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

describe('envelope v2: the wrapped-key section is authenticated', () => {
  const primary = aesKek('vault-a/keys/kek/1');
  const dr = aesKek('vault-b/keys/kek/1');

  it('a damaged DR entry (kekId, alg or wrapped bytes) is refused even by a reader that holds the primary', async () => {
    // Adversary: writes the stored envelope; damages the DR copy so that nobody notices until the primary is gone.
    const writer = new EnvelopeClient({ keks: [primary, dr] });
    const env = await writer.encrypt(new TextEncoder().encode('payroll'));
    const wrapped = readWrappedKeys(env);
    expect(wrapped.map((w) => w.kekId)).toEqual([primary.id, dr.id]);
    const at = entryOffsets(wrapped, 1);
    for (const [field, offset] of Object.entries({ kekId: at.kekId + 3, alg: at.alg + 1, bytes: at.bytes + 7 })) {
      const bad = Buffer.from(env);
      bad[offset]! ^= 0x01;
      const reader = new EnvelopeClient({ keks: [primary, dr] });
      const err = await rejection(reader.decrypt(bad));
      expect(err, field).toBeInstanceOf(DecryptionFailedError);
      expect(err.code).toBe('ERR_DECRYPTION_FAILED');
    }
  });

  it('a DR entry swapped for a wrap of another DEK (same length) is refused by the primary reader too', async () => {
    const writer = new EnvelopeClient({ keks: [primary, dr], cache: false });
    const env = await writer.encrypt(new TextEncoder().encode('payroll'));
    const other = readWrappedKeys(await writer.encrypt(new Uint8Array(1)))[1]!; // DR wrap of another DEK
    const wrapped = readWrappedKeys(env);
    expect(other.bytes.length).toBe(wrapped[1]!.bytes.length);
    const swapped = Buffer.from(env);
    swapped.set(other.bytes, entryOffsets(wrapped, 1).bytes);
    expect((await rejection(new EnvelopeClient({ keks: [primary, dr] }).decrypt(swapped))).code).toBe('ERR_DECRYPTION_FAILED');
    expect((await rejection(new EnvelopeClient({ keks: dr }).decrypt(swapped))).code).toBe('ERR_DECRYPTION_FAILED');
  });

  it('v1 (read-only) does not protect the section: a damaged DR entry of a golden v1 envelope still decrypts through the primary (docs/format.md §What v1 does not protect)', async () => {
    const g = JSON.parse(readFileSync(new URL('../vectors/golden/v1.json', import.meta.url), 'utf8')) as {
      aesKeyHex: string; envelopes: { name: string; keks: string[]; requiredContext?: Record<string, string>; envelopeHex: string }[];
    };
    const e = g.envelopes.find((x) => x.keks.length === 2)!;
    const env = Buffer.from(e.envelopeHex, 'hex');
    const at = entryOffsets(readWrappedKeys(env), 1);
    env[at.bytes + 7]! ^= 0x01;
    const aes = new LocalAesKek({ id: 'golden/aes/1', key: Buffer.from(g.aesKeyHex, 'hex') });
    await expect(new EnvelopeClient({ keks: aes }).decrypt(env, { requiredContext: e.requiredContext })).resolves.toBeDefined();
  });
});

describe('replaceWrappedKeys with v2 and v1 envelopes', () => {
  const kek = aesKek();
  const target = aesKek('vault/keys/target/2');

  it('v2 needs the DEK (TypeError naming options.dek), refuses a DEK of the wrong length (RangeError) or another DEK', async () => {
    const env = await new EnvelopeClient({ keks: kek }).encrypt(new Uint8Array(10));
    const dek = await kek.unwrap(readWrappedKeys(env)[0]!);
    const wrapped = [await target.wrap(dek)];
    expect(() => replaceWrappedKeys(env, wrapped)).toThrow(/options\.dek/);
    expect(() => replaceWrappedKeys(env, wrapped)).toThrow(TypeError);
    expect(() => replaceWrappedKeys(env, wrapped, { dek: dek.subarray(0, 16) })).toThrow(RangeError);
    expect(() => replaceWrappedKeys(env, wrapped, { dek: randomBytes(32) })).toThrow(DecryptionFailedError);
    const re = replaceWrappedKeys(env, wrapped, { dek });
    expect(re[0]).toBe(0xe2);
    expect((await new EnvelopeClient({ keks: target }).decrypt(re)).plaintext).toEqual(new Uint8Array(10));
  });

  it('a v1 envelope stays v1 (frames identical), with or without the DEK; a wrong DEK is refused', async () => {
    const g = JSON.parse(readFileSync(new URL('../vectors/golden/v1.json', import.meta.url), 'utf8')) as {
      aesKeyHex: string; envelopes: { keks: string[]; requiredContext?: Record<string, string>; plaintextHex: string; envelopeHex: string }[];
    };
    const e = g.envelopes.find((x) => x.keks.length === 2)!;
    const env = new Uint8Array(Buffer.from(e.envelopeHex, 'hex'));
    const aes = new LocalAesKek({ id: 'golden/aes/1', key: Buffer.from(g.aesKeyHex, 'hex') });
    const dek = await aes.unwrap(readWrappedKeys(env)[0]!);
    const before = parseComplete(() => parseHeader(env));
    for (const re of [replaceWrappedKeys(env, [await target.wrap(dek)]), replaceWrappedKeys(env, [await target.wrap(dek)], { dek })]) {
      expect(re[0]).toBe(0xe1);
      const after = parseComplete(() => parseHeader(re));
      expect(Buffer.from(re.subarray(after.wrappedSectionEnd)).equals(Buffer.from(env.subarray(before.wrappedSectionEnd)))).toBe(true);
      const { plaintext } = await new EnvelopeClient({ keks: target }).decrypt(re, { requiredContext: e.requiredContext });
      expect(Buffer.from(plaintext).toString('hex')).toBe(e.plaintextHex);
    }
    expect(() => replaceWrappedKeys(env, [{ kekId: 'x', alg: 'A256KW', bytes: new Uint8Array(40) }], { dek: randomBytes(32) })).toThrow(DecryptionFailedError);
  });
});

/** A hostile header of ~50 KB: 16 wrapped keys with the largest kekId, alg and wrapped bytes, and the largest context. */
function hugeHeader(): Uint8Array {
  const parts: Buffer[] = [Buffer.from([0xe2, 0x02]), randomBytes(32), Buffer.from([Limits.MAX_WRAPPED_KEYS])];
  for (let i = 0; i < Limits.MAX_WRAPPED_KEYS; i++) {
    const id = Buffer.alloc(Limits.MAX_KEK_ID_BYTES, 0x61 + i);
    parts.push(Buffer.from([id.length >> 8, id.length & 0xff]), id, Buffer.from([Limits.MAX_ALG_BYTES]), Buffer.alloc(Limits.MAX_ALG_BYTES, 0x41));
    parts.push(Buffer.from([Limits.MAX_WRAPPED_KEY_BYTES >> 8, Limits.MAX_WRAPPED_KEY_BYTES & 0xff]), randomBytes(Limits.MAX_WRAPPED_KEY_BYTES));
  }
  parts.push(randomBytes(32)); // section MAC
  // context: one pair whose value fills 16 KiB
  const value = Buffer.alloc(Limits.MAX_CONTEXT_BYTES - 2 - 4 - 1, 0x76);
  const context = Buffer.concat([Buffer.from([0, 1, 0, 1, 0x6b, value.length >> 8, value.length & 0xff]), value]);
  parts.push(Buffer.from([context.length >> 8, context.length & 0xff]), context, Buffer.from([0, 0, 4, 0]));
  return Buffer.concat(parts);
}

describe('streaming decrypt parses the header incrementally', () => {
  it('a ~50 KB header in 4-byte chunks: one full parse, probes bounded by the length fields, each byte copied about once', () => {
    // Adversary: a client streaming a maximal header as slowly as possible (4 bytes per write).
    const header = hugeHeader();
    expect(header.length).toBeGreaterThan(48 * 1024);
    const reader = new HeaderReader();
    let done;
    for (let i = 0; i < header.length && done === undefined; i += 4) done = reader.push(header.subarray(i, i + 4));
    expect(done).toBeDefined();
    expect(done!.header.wrappedKeys).toHaveLength(16);
    expect(done!.headerBytes.length).toBe(header.length);
    expect(reader.work.parses).toBe(1);
    // at most one probe per length field (3 per wrapped key, count, context) plus the prefix
    expect(reader.work.probes).toBeLessThanOrEqual(3 * 16 + 4);
    // every byte once, plus the doubling growth (the copies of all growth steps sum to < 2x the size)
    expect(reader.work.bytesCopied).toBeLessThan(3 * header.length);
  });

  it('the same header fed 4 bytes at a time to decryptStream ends with ERR_NO_MATCHING_KEK (no vault call, no hang)', async () => {
    const client = new EnvelopeClient({ keks: aesKek() });
    const err = await collect(chunked(Buffer.concat([hugeHeader(), randomBytes(100)]), 4).pipe(client.decryptStream())).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(EnvelopeError);
    expect((err as EnvelopeError).code).toBe('ERR_NO_MATCHING_KEK');
  });

  it('a real 4-KEK envelope fed one byte at a time decrypts, with the context before the data', async () => {
    const keks = [aesKek(), aesKek(), aesKek(), aesKek()];
    const env = await new EnvelopeClient({ keks, frameSize: 1024 }).encrypt(randomBytes(2500), { context: { file: 'x' } });
    const dec = new EnvelopeClient({ keks: keks[3]! }).decryptStream();
    const events: string[] = [];
    dec.on('context', (c: Record<string, string>) => events.push(`context:${c.file}`));
    const out = await collect(chunked(env, 1).pipe(dec).on('data', () => events.push('data')));
    expect(out.length).toBe(2500);
    expect(events[0]).toBe('context:x');
  });
});

describe('one-shot framing', () => {
  it('by default a message up to 4 MiB is one frame; larger ones use 1 MiB frames; a configured frame size wins', async () => {
    const kek = aesKek();
    const client = new EnvelopeClient({ keks: kek });
    for (const n of [0, 1000, 1024 * 1024 + 1, 4 * 1024 * 1024]) {
      const env = await client.encrypt(new Uint8Array(n));
      const h = parseComplete(() => parseHeader(env));
      expect(env.length).toBe(h.headerLength + n + 20);
      expect((await client.decrypt(env)).plaintext.length).toBe(n);
    }
    const big = await client.encrypt(new Uint8Array(4 * 1024 * 1024 + 1));
    expect(parseComplete(() => parseHeader(big)).frameSize).toBe(1024 * 1024);
    const fixed = await new EnvelopeClient({ keks: kek, frameSize: 1024 }).encrypt(new Uint8Array(3000));
    expect(parseComplete(() => parseHeader(fixed)).frameSize).toBe(1024);
  });
});

describe('v2 on both AEAD backends', () => {
  it('node and noble clients (node:crypto HMAC vs @noble/hashes HMAC in the key schedule) read each other, streams included', async () => {
    const kek = aesKek();
    const node = new EnvelopeClient({ keks: kek, frameSize: 1024 });
    const noble = new EnvelopeClient({ keks: kek, frameSize: 1024, backend: 'noble' });
    for (const n of [0, 100, 3000]) {
      const pt = randomBytes(n);
      const opts = { context: { a: 'b' }, requiredContext: { row: '1' } };
      expect(Buffer.from((await noble.decrypt(await node.encrypt(pt, opts), opts)).plaintext).equals(pt)).toBe(true);
      expect(Buffer.from((await node.decrypt(await noble.encrypt(pt, opts), opts)).plaintext).equals(pt)).toBe(true);
      const streamed = await collect(chunked(pt, 333).pipe(noble.encryptStream(opts)));
      expect((await collect(chunked(streamed, 7).pipe(node.decryptStream(opts)))).equals(pt)).toBe(true);
    }
  });
});
