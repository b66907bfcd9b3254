/**
 * EMSA-PSS encoding and verification (RFC 8017 §9.1) with MGF1 over the same hash and a salt as
 * long as the hash, the parameters of JWS PS256/384/512. node:crypto can only PSS-sign data it
 * hashes itself, so the vault encodes the digest here and applies the raw RSA operation.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HASHES, type HashName } from './algorithms.js';

function mgf1(seed: Uint8Array, length: number, hash: HashName): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0, produced = 0; produced < length; i++) {
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function mPrimeHash(digest: Uint8Array, salt: Uint8Array, hash: HashName): Buffer {
  return createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a precomputed `digest`; sLen = hLen.
 *
 * @returns the encoded message, `ceil(emBits / 8)` bytes.
 */
export function emsaPssEncode(digest: Uint8Array, emBits: number, hash: HashName): Buffer {
  const hLen = HASHES[hash].bytes;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < 2 * hLen + 2) throw new RangeError('encoding error: modulus too short for PSS');
  const salt = randomBytes(hLen);
  const h = mPrimeHash(digest, salt, hash);
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - 2 * hLen - 2] = 0x01;
  salt.copy(db, emLen - 2 * hLen - 1);
  const mask = mgf1(h, db.length, hash);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >>> (8 * emLen - emBits));
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of `em` (`ceil(emBits / 8)` bytes) against `digest`. */
export function emsaPssVerify(digest: Uint8Array, em: Uint8Array, emBits: number, hash: HashName): boolean {
  const hLen = HASHES[hash].bytes;
  const emLen = Math.ceil(emBits / 8);
  if (digest.length !== hLen || em.length !== emLen || emLen < 2 * hLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const topMask = 0xff >>> (8 * emLen - emBits);
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  if (((maskedDb[0] ?? 0) & ~topMask) !== 0) return false;
  const mask = mgf1(h, maskedDb.length, hash);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (maskedDb[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & topMask;
  const separator = emLen - 2 * hLen - 2;
  for (let i = 0; i < separator; i++) if (db[i] !== 0) return false;
  if (db[separator] !== 0x01) return false;
  const salt = db.subarray(separator + 1);
  return timingSafeEqual(mPrimeHash(digest, salt, hash), h);
}
