/**
 * The JWS signature check, with node:crypto only (no vault call):
 *
 * - ES256/384/512/256K: ECDSA with `dsaEncoding: 'ieee-p1363'` (raw R‖S, RFC 7518 §3.4). The
 *   length is checked first (64/96/132 bytes). node:crypto (OpenSSL) verifies secp256k1 too, so
 *   ES256K needs no extra library. High-S signatures are accepted, as by WebCrypto and jose.
 * - RS*: RSASSA-PKCS1-v1_5; PS*: RSASSA-PSS with MGF1 of the same hash and salt length = hash
 *   length (RFC 7518 §3.5), exactly what Key Vault produces. The signature must be exactly the
 *   modulus length (RFC 8017 §8.1.2 step 1). RSA keys whose public exponent is even or below
 *   65537 verify nothing (with e = 1 every padded message is its own signature).
 *
 * Never throws: any malformed input is simply `false`.
 *
 * @module
 */
import { constants, type KeyObject, verify } from 'node:crypto';
import { type AlgorithmSpec, algorithmSpec, type JwsAlgorithm, MIN_RSA_EXPONENT } from '../internal/algorithms.js';

/** Expected signature length for `spec` under `key`, or undefined when the key cannot be used. */
function expectedLength(spec: AlgorithmSpec, key: KeyObject): number | undefined {
  const details = key.asymmetricKeyDetails;
  if (spec.family === 'EC') {
    return key.asymmetricKeyType === 'ec' && details?.namedCurve === NODE_CURVE[spec.curve.jwk] ? 2 * spec.curve.bytes : undefined;
  }
  if (key.asymmetricKeyType !== 'rsa' || details?.modulusLength === undefined) return undefined;
  const e = details.publicExponent;
  if (e === undefined || e % 2n === 0n || e < MIN_RSA_EXPONENT) return undefined;
  return Math.ceil(details.modulusLength / 8);
}

/** node:crypto's names of the JWK curves. */
const NODE_CURVE: Readonly<Record<string, string>> = {
  'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1', secp256k1: 'secp256k1',
};

/**
 * True when `signature` is a valid `alg` signature of `signingInput` (the ASCII
 * `base64url(header).base64url(payload)`, or any message: the hash is applied here) under the
 * public `key`. The key must be of the type `alg` needs (curve, RSA), else false.
 * @throws {never} never: bad input gives `false`.
 * @example
 * ```ts
 * import { createPublicKey } from 'node:crypto';
 * const ok = verifyJwsSignature('ES256', createPublicKey({ key: jwk, format: 'jwk' }), `${h}.${p}`, signatureBytes);
 * ```
 */
export function verifyJwsSignature(alg: JwsAlgorithm, key: KeyObject, signingInput: string | Uint8Array, signature: Uint8Array): boolean {
  const spec = algorithmSpec(alg);
  if (spec === undefined || key?.type !== 'public' || !(signature instanceof Uint8Array)) return false;
  if (signature.length !== expectedLength(spec, key)) return false;
  const data = typeof signingInput === 'string' ? Buffer.from(signingInput, 'utf8') : signingInput;
  try {
    if (spec.family === 'EC') return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!spec.pss) return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashBytes }, signature);
  } catch {
    return false;
  }
}
