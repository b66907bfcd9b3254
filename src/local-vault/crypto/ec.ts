/**
 * ECDSA over precomputed digests with @noble/curves (`prehash: false`): node:crypto has no way
 * to sign or verify a digest without hashing it again. Signatures are raw `r‖s` (IEEE P1363),
 * the format Key Vault returns and JWS uses.
 *
 * @module
 */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { CURVES, type CurveName } from './algorithms.js';

const IMPLEMENTATIONS = { 'P-256': p256, 'P-384': p384, 'P-521': p521, 'P-256K': secp256k1 } as const;

/** Type guard for the curve names Key Vault supports. */
export function isCurveName(value: unknown): value is CurveName {
  return typeof value === 'string' && Object.hasOwn(CURVES, value);
}

/**
 * The public point of secret scalar `d` as fixed-length `x` and `y`.
 *
 * @throws {Error} when `d` is not a valid scalar for the curve.
 */
export function ecPublicPoint(curve: CurveName, d: Uint8Array): { x: Uint8Array; y: Uint8Array } {
  const size = CURVES[curve].bytes;
  const point = IMPLEMENTATIONS[curve].getPublicKey(d, false);
  // why: uncompressed SEC1 encoding is 0x04 ‖ x ‖ y.
  return { x: point.subarray(1, 1 + size), y: point.subarray(1 + size) };
}

/** Signs `digest` with scalar `d`; returns `r‖s` of twice the coordinate length. */
export function ecSignDigest(curve: CurveName, d: Uint8Array, digest: Uint8Array): Uint8Array {
  return IMPLEMENTATIONS[curve].sign(digest, d, { prehash: false, lowS: true, format: 'compact' });
}

/**
 * Verifies an `r‖s` signature over `digest` against the public point (`x`, `y`). High-S
 * signatures are accepted, as in any ECDSA verifier outside the Bitcoin world.
 */
export function ecVerifyDigest(
  curve: CurveName,
  x: Uint8Array,
  y: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const size = CURVES[curve].bytes;
  if (signature.length !== 2 * size || x.length !== size || y.length !== size) return false;
  const publicKey = new Uint8Array(1 + 2 * size);
  publicKey[0] = 4;
  publicKey.set(x, 1);
  publicKey.set(y, 1 + size);
  try {
    return IMPLEMENTATIONS[curve].verify(signature, digest, publicKey, {
      prehash: false,
      lowS: false,
      format: 'compact',
    });
  } catch {
    return false;
  }
}
