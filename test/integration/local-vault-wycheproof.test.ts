/**
 * Wycheproof signature vectors through the local vault's verify core (the function behind
 * `POST /keys/{name}/{version}/verify`). Key Vault cannot import a public-only key, so the
 * vectors' public keys cannot be put behind the HTTP endpoint; the HTTP path is covered by the
 * sign/verify round trips in local-vault.test.ts. Every vector is visited and counted.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyDigest, type PublicJwk } from '../../src/local-vault/crypto/operations.js';

interface Vector {
  tcId: number;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface Group {
  sha: string;
  publicKey?: { uncompressed?: string };
  publicKeyJwk?: { n?: string; e?: string };
  keyJwk?: { n?: string; e?: string };
  tests: Vector[];
}

function load(name: string): { numberOfTests: number; testGroups: Group[] } {
  return JSON.parse(readFileSync(new URL(`../vectors/wycheproof/${name}`, import.meta.url), 'utf8'));
}

const SHA: Record<string, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

function ecJwk(group: Group, crv: string): PublicJwk {
  const point = Buffer.from(group.publicKey?.uncompressed ?? '', 'hex');
  const size = (point.length - 1) / 2;
  return {
    kty: 'EC',
    crv,
    x: point.subarray(1, 1 + size).toString('base64url'),
    y: point.subarray(1 + size).toString('base64url'),
  };
}

function rsaJwk(group: Group): PublicJwk {
  const jwk = group.publicKeyJwk ?? group.keyJwk;
  return { kty: 'RSA', n: jwk?.n ?? '', e: jwk?.e ?? '' };
}

const FILES = [
  { file: 'ecdsa_secp256r1_sha256_p1363_test.json', alg: 'ES256', jwk: (g: Group) => ecJwk(g, 'P-256') },
  { file: 'ecdsa_secp256k1_sha256_p1363_test.json', alg: 'ES256K', jwk: (g: Group) => ecJwk(g, 'P-256K') },
  { file: 'ecdsa_secp384r1_sha384_p1363_test.json', alg: 'ES384', jwk: (g: Group) => ecJwk(g, 'P-384') },
  { file: 'ecdsa_secp521r1_sha512_p1363_test.json', alg: 'ES512', jwk: (g: Group) => ecJwk(g, 'P-521') },
  { file: 'rsa_pss_2048_sha256_mgf1_32_test.json', alg: 'PS256', jwk: rsaJwk },
  { file: 'rsa_signature_2048_sha256_test.json', alg: 'RS256', jwk: rsaJwk },
] as const;

describe.each(FILES)('Wycheproof $file via the vault verify core ($alg)', ({ file, alg, jwk }) => {
  it('accepts every valid signature and rejects every invalid one', () => {
    const data = load(file);
    const counts = { valid: 0, invalid: 0, acceptable: 0 };
    for (const group of data.testGroups) {
      const key = jwk(group);
      const hash = SHA[group.sha];
      expect(hash, group.sha).toBeDefined();
      for (const t of group.tests) {
        const digest = createHash(hash ?? '').update(Buffer.from(t.msg, 'hex')).digest();
        const ok = verifyDigest(alg, key, digest, Buffer.from(t.sig, 'hex'));
        if (t.result !== 'acceptable') expect(ok, `tcId ${t.tcId}`).toBe(t.result === 'valid');
        counts[t.result]++;
      }
    }
    expect(counts.valid + counts.invalid + counts.acceptable).toBe(data.numberOfTests);
    expect(counts.valid).toBeGreaterThan(0);
    expect(counts.invalid).toBeGreaterThan(0);
  });
});
