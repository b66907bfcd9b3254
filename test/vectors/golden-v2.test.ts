/**
 * Golden v2 envelopes (test/vectors/golden/v2.json, made once by generate-v2.mjs): bytes this
 * version wrote that every later version must decrypt. Two readers check them:
 * - EnvelopeClient, with each KEK alone (the DR reader included);
 * - an independent reader written from docs/format.md §Envelope v2 and §Keys v2 with raw
 *   node:crypto only (HMAC-SHA-256, AES-256-GCM), so the documented layout and key schedule are
 *   what the code does, byte for byte.
 */
import { createDecipheriv, createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnvelopeClient, LocalAesKek, LocalRsaKek, readWrappedKeys } from '../../src/index.js';

interface GoldenV2 {
  aesKeyHex: string;
  aes2KeyHex: string;
  rsaPrivatePem: string;
  envelopes: {
    name: string; keks: string[]; context: Record<string, string>; requiredContext?: Record<string, string>;
    plaintextHex: string; dekHex: string; envelopeHex: string;
  }[];
}

const g = JSON.parse(readFileSync(new URL('./golden/v2.json', import.meta.url), 'utf8')) as GoldenV2;
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const keks = {
  aes: new LocalAesKek({ id: 'golden/aes/2', key: unhex(g.aesKeyHex) }),
  aes2: new LocalAesKek({ id: 'golden/aes-dr/2', key: unhex(g.aes2KeyHex) }),
  rsa: new LocalRsaKek({ id: 'golden/rsa/2', privateKey: g.rsaPrivatePem }),
};

/** §Context encoding: u16 count ‖ sorted (u16 len ‖ key ‖ u16 len ‖ value). */
function encodeContext(ctx: Record<string, string> = {}): Buffer {
  const pairs = Object.entries(ctx).map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const).sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts = [u16(pairs.length)];
  for (const [k, v] of pairs) parts.push(u16(k.length), k, u16(v.length), v);
  return Buffer.concat(parts);
}
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

/** docs/format.md §Envelope v2 + §Keys v2, independently of src/. */
function specDecrypt(envelope: Uint8Array, dek: Uint8Array, requiredContext?: Record<string, string>): Buffer {
  const b = Buffer.from(envelope);
  expect([b[0], b[1]]).toEqual([0xe2, 0x02]);
  let off = 34;
  const count = b[off++]!;
  for (let i = 0; i < count; i++) {
    off += 2 + b.readUInt16BE(off);
    off += 1 + b[off]!;
    off += 2 + b.readUInt16BE(off);
  }
  const section = b.subarray(34, off);
  const sectionMac = b.subarray(off, off + 32);
  const tailStart = off + 32;
  const headerEnd = tailStart + 2 + b.readUInt16BE(tailStart) + 4;
  const frameSize = b.readUInt32BE(headerEnd - 4);
  const expectedMac = createHmac('sha256', dek).update('kv-envelope/v2 0x02 section mac').update(Buffer.from([0xe2, 0x02])).update(section).digest();
  expect(expectedMac.equals(sectionMac)).toBe(true);
  const req = encodeContext(requiredContext);
  const contentKey = createHmac('sha256', dek)
    .update('kv-envelope/v2 0x02 content key').update(b.subarray(0, 34)).update(b.subarray(tailStart, headerEnd))
    .update(u16(req.length)).update(req).update(Buffer.from([1])).digest();
  const out: Buffer[] = [];
  let seq = 1;
  for (off = headerEnd; ; seq++) {
    const word = b.readUInt32BE(off);
    const final = (word & 0x8000_0000) !== 0;
    const length = word & 0x7fff_ffff;
    expect(length <= frameSize && (final || length === frameSize)).toBe(true);
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32BE(seq, 8);
    const d = createDecipheriv('aes-256-gcm', contentKey, nonce);
    d.setAAD(b.subarray(off, off + 4));
    d.setAuthTag(b.subarray(off + 4 + length, off + 4 + length + 16));
    out.push(d.update(b.subarray(off + 4, off + 4 + length)), d.final());
    off += 4 + length + 16;
    if (final) break;
  }
  expect(off).toBe(b.length);
  return Buffer.concat(out);
}

describe('golden v2 vectors', () => {
  it('has the required shapes: 1 KEK, 3 KEKs, multi-frame, required context', () => {
    const names = g.envelopes.map((e) => e.name).join('\n');
    for (const shape of ['1 KEK', '3 KEKs', 'multi-frame', 'required context']) expect(names).toContain(shape);
    // the pinned bytes: regenerating the file would change this digest
    const digest = createHash('sha256').update(g.envelopes.map((e) => e.envelopeHex).join()).digest('hex');
    expect(digest).toBe(PINNED_DIGEST);
  });

  for (const e of g.envelopes) {
    it(`decrypts with each of its KEKs alone: ${e.name}`, async () => {
      for (const name of e.keks) {
        const client = new EnvelopeClient({ keks: keks[name as keyof typeof keks] });
        const { plaintext, context } = await client.decrypt(unhex(e.envelopeHex), { requiredContext: e.requiredContext });
        expect(Buffer.from(plaintext).toString('hex')).toBe(e.plaintextHex);
        expect(context).toEqual(e.context);
      }
      expect(readWrappedKeys(unhex(e.envelopeHex)).map((w) => w.kekId)).toEqual(e.keks.map((n) => keks[n as keyof typeof keks].id));
    });

    it(`matches docs/format.md byte for byte (independent reader): ${e.name}`, () => {
      expect(specDecrypt(unhex(e.envelopeHex), unhex(e.dekHex), e.requiredContext).toString('hex')).toBe(e.plaintextHex);
    });
  }
});

const PINNED_DIGEST = '584e4f0d16590dca2aa286a7ba70f3871bf6b7e22f51d25eb353e5f5067fdf58';
