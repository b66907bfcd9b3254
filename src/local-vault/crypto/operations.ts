/**
 * The vault's cryptographic core: one entry point per operation family, driven by the algorithm
 * tables. The service layer checks permissions, key_ops and attributes before calling these;
 * here only the algorithm/key compatibility and the input sizes are checked.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { badParameter } from '../http/errors.js';
import { aesCbc, aesGcmDecrypt, aesGcmEncrypt, aesKeyUnwrap, aesKeyWrap, type AesInput, type AesOutput } from './aes.js';
import {
  CIPHER_ALGORITHMS,
  HASHES,
  lookup,
  SIGNATURE_ALGORITHMS,
  type CipherAlgorithm,
  type SignatureAlgorithm,
} from './algorithms.js';
import { ecSignDigest, ecVerifyDigest } from './ec.js';
import type { KeyMaterial } from './key-material.js';
import { rsaDecrypt, rsaEncrypt, rsaSignDigest, rsaVerifyDigest } from './rsa.js';

/** The four cipher operations. */
export type CipherOperation = 'encrypt' | 'decrypt' | 'wrapKey' | 'unwrapKey';

/** A public JWK as the service returns it (enough to verify). */
export type PublicJwk = { kty: string; n?: string; e?: string; crv?: string; x?: string; y?: string };

/**
 * Resolves a cipher algorithm for `operation` on a key of family `kty`.
 *
 * @throws {VaultHttpError} 400 BadParameter for an unknown algorithm or one the key cannot use.
 */
export function cipherAlgorithm(alg: unknown, operation: CipherOperation, kty: string): CipherAlgorithm {
  const algorithm = lookup<CipherAlgorithm>(CIPHER_ALGORITHMS, alg);
  if (!algorithm) throw badParameter(`Algorithm '${String(alg)}' is not supported for ${operation}.`);
  if (algorithm.family !== kty || ((operation === 'wrapKey' || operation === 'unwrapKey') && !algorithm.wrap)) {
    throw badParameter(`Algorithm '${String(alg)}' is not supported for ${operation} with a key of type ${kty}.`);
  }
  return algorithm;
}

/**
 * Runs encrypt/decrypt/wrapKey/unwrapKey with `alg` on `material`.
 *
 * @throws {VaultHttpError} 400 BadParameter for an unknown or mismatched algorithm, a wrong AES
 *   key size, a wrong input size, or a value that does not decrypt.
 */
export function runCipher(operation: CipherOperation, alg: unknown, material: KeyMaterial, input: AesInput): AesOutput {
  const algorithm = cipherAlgorithm(alg, operation, material.kty);
  const forward = operation === 'encrypt' || operation === 'wrapKey';
  if (algorithm.family === 'RSA' && material.kty === 'RSA') {
    return { value: forward ? rsaEncrypt(material, algorithm, input.value) : rsaDecrypt(material, algorithm, input.value) };
  }
  if (algorithm.family !== 'oct' || material.kty !== 'oct') throw badParameter('Key type mismatch.');
  const key = Buffer.from(material.k, 'base64url');
  if (key.length * 8 !== algorithm.keyBits) {
    throw badParameter(`Algorithm '${String(alg)}' requires a ${algorithm.keyBits}-bit key; this key has ${key.length * 8} bits.`);
  }
  if (algorithm.scheme === 'kw') return { value: forward ? aesKeyWrap(key, input.value) : aesKeyUnwrap(key, input.value) };
  if (algorithm.scheme === 'gcm') return forward ? aesGcmEncrypt(key, input) : aesGcmDecrypt(key, input);
  return aesCbc(key, input, forward, algorithm.scheme === 'cbcpad');
}

/**
 * Resolves a signature algorithm for a key of family `kty` (and curve `crv`) and checks the
 * digest length.
 *
 * @throws {VaultHttpError} 400 BadParameter for an unknown/mismatched algorithm or a digest of
 *   the wrong length.
 */
export function signatureAlgorithm(alg: unknown, kty: string, crv: string | undefined, digest: Uint8Array): SignatureAlgorithm {
  const algorithm = lookup<SignatureAlgorithm>(SIGNATURE_ALGORITHMS, alg);
  if (!algorithm) throw badParameter(`Algorithm '${String(alg)}' is not supported for signing.`);
  if (algorithm.family !== kty || (algorithm.family === 'EC' && algorithm.curve !== crv)) {
    throw badParameter(`Algorithm '${String(alg)}' is not supported with a key of type ${kty}${crv ? ` (${crv})` : ''}.`);
  }
  const expected = HASHES[algorithm.hash].bytes;
  if (digest.length !== expected) {
    throw badParameter(`Invalid digest length for algorithm '${String(alg)}': expected ${expected} bytes, got ${digest.length}.`);
  }
  return algorithm;
}

/**
 * Signs a precomputed `digest` (not the data) with `alg`.
 *
 * @throws {VaultHttpError} 400 BadParameter for an unknown/mismatched algorithm or a digest of
 *   the wrong length.
 */
export function signDigest(alg: unknown, material: KeyMaterial, digest: Uint8Array): Buffer {
  const algorithm = signatureAlgorithm(alg, material.kty, material.kty === 'EC' ? material.crv : undefined, digest);
  if (algorithm.family === 'RSA' && material.kty === 'RSA') return rsaSignDigest(material, algorithm.scheme, algorithm.hash, digest);
  if (algorithm.family === 'EC' && material.kty === 'EC') {
    return Buffer.from(ecSignDigest(algorithm.curve, Buffer.from(material.d, 'base64url'), digest));
  }
  throw badParameter('Key type mismatch.');
}

/**
 * Verifies `signature` over a precomputed `digest` with a public JWK. Any malformed signature is
 * `false`; only an unusable algorithm or digest length is an error.
 *
 * @throws {VaultHttpError} 400 BadParameter for an unknown/mismatched algorithm or a digest of
 *   the wrong length.
 */
export function verifyDigest(alg: unknown, jwk: PublicJwk, digest: Uint8Array, signature: Uint8Array): boolean {
  const family = jwk.kty.replace(/-HSM$/, '');
  const algorithm = signatureAlgorithm(alg, family, jwk.crv, digest);
  if (algorithm.family === 'RSA' && jwk.n && jwk.e) {
    return rsaVerifyDigest({ n: jwk.n, e: jwk.e }, algorithm.scheme, algorithm.hash, digest, signature);
  }
  if (algorithm.family === 'EC' && jwk.x && jwk.y) {
    return ecVerifyDigest(algorithm.curve, Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url'), digest, signature);
  }
  throw badParameter('The key has no public key material for verification.');
}

/** Hashes `data` with the hash of signature algorithm `alg` (a convenience for tests and tools). */
export function digestFor(alg: keyof typeof SIGNATURE_ALGORITHMS, data: Uint8Array): Buffer {
  return createHash(SIGNATURE_ALGORITHMS[alg].hash).update(data).digest();
}
