/**
 * Which Key Vault key types can be KEKs, and with which wrapping algorithm: a data table
 * resolved once per key version (reference §3). RSA / RSA-HSM wrap locally with RSA-OAEP-256
 * from the cached public key; oct-HSM (Managed HSM) wraps remotely with AES-KW. EC keys can
 * only sign in Key Vault (there is no ECDH), so they are refused.
 *
 * @module
 * @internal
 */
import { type KeyObject, createPublicKey } from 'node:crypto';
import type { KeyVaultKey } from '@azure/keyvault-keys';
import { KekUnavailableError, UnsupportedKeyTypeError } from '../../errors.js';

/** AES key-wrap algorithms an oct-HSM KEK may use (RFC 3394). */
export type OctWrapAlgorithm = 'A128KW' | 'A192KW' | 'A256KW';

type KeyKind = 'rsa' | 'oct' | 'ec';

const KEY_KINDS: Readonly<Record<string, KeyKind>> = {
  RSA: 'rsa', 'RSA-HSM': 'rsa', oct: 'oct', 'oct-HSM': 'oct', EC: 'ec', 'EC-HSM': 'ec',
};

/**
 * The algorithms `unwrap` accepts, with the key kind each needs and the byte lengths a wrapped
 * DEK can have: an RSA-2048/3072/4096 ciphertext, or an AES-KW output (multiple of 8, ≥ 24).
 * Anything else (RSA1_5, SHA-1 RSA-OAEP, …) is refused before a request is made.
 */
export const UNWRAP_ALGORITHMS: Readonly<Record<string, { kind: KeyKind; validLength(n: number): boolean }>> = {
  'RSA-OAEP-256': { kind: 'rsa', validLength: (n) => n === 256 || n === 384 || n === 512 },
  A128KW: { kind: 'oct', validLength: (n) => n >= 24 && n % 8 === 0 },
  A192KW: { kind: 'oct', validLength: (n) => n >= 24 && n % 8 === 0 },
  A256KW: { kind: 'oct', validLength: (n) => n >= 24 && n % 8 === 0 },
};

/** How the current key version wraps. */
export type WrapMethod =
  | { readonly kind: 'rsa'; readonly kid: string; readonly alg: 'RSA-OAEP-256'; readonly publicKey: KeyObject; readonly maxDekBytes: number }
  | { readonly kind: 'oct'; readonly kid: string; readonly alg: OctWrapAlgorithm };

const OAEP_SHA256_OVERHEAD = 2 * 32 + 2;
const MIN_RSA_BITS = 2048;

/** Refuses an EC key with the explanation users need. */
export function refuseEc(kid: string, kty: string): never {
  throw new UnsupportedKeyTypeError(
    `${kid} is a ${kty} key: Key Vault EC keys can only sign and verify (Key Vault has no ECDH or ` +
      'key-agreement operation), so they cannot wrap data keys. Use an RSA key (RSA-OAEP-256) or a Managed HSM oct-HSM key (AES-KW).',
  );
}

/**
 * Checks the key type of a fetched key, before anything else is looked at.
 * @throws {UnsupportedKeyTypeError} for EC / EC-HSM or unknown key types.
 */
export function assertWrappingKeyType(key: KeyVaultKey): void {
  const kty = key.keyType ?? key.key?.kty ?? 'unknown';
  const kind = KEY_KINDS[kty];
  const kid = key.id ?? key.name;
  if (kind === 'ec') refuseEc(kid, kty);
  if (kind === undefined) throw new UnsupportedKeyTypeError(`${kid} has key type ${kty}, which cannot wrap data keys`);
}

/**
 * Why `key` may not wrap now (disabled, not yet valid, expired, key_ops without wrapKey), or
 * undefined when it may. Key Vault enforces the same attributes server-side.
 */
export function unusableReason(key: Pick<KeyVaultKey, 'properties' | 'keyOperations'>, now: number): string | undefined {
  const p = key.properties;
  if (p.enabled === false) return 'is disabled';
  if (p.notBefore !== undefined && now < p.notBefore.getTime()) return `is not valid before ${p.notBefore.toISOString()}`;
  if (p.expiresOn !== undefined && now >= p.expiresOn.getTime()) return `expired at ${p.expiresOn.toISOString()}`;
  const ops = key.keyOperations;
  if (ops !== undefined && ops.length > 0 && !ops.includes('wrapKey')) return 'does not allow wrapKey (key_ops)';
  return undefined;
}

/**
 * The wrap method of a usable key version (`kid` is its versioned id).
 * @throws {UnsupportedKeyTypeError} for EC keys, unknown types, or RSA keys under 2048 bits.
 * @throws {KekUnavailableError} when an RSA key arrives without its public modulus/exponent.
 */
export function wrapMethodFor(key: KeyVaultKey, kid: string, octAlgorithm: OctWrapAlgorithm): WrapMethod {
  assertWrappingKeyType(key);
  const kty = key.keyType ?? key.key?.kty ?? '';
  if (KEY_KINDS[kty] === 'oct') return { kind: 'oct', kid, alg: octAlgorithm };
  const n = key.key?.n;
  const e = key.key?.e;
  if (n === undefined || e === undefined) throw new KekUnavailableError(`${kid}: Key Vault returned no RSA public key material`);
  const publicKey = createPublicKey({
    key: { kty: 'RSA', n: Buffer.from(n).toString('base64url'), e: Buffer.from(e).toString('base64url') },
    format: 'jwk',
  });
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new UnsupportedKeyTypeError(`${kid} is RSA-${bits}: a KEK needs at least ${MIN_RSA_BITS} bits`);
  return { kind: 'rsa', kid, alg: 'RSA-OAEP-256', publicKey, maxDekBytes: Math.ceil(bits / 8) - OAEP_SHA256_OVERHEAD };
}
