/**
 * Key material: generation, validation of imported JWKs, the public JWK the service returns, and
 * cached node:crypto KeyObjects. Material is kept as base64url JWK members so that it serialises
 * as-is into the state file and into backups.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, generateKeyPair, KeyObject, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { badParameter } from '../http/errors.js';
import { CURVES, FAMILIES, type CurveName, type KeyFamily } from './algorithms.js';
import { ecPublicPoint, isCurveName } from './ec.js';
import { fromBase64Url, toBase64Url } from './encoding.js';

/** RSA private key as JWK members (base64url). */
export interface RsaMaterial {
  kty: 'RSA';
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}
/** EC private key as JWK members (base64url). */
export interface EcMaterial {
  kty: 'EC';
  crv: CurveName;
  x: string;
  y: string;
  d: string;
}
/** AES key as a JWK member (base64url). */
export interface OctMaterial {
  kty: 'oct';
  k: string;
}
/** Any private key material the vault holds. */
export type KeyMaterial = RsaMaterial | EcMaterial | OctMaterial;

/** What to generate: a family plus its size (RSA, oct) or curve (EC). */
export type KeySpec = { family: 'RSA'; size: number } | { family: 'EC'; curve: CurveName } | { family: 'oct'; size: number };

const generateKeyPairAsync = promisify(generateKeyPair);
const RSA_MEMBERS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;
const F4 = 'AQAB';

/** Generates fresh material for `spec` (RSA in the libuv pool, so the event loop stays free). */
export async function generateMaterial(spec: KeySpec): Promise<KeyMaterial> {
  if (spec.family === 'RSA') {
    const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: spec.size, publicExponent: 65537 });
    return rsaFromJwk(privateKey.export({ format: 'jwk' }) as Record<string, unknown>);
  }
  if (spec.family === 'EC') {
    const d = randomScalar(spec.curve);
    const { x, y } = ecPublicPoint(spec.curve, d);
    return { kty: 'EC', crv: spec.curve, x: toBase64Url(x), y: toBase64Url(y), d: toBase64Url(d) };
  }
  return { kty: 'oct', k: toBase64Url(randomBytes(spec.size / 8)) };
}

function randomScalar(curve: CurveName): Uint8Array {
  // why: rejection sampling through the curve's own validation keeps d in [1, n-1].
  for (;;) {
    const d = randomBytes(CURVES[curve].bytes);
    try {
      ecPublicPoint(curve, d);
      return d;
    } catch {
      continue;
    }
  }
}

/**
 * Validates the private parts of an imported JWK and returns the material for `family`.
 *
 * @throws {VaultHttpError} 400 BadParameter when members are missing, malformed, of an
 *   unsupported size, or do not form a key pair.
 */
export function importMaterial(family: KeyFamily, jwk: Record<string, unknown>): KeyMaterial {
  if (family === 'RSA') {
    const material = rsaFromJwk(jwk);
    if (material.e !== F4) throw badParameter('Only the public exponent 65537 is supported.');
    const bits = rsaModulusBits(material);
    if (!(FAMILIES.RSA.sizes as readonly number[]).includes(bits)) {
      throw badParameter(`RSA key size ${bits} is not supported. Supported sizes are 2048, 3072 and 4096.`);
    }
    try {
      createPrivateKey({ key: { ...material }, format: 'jwk' });
    } catch {
      throw badParameter('The RSA private key parameters are not valid.');
    }
    return material;
  }
  if (family === 'EC') {
    if (!isCurveName(jwk.crv)) throw badParameter(`The curve '${String(jwk.crv)}' is not supported.`);
    const size = CURVES[jwk.crv].bytes;
    const x = fixedMember(jwk, 'x', size);
    const y = fixedMember(jwk, 'y', size);
    const d = fixedMember(jwk, 'd', size);
    let point: { x: Uint8Array; y: Uint8Array };
    try {
      point = ecPublicPoint(jwk.crv, d);
    } catch {
      throw badParameter("The EC private key 'd' is not valid for the curve.");
    }
    if (!point.x.every((b, i) => b === x[i]) || !point.y.every((b, i) => b === y[i])) {
      throw badParameter("The EC public key 'x','y' does not match the private key 'd'.");
    }
    return { kty: 'EC', crv: jwk.crv, x: toBase64Url(x), y: toBase64Url(y), d: toBase64Url(d) };
  }
  const k = fromBase64Url(jwk.k, 'k');
  if (!(FAMILIES.oct.sizes as readonly number[]).includes(k.length * 8)) {
    throw badParameter(`AES key size ${k.length * 8} is not supported. Supported sizes are 128, 192 and 256.`);
  }
  return { kty: 'oct', k: toBase64Url(k) };
}

function rsaFromJwk(jwk: Record<string, unknown>): RsaMaterial {
  const material: Record<string, string> = {};
  for (const member of RSA_MEMBERS) {
    if (jwk[member] === undefined) {
      throw badParameter(`The RSA key must contain the private key parameter '${member}'.`);
    }
    material[member] = toBase64Url(stripLeadingZeros(fromBase64Url(jwk[member], member)));
  }
  return { kty: 'RSA', ...(material as Omit<RsaMaterial, 'kty'>) };
}

function fixedMember(jwk: Record<string, unknown>, member: string, size: number): Buffer {
  if (jwk[member] === undefined) throw badParameter(`The EC key must contain the parameter '${member}'.`);
  const bytes = fromBase64Url(jwk[member], member);
  if (bytes.length !== size) throw badParameter(`The EC key parameter '${member}' must be ${size} bytes.`);
  return bytes;
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** The RSA modulus length in bits. */
export function rsaModulusBits(material: Pick<RsaMaterial, 'n'>): number {
  const n = Buffer.from(material.n, 'base64url');
  const top = n[0] ?? 0;
  return top === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(top));
}

/** The key size the service reports (RSA modulus bits, AES bits); `undefined` for EC. */
export function materialSize(material: KeyMaterial): number | undefined {
  if (material.kty === 'RSA') return rsaModulusBits(material);
  if (material.kty === 'oct') return Buffer.from(material.k, 'base64url').length * 8;
  return undefined;
}

/** The public JWK members the service returns (`n`,`e` / `crv`,`x`,`y`; nothing for AES). */
export function publicMembers(material: KeyMaterial): Record<string, string> {
  if (material.kty === 'RSA') return { n: material.n, e: material.e };
  if (material.kty === 'EC') return { crv: material.crv, x: material.x, y: material.y };
  return {};
}

const privateKeys = new WeakMap<RsaMaterial, KeyObject>();
const publicKeys = new WeakMap<object, KeyObject>();

/** The cached node:crypto private KeyObject of RSA material. */
export function rsaPrivateKey(material: RsaMaterial): KeyObject {
  let key = privateKeys.get(material);
  if (!key) {
    key = createPrivateKey({ key: { ...material }, format: 'jwk' });
    privateKeys.set(material, key);
  }
  return key;
}

/** The cached node:crypto public KeyObject of an RSA public JWK (`n`, `e`). */
export function rsaPublicKey(jwk: { n: string; e: string }): KeyObject {
  let key = publicKeys.get(jwk);
  if (!key) {
    key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
    publicKeys.set(jwk, key);
  }
  return key;
}
