/**
 * Field ciphertext layouts (docs/format.md §Field). Compact on purpose: the DEK lives in a key
 * store record, the ciphertext carries only its 8-byte keyRef.
 *
 * ```
 * randomized    0xF1 ‖ keyRef(8) ‖ nonce(12) ‖ ciphertext ‖ tag(16)    37 bytes overhead
 * deterministic 0xF2 ‖ keyRef(8) ‖ siv(16)   ‖ ciphertext              25 bytes overhead
 * ```
 * The first 9 bytes are authenticated (GCM AAD prefix / first SIV AD component) together with
 * the caller's AAD, which is not stored.
 */
import { EnvelopeMalformedError } from '../errors.js';
import { looksLikeBase64 } from '../internal/bytes.js';

export const FIELD_GCM_VERSION = 0xf1;
export const FIELD_SIV_VERSION = 0xf2;
export const KEY_REF_LENGTH = 8;
export const FIELD_PREFIX_LENGTH = 1 + KEY_REF_LENGTH;
export const FIELD_NONCE_LENGTH = 12;
export const FIELD_TAG_LENGTH = 16;
export const SIV_LENGTH = 16;
export const FIELD_GCM_OVERHEAD = FIELD_PREFIX_LENGTH + FIELD_NONCE_LENGTH + FIELD_TAG_LENGTH;
export const FIELD_SIV_OVERHEAD = FIELD_PREFIX_LENGTH + SIV_LENGTH;

/** The kind of a field ciphertext, from its first byte. */
export type FieldKind = 'gcm' | 'siv';

/**
 * Checks the version byte and minimum length; returns the kind.
 * @throws {EnvelopeMalformedError} when the bytes are not a field ciphertext (with a hint when
 *   they look like base64 text that was never decoded).
 */
export function fieldKind(ciphertext: Uint8Array): FieldKind {
  const version = ciphertext[0];
  if (version === FIELD_GCM_VERSION) {
    if (ciphertext.length < FIELD_GCM_OVERHEAD) throw new EnvelopeMalformedError('field ciphertext is truncated');
    return 'gcm';
  }
  if (version === FIELD_SIV_VERSION) {
    if (ciphertext.length < FIELD_SIV_OVERHEAD) throw new EnvelopeMalformedError('field ciphertext is truncated');
    return 'siv';
  }
  if (looksLikeBase64(ciphertext)) {
    throw new EnvelopeMalformedError('input looks like base64 text, not field ciphertext bytes: use decryptText or decode it first');
  }
  if (version === undefined) throw new EnvelopeMalformedError('field ciphertext is empty');
  throw new EnvelopeMalformedError(`not a kv-envelope field ciphertext (version byte 0x${version.toString(16).padStart(2, '0')})`);
}

/** The keyRef of a field ciphertext as 16 lowercase hex chars (the key store's key). */
export function keyRefHex(ciphertext: Uint8Array): string {
  return Buffer.from(ciphertext.buffer, ciphertext.byteOffset + 1, KEY_REF_LENGTH).toString('hex');
}
