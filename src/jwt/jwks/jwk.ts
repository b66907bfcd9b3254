/**
 * Public JWKs: Key Vault's key (SDK `JsonWebKey`, Uint8Array members) → an RFC-correct public
 * JWK (reference jwt.md §2 "Publishing KV keys as JWKs"), and a JWK → node:crypto `KeyObject`.
 *
 * - `kty` is `EC` / `RSA`, never Key Vault's `EC-HSM` / `RSA-HSM`.
 * - `crv` is `secp256k1` for Key Vault's `P-256K` (RFC 8812 §3.1).
 * - EC `x` / `y` are left-padded to the coordinate size (RFC 7518 §6.2.1.2).
 * - RSA `n` / `e` carry no leading zero octets (Base64urlUInt, RFC 7518 §2, §6.3.1.1).
 * - `use: "sig"`, `alg`, `kid`; no `key_ops` (RFC 7517 §4.3: not together with `use`), no
 *   private members.
 * - A certificate's key also carries `x5c` (RFC 7517 §4.7: standard base64 DER, leaf first) and
 *   `x5t#S256` (§4.9: base64url SHA-256 of the leaf's DER).
 *
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JsonWebKey as VaultJsonWebKey } from '@azure/keyvault-keys';
import { KekUnavailableError, UnsupportedKeyTypeError } from '../../errors.js';
import { CURVES, type JwkCurve, type JwsAlgorithm, type KeyShape, rsaExponentProblem, VAULT_CURVES } from '../internal/algorithms.js';
import { b64url } from '../internal/values.js';

/** A public EC JWK as published. */
export interface EcPublicJwk {
  kty: 'EC';
  crv: JwkCurve;
  x: string;
  y: string;
  use: 'sig';
  alg: JwsAlgorithm;
  kid: string;
  /** The certificate chain (standard base64 DER, leaf first), for a certificate's key. */
  x5c?: string[];
  /** base64url SHA-256 thumbprint of the leaf certificate, for a certificate's key. */
  'x5t#S256'?: string;
}

/** A public RSA JWK as published. */
export interface RsaPublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  use: 'sig';
  alg: JwsAlgorithm;
  kid: string;
  /** The certificate chain (standard base64 DER, leaf first), for a certificate's key. */
  x5c?: string[];
  /** base64url SHA-256 thumbprint of the leaf certificate, for a certificate's key. */
  'x5t#S256'?: string;
}

/** A published public JWK. */
export type PublicJwk = EcPublicJwk | RsaPublicJwk;

/** A JWK Set (RFC 7517 §5). */
export interface JwkSet {
  keys: PublicJwk[];
}

/** The public key of one key version, normalized once. */
export interface PublicKeyMaterial {
  readonly shape: KeyShape;
  /** The key members (`kty` + `crv`/`x`/`y` or `n`/`e`), normalized, without `use`/`alg`/`kid`. */
  readonly members: Readonly<Pick<EcPublicJwk, 'kty' | 'crv' | 'x' | 'y'> | Pick<RsaPublicJwk, 'kty' | 'n' | 'e'>>;
  readonly publicKey: KeyObject;
  /** Key Vault's `key_ops`, when it sent them. */
  readonly keyOps: readonly string[] | undefined;
  /** The certificate of a certificate's key version. */
  readonly x509?: X509Members;
}

/** The certificate members of a published JWK. */
export interface X509Members {
  /** Standard base64 DER, leaf first. */
  readonly x5c: readonly string[];
  /** base64url SHA-256 of the leaf's DER. */
  readonly x5tS256: string;
}

/** Big-endian unsigned bytes without leading zeros (at least one byte). */
function minimal(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** `bytes` as exactly `size` big-endian bytes, or undefined when the value does not fit. */
function fixed(bytes: Uint8Array, size: number): Uint8Array | undefined {
  const value = minimal(bytes);
  if (value.length > size) return undefined;
  const out = new Uint8Array(size);
  out.set(value, size - value.length);
  return out;
}

/**
 * Normalizes the public part of a Key Vault key version.
 * @throws {UnsupportedKeyTypeError} for oct keys, unknown key types or curves.
 * @throws {KekUnavailableError} when the vault sent incomplete or invalid public key members.
 */
export function materialFromVault(jwk: VaultJsonWebKey | undefined, kid: string): PublicKeyMaterial {
  const kty = String(jwk?.kty ?? 'unknown');
  const keyOps = jwk?.keyOps === undefined ? undefined : [...jwk.keyOps];
  if (kty === 'EC' || kty === 'EC-HSM') {
    const crv = VAULT_CURVES[String(jwk?.crv)];
    if (crv === undefined) throw new UnsupportedKeyTypeError(`${kid} is an EC key on curve ${String(jwk?.crv)}, which JWS cannot use`);
    const size = CURVES[crv].bytes;
    const x = jwk?.x && fixed(jwk.x, size);
    const y = jwk?.y && fixed(jwk.y, size);
    if (!x || !y) throw new KekUnavailableError(`${kid}: Key Vault returned no valid EC public point`);
    const members = { kty: 'EC', crv, x: b64url(x), y: b64url(y) } as const;
    return { shape: { family: 'EC', crv }, members, publicKey: importKey(members, kid), keyOps };
  }
  if (kty === 'RSA' || kty === 'RSA-HSM') {
    if (!jwk?.n || !jwk.e || jwk.n.length === 0 || jwk.e.length === 0) {
      throw new KekUnavailableError(`${kid}: Key Vault returned no RSA modulus/exponent`);
    }
    const weak = rsaExponentProblem(jwk.e);
    if (weak !== undefined) throw new UnsupportedKeyTypeError(`${kid}: ${weak}`);
    const members = { kty: 'RSA', n: b64url(minimal(jwk.n)), e: b64url(minimal(jwk.e)) } as const;
    const publicKey = importKey(members, kid);
    const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    return { shape: { family: 'RSA', bits }, members, publicKey, keyOps };
  }
  throw new UnsupportedKeyTypeError(`${kid} is a ${kty} key: JWTs are signed with EC or RSA keys`);
}

function importKey(members: Record<string, string>, kid: string): KeyObject {
  try {
    return createPublicKey({ key: members, format: 'jwk' });
  } catch (err) {
    throw new KekUnavailableError(`${kid}: the public key Key Vault returned is not valid`, { cause: err });
  }
}

/** The published JWK of `material` for `alg` under `kid`; members in a fixed order. */
export function publicJwk(material: PublicKeyMaterial, alg: JwsAlgorithm, kid: string): PublicJwk {
  const x509 = material.x509 === undefined ? {} : { x5c: [...material.x509.x5c], 'x5t#S256': material.x509.x5tS256 };
  return { ...material.members, use: 'sig', alg, kid, ...x509 } as PublicJwk;
}
