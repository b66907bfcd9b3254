/**
 * A certificate version's public key as the key ring holds it: the key members come from the
 * leaf certificate Key Vault returns (`cer`, DER), validated by the same code as a Key Vault key
 * (jwk.ts), plus `x5c` and `x5t#S256`.
 *
 * @module
 * @internal
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { JsonWebKey as VaultJsonWebKey } from '@azure/keyvault-keys';
import { KekUnavailableError } from '../../errors.js';
import { materialFromVault, type PublicKeyMaterial } from './jwk.js';

/** node:crypto's JWK members (base64url strings) as Key Vault's (bytes). */
function vaultJwk(jwk: Record<string, unknown>): VaultJsonWebKey {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64url') : undefined);
  const crv = jwk.crv === 'secp256k1' ? 'P-256K' : jwk.crv; // Key Vault's name for it
  return { kty: jwk.kty as VaultJsonWebKey['kty'], crv: crv as VaultJsonWebKey['crv'], x: bytes(jwk.x), y: bytes(jwk.y), n: bytes(jwk.n), e: bytes(jwk.e) };
}

/** RFC 7517 §4.9: base64url(SHA-256(DER)). */
export const x5tS256 = (der: Uint8Array): string => createHash('sha256').update(der).digest('base64url');

/**
 * The material of a certificate version: `leaf` is Key Vault's `cer` (DER); `intermediates`
 * (DER, issuer order), if any, follow it in `x5c`.
 * @throws {KekUnavailableError} when `leaf` is not an X.509 certificate.
 * @throws {UnsupportedKeyTypeError} when its key is not an EC or RSA key JWS can use.
 */
export function materialFromCertificate(leaf: Uint8Array | undefined, kid: string, intermediates: readonly Uint8Array[] = []): PublicKeyMaterial {
  let cert: X509Certificate;
  try {
    if (leaf === undefined || leaf.length === 0) throw new Error('no cer');
    cert = new X509Certificate(leaf);
  } catch (err) {
    throw new KekUnavailableError(`${kid}: Key Vault returned no valid X.509 certificate (cer)`, { cause: err });
  }
  const base = materialFromVault(vaultJwk(cert.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid);
  const x5c = [leaf, ...intermediates].map((der) => Buffer.from(der).toString('base64'));
  return { ...base, x509: { x5c, x5tS256: x5tS256(leaf) } };
}
