/**
 * RSA operations as Key Vault performs them: OAEP (SHA-1 or SHA-256) and PKCS#1 v1.5
 * encryption, and RS* and PS* signatures over precomputed digests.
 *
 * @module
 */
import { constants, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt, timingSafeEqual } from 'node:crypto';
import { badParameter } from '../http/errors.js';
import type { HashName } from './algorithms.js';
import { emsaPssEncode, emsaPssVerify } from './emsa-pss.js';
import { rsaModulusBits, rsaPrivateKey, rsaPublicKey, type RsaMaterial } from './key-material.js';

// RFC 8017 §9.2 note 1: DER of DigestInfo up to (not including) the digest.
const DIGEST_INFO: Partial<Record<HashName, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** An RSA public key as JWK members. */
export interface RsaPublicJwk {
  n: string;
  e: string;
}

/** Encryption scheme: OAEP with a hash, or PKCS#1 v1.5 (`RSA1_5`). */
export type RsaCipherScheme = { scheme: 'oaep'; hash: HashName } | { scheme: 'pkcs1' };

/**
 * Encrypts with the public key.
 *
 * @throws {VaultHttpError} 400 when the plaintext is too long for the modulus.
 */
export function rsaEncrypt(material: RsaPublicJwk, alg: RsaCipherScheme, plaintext: Uint8Array): Buffer {
  const key = rsaPublicKey(material);
  try {
    return alg.scheme === 'oaep'
      ? publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg.hash }, plaintext)
      : publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, plaintext);
  } catch {
    throw badParameter('The value is too long to be encrypted with this key and algorithm.');
  }
}

/**
 * Decrypts with the private key.
 *
 * @throws {VaultHttpError} 400 for a ciphertext that does not decrypt (one message for every cause).
 */
export function rsaDecrypt(material: RsaMaterial, alg: RsaCipherScheme, ciphertext: Uint8Array): Buffer {
  const key = rsaPrivateKey(material);
  const k = modulusBytes(material);
  try {
    if (ciphertext.length !== k) throw new RangeError('ciphertext length');
    if (alg.scheme === 'oaep') {
      return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg.hash }, ciphertext);
    }
    // why: Node ≥ 20.11 refuses RSA_PKCS1_PADDING decryption (CVE-2023-46809); remove the
    // RFC 8017 §7.2.2 padding from the raw result instead.
    const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext);
    const separator = em.indexOf(0, 2);
    if (em[0] !== 0 || em[1] !== 2 || separator < 10) throw new RangeError('padding');
    return em.subarray(separator + 1);
  } catch {
    throw badParameter('The value could not be decrypted with this key and algorithm.');
  }
}

/** Signs a digest: EMSA-PKCS1-v1_5 (`RS*`) or EMSA-PSS with sLen = hLen (`PS*`). */
export function rsaSignDigest(material: RsaMaterial, scheme: 'pkcs1' | 'pss', hash: HashName, digest: Uint8Array): Buffer {
  const key = rsaPrivateKey(material);
  if (scheme === 'pkcs1') {
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([digestInfo(hash), digest]));
  }
  const bits = rsaModulusBits(material);
  const em = emsaPssEncode(digest, bits - 1, hash);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, leftPad(em, modulusBytes(material)));
}

/** Verifies an RS* and PS* signature over a digest; any malformed input is simply `false`. */
export function rsaVerifyDigest(
  jwk: RsaPublicJwk,
  scheme: 'pkcs1' | 'pss',
  hash: HashName,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const k = modulusBytes(jwk);
  // RFC 8017 §8.1.2 / §8.2.2 step 1: the signature is exactly k octets.
  if (signature.length !== k) return false;
  let em: Buffer;
  try {
    em = publicDecrypt({ key: rsaPublicKey(jwk), padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false;
  }
  em = leftPad(em, k);
  if (scheme === 'pss') {
    const emBits = rsaModulusBits(jwk) - 1;
    const emLen = Math.ceil(emBits / 8);
    if (emLen < k && em[0] !== 0) return false;
    return emsaPssVerify(digest, em.subarray(k - emLen), emBits, hash);
  }
  // RFC 8017 §8.2.2 step 3-4: re-encode and compare, so no lenient DigestInfo parsing.
  const t = Buffer.concat([digestInfo(hash), digest]);
  if (k < t.length + 11) return false;
  const expected = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]);
  return timingSafeEqual(expected, em);
}

function digestInfo(hash: HashName): Buffer {
  const prefix = DIGEST_INFO[hash];
  if (!prefix) throw new RangeError(`no DigestInfo for ${hash}`);
  return prefix;
}

function modulusBytes(jwk: { n: string }): number {
  return Math.ceil(rsaModulusBits(jwk) / 8);
}

function leftPad(bytes: Buffer, length: number): Buffer {
  return bytes.length >= length ? bytes : Buffer.concat([Buffer.alloc(length - bytes.length), bytes]);
}
