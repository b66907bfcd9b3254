/**
 * Wycheproof signature vectors through the JWT verifier's signature check
 * (`verifyJwsSignature`, node:crypto): ECDSA in IEEE P1363 form (P-256, P-384, P-521,
 * secp256k1), RSASSA-PSS 2048/SHA-256/MGF1-SHA-256/salt 32 and RSASSA-PKCS1-v1_5 2048/SHA-256.
 * The vectors sign messages: the check hashes the message with the algorithm's hash, which is
 * asserted to be the vector group's `sha`. Every vector is visited; the counts are asserted so
 * that no group can be skipped silently.
 *
 * One deliberate difference: Wycheproof's PKCS#1 file has two groups with public exponent 3 whose
 * signatures are "valid". verifyJwsSignature refuses every RSA key with an exponent that is even
 * or below 65537 (FIPS 186-5 §A.1.1; e = 1 would let anyone forge), so those two are refused.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JWS_ALGORITHMS, type JwsAlgorithm } from '../../src/jwt/internal/algorithms.js';
import { verifyJwsSignature } from '../../src/jwt/verify/signature.js';

interface Vector {
  tcId: number;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface Group {
  sha: string;
  publicKeyPem?: string;
  publicKeyJwk?: Record<string, string>;
  sLen?: number;
  mgfSha?: string;
  tests: Vector[];
}

function load(name: string): { numberOfTests: number; testGroups: Group[] } {
  return JSON.parse(readFileSync(new URL(`./wycheproof/${name}`, import.meta.url), 'utf8'));
}

const SHA: Record<string, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

const FILES: { file: string; alg: JwsAlgorithm; counts: { valid: number; invalid: number; acceptable: number } }[] = [
  { file: 'ecdsa_secp256r1_sha256_p1363_test.json', alg: 'ES256', counts: { valid: 173, invalid: 89, acceptable: 0 } },
  { file: 'ecdsa_secp384r1_sha384_p1363_test.json', alg: 'ES384', counts: { valid: 193, invalid: 87, acceptable: 0 } },
  { file: 'ecdsa_secp521r1_sha512_p1363_test.json', alg: 'ES512', counts: { valid: 231, invalid: 87, acceptable: 0 } },
  { file: 'ecdsa_secp256k1_sha256_p1363_test.json', alg: 'ES256K', counts: { valid: 167, invalid: 85, acceptable: 0 } },
  { file: 'rsa_pss_2048_sha256_mgf1_32_test.json', alg: 'PS256', counts: { valid: 63, invalid: 45, acceptable: 0 } },
  { file: 'rsa_signature_2048_sha256_test.json', alg: 'RS256', counts: { valid: 9, invalid: 249, acceptable: 1 } },
];
/** Valid vectors refused on purpose (RSA public exponent below 65537), per file. */
const WEAK_EXPONENT_VALID: Record<string, number> = { 'rsa_signature_2048_sha256_test.json': 2 };

describe.each(FILES)('Wycheproof $file through verifyJwsSignature ($alg)', ({ file, alg, counts }) => {
  it('accepts every valid signature and rejects every invalid one', () => {
    const data = load(file);
    const seen = { valid: 0, invalid: 0, acceptable: 0 };
    const accepted = { valid: 0, invalid: 0, acceptable: 0 };
    for (const group of data.testGroups) {
      expect(SHA[group.sha], group.sha).toBe(JWS_ALGORITHMS[alg].hash);
      if (group.sLen !== undefined) expect([group.sLen, group.mgfSha]).toEqual([JWS_ALGORITHMS[alg].hashBytes, group.sha]);
      const key: KeyObject = createPublicKey(group.publicKeyPem ?? '');
      const e = key.asymmetricKeyDetails?.publicExponent;
      const weak = e !== undefined && e < 65537n;
      for (const t of group.tests) {
        const ok = verifyJwsSignature(alg, key, Buffer.from(t.msg, 'hex'), Buffer.from(t.sig, 'hex'));
        if (weak) expect(ok, `tcId ${t.tcId} (e = ${e})`).toBe(false);
        else if (t.result !== 'acceptable') expect(ok, `tcId ${t.tcId}`).toBe(t.result === 'valid');
        seen[t.result]++;
        if (ok) accepted[t.result]++;
      }
    }
    expect(seen).toEqual(counts);
    expect(seen.valid + seen.invalid + seen.acceptable).toBe(data.numberOfTests);
    expect(accepted.valid).toBe(counts.valid - (WEAK_EXPONENT_VALID[file] ?? 0));
    expect(accepted.invalid).toBe(0);
  });
});
