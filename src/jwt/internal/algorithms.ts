/**
 * The JWS algorithms a Key Vault key can sign with, as one data table (RFC 7518 §3, RFC 8812
 * §3.2; reference jwt.md §2). Code below resolves an `alg` once through {@link algorithmSpec}
 * and never switches on the string.
 *
 * @module
 */

/** JWS algorithms Key Vault signs (EdDSA and HS* are not Key Vault operations). */
export type JwsAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'ES256K' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';

/** JWK `crv` names (RFC 7518 §6.2.1.1, RFC 8812 §3.1). */
export type JwkCurve = 'P-256' | 'P-384' | 'P-521' | 'secp256k1';

/** Hash functions by node:crypto name. */
export type HashName = 'sha256' | 'sha384' | 'sha512';

/** A curve: its JWK name, Key Vault's name, and the byte length of a coordinate (and of r, s). */
export interface CurveSpec {
  readonly jwk: JwkCurve;
  readonly vault: 'P-256' | 'P-384' | 'P-521' | 'P-256K';
  readonly bytes: number;
}

export const CURVES: Readonly<Record<JwkCurve, CurveSpec>> = {
  'P-256': { jwk: 'P-256', vault: 'P-256', bytes: 32 },
  'P-384': { jwk: 'P-384', vault: 'P-384', bytes: 48 },
  'P-521': { jwk: 'P-521', vault: 'P-521', bytes: 66 },
  secp256k1: { jwk: 'secp256k1', vault: 'P-256K', bytes: 32 },
};

/** Key Vault curve name → JWK curve name (`P-256K` is `secp256k1` in a JWK: RFC 8812). */
export const VAULT_CURVES: Readonly<Record<string, JwkCurve>> = {
  'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', 'P-256K': 'secp256k1', SECP256K1: 'secp256k1',
};

/** One algorithm: its hash, and the key it needs. */
export type AlgorithmSpec =
  | { readonly alg: JwsAlgorithm; readonly family: 'EC'; readonly hash: HashName; readonly hashBytes: number; readonly curve: CurveSpec }
  | { readonly alg: JwsAlgorithm; readonly family: 'RSA'; readonly hash: HashName; readonly hashBytes: number; readonly pss: boolean };

/** RFC 7518 §3.3 / §3.5: RSA keys of at least 2048 bits. */
export const MIN_RSA_BITS = 2048;

const ec = (alg: JwsAlgorithm, hash: HashName, hashBytes: number, curve: JwkCurve): AlgorithmSpec =>
  ({ alg, family: 'EC', hash, hashBytes, curve: CURVES[curve] });
const rsa = (alg: JwsAlgorithm, hash: HashName, hashBytes: number, pss: boolean): AlgorithmSpec =>
  ({ alg, family: 'RSA', hash, hashBytes, pss });

/** Every supported algorithm. */
export const JWS_ALGORITHMS: Readonly<Record<JwsAlgorithm, AlgorithmSpec>> = {
  ES256: ec('ES256', 'sha256', 32, 'P-256'),
  ES384: ec('ES384', 'sha384', 48, 'P-384'),
  ES512: ec('ES512', 'sha512', 64, 'P-521'),
  ES256K: ec('ES256K', 'sha256', 32, 'secp256k1'),
  RS256: rsa('RS256', 'sha256', 32, false),
  RS384: rsa('RS384', 'sha384', 48, false),
  RS512: rsa('RS512', 'sha512', 64, false),
  PS256: rsa('PS256', 'sha256', 32, true),
  PS384: rsa('PS384', 'sha384', 48, true),
  PS512: rsa('PS512', 'sha512', 64, true),
};

/** The names, for messages. */
export const ALGORITHM_NAMES = Object.keys(JWS_ALGORITHMS) as JwsAlgorithm[];

/** The spec of `alg`, or undefined for anything else (`none`, `HS256`, inherited names, …). */
export function algorithmSpec(alg: unknown): AlgorithmSpec | undefined {
  return typeof alg === 'string' && Object.hasOwn(JWS_ALGORITHMS, alg) ? JWS_ALGORITHMS[alg as JwsAlgorithm] : undefined;
}

/** What a public key is, as far as algorithm fit goes. */
export type KeyShape = { readonly family: 'EC'; readonly crv: JwkCurve } | { readonly family: 'RSA'; readonly bits: number };

/** Why a key of `shape` cannot be used with `spec`, or undefined when it can. */
export function keyMismatch(spec: AlgorithmSpec, shape: KeyShape): string | undefined {
  if (spec.family === 'EC') {
    if (shape.family !== 'EC') return `${spec.alg} needs an EC ${spec.curve.vault} key, not an RSA key`;
    if (shape.crv !== spec.curve.jwk) return `${spec.alg} needs curve ${spec.curve.vault}, not ${CURVES[shape.crv].vault}`;
    return undefined;
  }
  if (shape.family !== 'RSA') return `${spec.alg} needs an RSA key, not an EC key`;
  if (shape.bits < MIN_RSA_BITS) return `${spec.alg} needs an RSA key of at least ${MIN_RSA_BITS} bits, not ${shape.bits}`;
  return undefined;
}

/** The smallest RSA public exponent accepted (the one every common key uses; NIST SP 800-89 §5.3.3 / FIPS 186-5 §A.1.1: odd, > 2^16). */
export const MIN_RSA_EXPONENT = 65537n;

/**
 * Why an RSA public exponent (big-endian bytes) is refused, or undefined. e = 1 makes
 * s^e mod n = s, so ANY padded message is its own "signature": anyone forges RS256/PS256 for a
 * JWK with e = 1. Small or even exponents are refused too (no legitimate key has them).
 */
export function rsaExponentProblem(e: Uint8Array): string | undefined {
  let value = 0n;
  for (const b of e) value = (value << 8n) | BigInt(b);
  if (value % 2n === 0n || value < MIN_RSA_EXPONENT) return `the RSA public exponent must be odd and at least ${MIN_RSA_EXPONENT}, got ${value > 10n ** 12n ? 'a larger even number' : value}`;
  return undefined;
}

/** Signature length in bytes: 2 × coordinate size for ECDSA (R‖S), the modulus size for RSA. */
export function signatureBytes(spec: AlgorithmSpec, shape: KeyShape): number {
  return spec.family === 'EC' ? 2 * spec.curve.bytes : Math.ceil((shape.family === 'RSA' ? shape.bits : 0) / 8);
}
