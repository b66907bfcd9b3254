/**
 * Wycheproof vectors through the local KEKs: AES-KW (RFC 3394) via LocalAesKek and
 * RSA-OAEP-256 (SHA-256, MGF1-SHA-256) via LocalRsaKek. Every vector is visited and counted;
 * the expected counts are asserted so that no group can be skipped silently.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecryptionFailedError } from '../../src/errors.js';
import { LocalAesKek } from '../../src/keys/local-aes-kek.js';
import { LocalRsaKek } from '../../src/keys/local-rsa-kek.js';

interface Vector {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  ct: string;
  label?: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface AesGroup {
  keySize: number;
  tests: (Vector & { key: string })[];
}
interface RsaGroup {
  keySize: number;
  sha: string;
  mgf: string;
  mgfSha: string;
  privateKeyPem: string;
  tests: (Vector & { label: string })[];
}

function load<G>(name: string): { algorithm: string; numberOfTests: number; testGroups: G[] } {
  return JSON.parse(readFileSync(new URL(`./wycheproof/${name}`, import.meta.url), 'utf8'));
}
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const wrappable = (n: number): boolean => n >= 16 && n % 8 === 0;

describe('Wycheproof aes_wrap_test.json via LocalAesKek', () => {
  const file = load<AesGroup>('aes_wrap_test.json');

  it('checks every vector', async () => {
    expect(file.algorithm).toBe('AES-WRAP');
    const counts = { valid: 0, acceptableRefused: 0, invalidRejected: 0, sizeRefused: 0 };
    let visited = 0;
    for (const group of file.testGroups) {
      const algByBits: Record<number, string> = { 128: 'A128KW', 192: 'A192KW', 256: 'A256KW' };
      for (const t of group.tests) {
        visited++;
        const id = `tc${t.tcId}`;
        const kek = new LocalAesKek({ id: 'wycheproof', key: hex(t.key) });
        expect(kek.alg, id).toBe(algByBits[group.keySize]);
        const msg = hex(t.msg);
        const wrapped = { kekId: 'wycheproof', alg: kek.alg, bytes: hex(t.ct) };
        if (t.result === 'valid') {
          expect(toHex((await kek.wrap(msg)).bytes), id).toBe(t.ct);
          expect(toHex(await kek.unwrap(wrapped)), id).toBe(t.msg);
          counts.valid++;
          continue;
        }
        // invalid, and 'acceptable' (wrapping 8 bytes, which RFC 3394 forbids): both refused.
        await expect(kek.unwrap(wrapped), id).rejects.toBeInstanceOf(DecryptionFailedError);
        if (wrappable(msg.length)) {
          expect(toHex((await kek.wrap(msg)).bytes), id).not.toBe(t.ct);
        } else {
          await expect(kek.wrap(msg), id).rejects.toBeInstanceOf(RangeError);
          counts.sizeRefused++;
        }
        if (t.result === 'acceptable') counts.acceptableRefused++;
        else counts.invalidRejected++;
      }
    }
    expect(visited).toBe(file.numberOfTests);
    expect(visited).toBe(165);
    // sizeRefused, 18 per key size: empty (1), 8 bytes (2), not a multiple of 8 (8), and the
    // 7 InvalidWrappingSize vectors whose msg is empty.
    expect(counts).toEqual({ valid: 36, acceptableRefused: 3, invalidRejected: 126, sizeRefused: 54 });
  });
});

for (const [name, bits] of [
  ['rsa_oaep_2048_sha256_mgf1sha256_test.json', 2048],
  ['rsa_oaep_3072_sha256_mgf1sha256_test.json', 3072],
] as const) {
  describe(`Wycheproof ${name} via LocalRsaKek`, () => {
    const file = load<RsaGroup>(name);

    it('checks every vector', async () => {
      expect(file.algorithm).toBe('RSAES-OAEP');
      const counts = { validDecrypted: 0, labelledRejected: 0, invalidRejected: 0 };
      let visited = 0;
      for (const group of file.testGroups) {
        expect([group.sha, group.mgf, group.mgfSha]).toEqual(['SHA-256', 'MGF1', 'SHA-256']);
        const kek = new LocalRsaKek({ id: 'wycheproof', privateKey: group.privateKeyPem });
        expect(kek.modulusLength).toBe(bits);
        expect(kek.canUnwrap).toBe(true);
        for (const t of group.tests) {
          visited++;
          const id = `tc${t.tcId}`;
          const wrapped = { kekId: 'wycheproof', alg: 'RSA-OAEP-256', bytes: hex(t.ct) };
          if (t.result === 'valid' && t.label === '') {
            expect(toHex(await kek.unwrap(wrapped)), id).toBe(t.msg);
            counts.validDecrypted++;
          } else if (t.result === 'valid') {
            // Encrypted under a non-empty OAEP label, which RSA-OAEP-256 as a KEK cannot express:
            // it must not decrypt under the empty label.
            await expect(kek.unwrap(wrapped), id).rejects.toBeInstanceOf(DecryptionFailedError);
            counts.labelledRejected++;
          } else {
            expect(t.result, id).toBe('invalid');
            await expect(kek.unwrap(wrapped), id).rejects.toBeInstanceOf(DecryptionFailedError);
            counts.invalidRejected++;
          }
        }
      }
      expect(visited).toBe(file.numberOfTests);
      expect(visited).toBe(37);
      expect(counts).toEqual({ validDecrypted: 10, labelledRejected: 8, invalidRejected: 19 });
    });

    it('round-trips through a wrap-only KEK built from the public key', async () => {
      const group = file.testGroups[0]!;
      const full = new LocalRsaKek({ id: 'wycheproof', privateKey: group.privateKeyPem });
      const publicKey = createPublicKey(group.privateKeyPem);
      const wrapOnly = new LocalRsaKek({ id: 'wycheproof', publicKey });
      const dek = hex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
      expect(await full.unwrap(await wrapOnly.wrap(dek))).toEqual(dek);
    });
  });
}
