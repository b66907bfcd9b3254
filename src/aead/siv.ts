/**
 * AES-SIV (RFC 5297) for deterministic field encryption, on @noble/ciphers' `aessiv` (node:crypto
 * has no SIV mode). Pure JS, so it runs in browsers too.
 *
 * Deterministic by design: the same key, plaintext and associated data always give the same
 * output, which is what makes equality lookups on encrypted fields possible, and also what they
 * leak (equal plaintexts are visible as equal ciphertexts). Bind the field's context (table,
 * column, record type) through the associated data so equal values in different places differ.
 *
 * @module
 */
import { aessiv } from '@noble/ciphers/aes.js';
import { DecryptionFailedError } from '../errors.js';
import { assertBytes } from '../internal/bytes.js';

/** Length of the synthetic IV that starts every sealed value (RFC 5297 §2.6). */
export const SIV_LENGTH = 16;
/**
 * Most associated-data components accepted: S2V is proven for at most 127 inputs and the
 * plaintext is one of them (RFC 5297 §7).
 */
export const SIV_MAX_ASSOCIATED_DATA = 126;

function assertSivKey(key: unknown): asserts key is Uint8Array {
  assertBytes(key, 'key');
  const n = key.length;
  if (n !== 64 && n !== 32 && n !== 48) {
    throw new RangeError(`key must be 32, 48 or 64 bytes (AES-SIV-128/192/256), got ${n}`);
  }
}

function assertAssociatedData(associatedData: readonly unknown[]): void {
  if (associatedData.length > SIV_MAX_ASSOCIATED_DATA) {
    throw new RangeError(
      `associatedData must have at most ${SIV_MAX_ASSOCIATED_DATA} components, got ${associatedData.length}`,
    );
  }
  for (let i = 0; i < associatedData.length; i++) assertBytes(associatedData[i], `associatedData[${i}]`);
}

/**
 * Encrypts `plaintext` deterministically with AES-SIV (RFC 5297 §2.6).
 *
 * Each associated-data argument is a separate S2V component, so `('ab')` and `('a', 'b')` are
 * different contexts (unlike concatenating them). Zero components is valid and differs from one
 * empty component.
 *
 * @param key - 64 bytes for AES-SIV-256 (the product's choice); 32 and 48 bytes (AES-SIV-128 and
 *   -192) are accepted too. The first half keys S2V (CMAC), the second half keys CTR.
 * @param plaintext - Data to encrypt (may be empty).
 * @param associatedData - Up to 126 authenticated, unencrypted components.
 * @returns A new array: the 16-byte synthetic IV followed by the ciphertext
 *   (`plaintext.length + 16` bytes), exactly RFC 5297's output.
 * @throws {TypeError} If an argument is not a Uint8Array (the message names it).
 * @throws {RangeError} If `key` has a wrong size or there are too many `associatedData` components.
 */
export function sivSeal(key: Uint8Array, plaintext: Uint8Array, ...associatedData: Uint8Array[]): Uint8Array {
  assertSivKey(key);
  assertBytes(plaintext, 'plaintext');
  assertAssociatedData(associatedData);
  return aessiv(key, ...associatedData).encrypt(plaintext);
}

/**
 * Decrypts and verifies the output of {@link sivSeal} (RFC 5297 §2.7).
 *
 * @param key - The key used to seal (32, 48 or 64 bytes).
 * @param sealed - Synthetic IV || ciphertext, as returned by {@link sivSeal}.
 * @param associatedData - Exactly the components used to seal, in the same order.
 * @returns The plaintext, only if the synthetic IV verifies.
 * @throws {TypeError} If an argument is not a Uint8Array (the message names it).
 * @throws {RangeError} If `key` has a wrong size or there are too many `associatedData` components.
 * @throws {DecryptionFailedError} If verification fails: wrong key, wrong or reordered
 *   associated data, tampered bytes, or `sealed` shorter than 16 bytes (it is untrusted input,
 *   so a truncation is reported like any other tampering). No plaintext is released.
 */
export function sivOpen(key: Uint8Array, sealed: Uint8Array, ...associatedData: Uint8Array[]): Uint8Array {
  assertSivKey(key);
  assertBytes(sealed, 'sealed');
  assertAssociatedData(associatedData);
  if (sealed.length < SIV_LENGTH) throw new DecryptionFailedError();
  const cipher = aessiv(key, ...associatedData);
  try {
    // noble zeroes the candidate plaintext before throwing on a mismatch.
    return cipher.decrypt(sealed);
  } catch (cause) {
    throw new DecryptionFailedError(undefined, { cause });
  }
}
