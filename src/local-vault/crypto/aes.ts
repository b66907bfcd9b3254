/**
 * AES operations of `oct-HSM` keys through node:crypto: key wrap (RFC 3394), GCM with a
 * service-generated 96-bit IV, and CBC with or without PKCS#7 padding.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import { badParameter } from '../http/errors.js';

// RFC 3394 §2.2.3.1 default initial value.
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

/** Output of an AES encryption: ciphertext plus the IV/tag/AAD the caller needs to decrypt. */
export interface AesOutput {
  value: Buffer;
  iv?: Buffer;
  tag?: Buffer;
  aad?: Buffer;
}

/** Inputs of an AES operation besides the key. */
export interface AesInput {
  value: Uint8Array;
  iv?: Uint8Array | undefined;
  tag?: Uint8Array | undefined;
  aad?: Uint8Array | undefined;
}

/** AES-KW wrap; the key to wrap is at least 16 bytes and a multiple of 8. */
export function aesKeyWrap(key: Uint8Array, input: Uint8Array): Buffer {
  if (input.length < 16 || input.length % 8 !== 0) {
    throw badParameter('The value to wrap must be at least 16 bytes and a multiple of 8 bytes.');
  }
  const cipher = createCipheriv(`id-aes${key.length * 8}-wrap`, key, KW_IV);
  return Buffer.concat([cipher.update(input), cipher.final()]);
}

/** AES-KW unwrap; an integrity failure is a 400 like any undecryptable value. */
export function aesKeyUnwrap(key: Uint8Array, input: Uint8Array): Buffer {
  try {
    if (input.length < 24 || input.length % 8 !== 0) throw new RangeError('length');
    const decipher = createDecipheriv(`id-aes${key.length * 8}-wrap`, key, KW_IV);
    return Buffer.concat([decipher.update(input), decipher.final()]);
  } catch {
    throw badParameter('The value could not be unwrapped with this key and algorithm.');
  }
}

function gcmName(key: Uint8Array): CipherGCMTypes {
  return `aes-${key.length * 8}-gcm` as CipherGCMTypes;
}

/** AES-GCM encryption; the IV is always generated here, as the service does. */
export function aesGcmEncrypt(key: Uint8Array, input: AesInput): AesOutput {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv(gcmName(key), key, iv, { authTagLength: GCM_TAG_BYTES });
  if (input.aad) cipher.setAAD(input.aad);
  const value = Buffer.concat([cipher.update(input.value), cipher.final()]);
  const out: AesOutput = { value, iv, tag: cipher.getAuthTag() };
  if (input.aad) out.aad = Buffer.from(input.aad);
  return out;
}

/** AES-GCM decryption; needs `iv` and `tag`, and `aad` when one was used. */
export function aesGcmDecrypt(key: Uint8Array, input: AesInput): AesOutput {
  if (!input.iv || !input.tag) throw badParameter("AES-GCM decryption requires 'iv' and 'tag'.");
  if (input.iv.length !== GCM_IV_BYTES || input.tag.length !== GCM_TAG_BYTES) {
    throw badParameter(`AES-GCM requires a ${GCM_IV_BYTES}-byte 'iv' and a ${GCM_TAG_BYTES}-byte 'tag'.`);
  }
  try {
    const decipher = createDecipheriv(gcmName(key), key, input.iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAuthTag(input.tag);
    if (input.aad) decipher.setAAD(input.aad);
    return { value: Buffer.concat([decipher.update(input.value), decipher.final()]) };
  } catch {
    throw badParameter('The value could not be decrypted with this key and algorithm.');
  }
}

/** AES-CBC in either direction; `padded` selects PKCS#7 (`A*CBCPAD`). The caller supplies the IV. */
export function aesCbc(key: Uint8Array, input: AesInput, encrypt: boolean, padded: boolean): AesOutput {
  if (!input.iv || input.iv.length !== 16) throw badParameter("AES-CBC requires a 16-byte 'iv'.");
  if (!padded && input.value.length % 16 !== 0) {
    throw badParameter('AES-CBC without padding requires a multiple of 16 bytes.');
  }
  try {
    const name = `aes-${key.length * 8}-cbc`;
    const cipher = encrypt ? createCipheriv(name, key, input.iv) : createDecipheriv(name, key, input.iv);
    cipher.setAutoPadding(padded);
    const value = Buffer.concat([cipher.update(input.value), cipher.final()]);
    return encrypt ? { value, iv: Buffer.from(input.iv) } : { value };
  } catch {
    throw badParameter('The value could not be decrypted with this key and algorithm.');
  }
}
