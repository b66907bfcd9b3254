/**
 * Wycheproof AES-SIV-CMAC (RFC 5297) and HKDF-SHA-256 vectors on both backends (node:crypto and
 * noble), directly and through the validating wrappers. Verified counts are asserted so nothing
 * is skipped.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AesGcm } from '../../src/aead/gcm.js';
import { nobleBackend } from '../../src/aead/noble-backend.js';
import { nodeBackend } from '../../src/aead/node-backend.js';
import { AesSiv, sivOpen, sivSeal } from '../../src/aead/siv.js';
import { DecryptionFailedError } from '../../src/errors.js';

interface Vector {
  tcId: number;
  comment: string;
  flags?: string[];
  result: 'valid' | 'invalid' | 'acceptable';
}
interface SivVector extends Vector {
  key: string;
  aad: string;
  msg: string;
  ct: string;
}
interface HkdfVector extends Vector {
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
}
interface VectorFile<T> {
  numberOfTests: number;
  testGroups: { keySize: number; tests: T[] }[];
}

function load<T>(name: string): VectorFile<T> {
  return JSON.parse(readFileSync(new URL(`./wycheproof/${name}`, import.meta.url), 'utf8')) as VectorFile<T>;
}
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const allTests = <T>(f: VectorFile<T>): T[] => f.testGroups.flatMap((g) => g.tests);

describe('Wycheproof aes_siv_cmac_test.json', () => {
  const file = load<SivVector>('aes_siv_cmac_test.json');

  for (const backend of [nodeBackend, nobleBackend]) {
    it(`${backend.name}: seals valid vectors exactly, opens them, and rejects every invalid one`, () => {
      const siv = new AesSiv(backend);
      const tests = allTests(file);
      expect(tests.length).toBe(file.numberOfTests);
      let verified = 0;
      let rejected = 0;
      const failures: string[] = [];
      for (const t of tests) {
        const key = hex(t.key), aad = hex(t.aad), msg = hex(t.msg), ct = hex(t.ct);
        try {
          if (t.result === 'invalid') {
            // The attack: a modified SIV; the backend itself releases nothing, the wrapper throws.
            expect(backend.sivOpen(key, ct, [aad])).toBeUndefined();
            expect(() => siv.open(key, ct, aad)).toThrow(DecryptionFailedError);
            rejected++;
          } else {
            expect(toHex(backend.sivSeal(key, msg, [aad]))).toBe(t.ct);
            expect(toHex(siv.seal(key, msg, aad))).toBe(t.ct);
            expect(toHex(siv.open(key, ct, aad))).toBe(t.msg);
            verified++;
          }
        } catch (err) {
          failures.push(`tcId ${t.tcId} (${t.comment}): ${(err as Error).message}`);
        }
      }
      expect(failures).toEqual([]);
      // 3 groups (32/48/64-byte keys): 40 + 39 + 39 valid, 3 x 108 invalid (modified SIVs).
      expect({ verified, rejected }).toEqual({ verified: 118, rejected: 324 });
    });
  }

  it('sivSeal / sivOpen (the default, node:crypto) give the vectors', () => {
    let checked = 0;
    for (const t of allTests(file)) {
      if (t.result === 'invalid') continue;
      const key = hex(t.key), aad = hex(t.aad);
      expect(toHex(sivSeal(key, hex(t.msg), aad))).toBe(t.ct);
      expect(toHex(sivOpen(key, hex(t.ct), aad))).toBe(t.msg);
      checked++;
    }
    expect(checked).toBe(118);
  });

  it('the RFC 5297 §A.1 vector is among them', () => {
    const first = allTests(file)[0];
    expect(first?.comment).toBe('RFC 5297');
    expect(first?.ct).toBe('85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c');
  });
});

describe('Wycheproof hkdf_sha256_test.json', () => {
  const file = load<HkdfVector>('hkdf_sha256_test.json');

  for (const backend of [nodeBackend, nobleBackend]) {
    it(`${backend.name}: every vector, directly and through the wrapper`, () => {
      const aead = new AesGcm(backend);
      const tests = allTests(file);
      expect(tests.length).toBe(file.numberOfTests);
      let verified = 0;
      let rejected = 0;
      const failures: string[] = [];
      for (const t of tests) {
        const ikm = hex(t.ikm), salt = hex(t.salt), info = hex(t.info);
        try {
          if (t.result === 'invalid') {
            // The only invalid kind is an output longer than 255 * 32 bytes.
            expect(t.flags).toContain('SizeTooLarge');
            expect(() => aead.hkdf(ikm, salt, info, t.size)).toThrow(RangeError);
            expect(() => backend.hkdfSha256(ikm, salt, info, t.size)).toThrow();
            rejected++;
          } else {
            expect(toHex(backend.hkdfSha256(ikm, salt, info, t.size))).toBe(t.okm);
            expect(toHex(aead.hkdf(ikm, salt, info, t.size))).toBe(t.okm);
            verified++;
          }
        } catch (err) {
          failures.push(`tcId ${t.tcId} (${t.comment}): ${(err as Error).message}`);
        }
      }
      expect(failures).toEqual([]);
      expect({ verified, rejected }).toEqual({ verified: 83, rejected: 3 });
    });
  }

  it('node: info longer than hkdfSync accepts takes the HMAC path with the same result', () => {
    const ikm = hex('0b'.repeat(22)), salt = hex('000102030405060708090a0b0c');
    for (const infoLength of [1024, 1025, 4000]) {
      const info = new Uint8Array(infoLength).map((_, i) => i * 7);
      for (const length of [1, 32, 33, 64, 8160]) {
        expect(toHex(nodeBackend.hkdfSha256(ikm, salt, info, length))).toBe(
          toHex(nobleBackend.hkdfSha256(ikm, salt, info, length)),
        );
      }
      expect(() => nodeBackend.hkdfSha256(ikm, salt, info, 8161)).toThrow();
    }
  });
});
