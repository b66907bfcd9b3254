/**
 * The RSA signature algorithms record signatures may use, as a data table (JOSE names → the
 * node:crypto padding settings). kv-envelope signs with PS256; RS256 is accepted on verify
 * because SQL Always Encrypted's precedent and some HSM policies use PKCS#1 v1.5.
 *
 * @module
 * @internal
 */
import { constants } from 'node:crypto';

/** Padding of each accepted algorithm; the hash is always SHA-256. */
export const RSA_SIGNATURE_ALGORITHMS: Readonly<Record<'PS256' | 'RS256', { readonly padding: number; readonly saltLength?: number }>> = Object.freeze({
  // RFC 7518 §3.5: the salt is as long as the hash.
  PS256: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  RS256: { padding: constants.RSA_PKCS1_PADDING },
});

/** True when `alg` is a key of {@link RSA_SIGNATURE_ALGORITHMS}. */
export function isRsaSignatureAlgorithm(alg: unknown): alg is 'PS256' | 'RS256' {
  return typeof alg === 'string' && Object.hasOwn(RSA_SIGNATURE_ALGORITHMS, alg);
}
