/**
 * Reading and replacing an envelope's wrapped-key section without touching any frame byte.
 * The re-wrap job (kv-envelope/rewrap) builds on these. docs/format.md §Re-wrap.
 */
import { AesGcm } from '../aead/gcm.js';
import { DecryptionFailedError } from '../errors.js';
import { assertBytes } from '../internal/bytes.js';
import type { WrappedKey } from '../keys/kek.js';
import { type EnvelopeHeader, ENVELOPE_V1, SECTION_MAC_LENGTH, encodeWrappedKeys, parseComplete, parseHeader } from './envelope.js';
import { hmacFor, keysV1, sectionMacMatches, sectionMacV2 } from './internal/key-schedule.js';
import { equalBytes } from '@noble/ciphers/utils.js';

/**
 * The wrapped DEKs an envelope carries (one per KEK it was encrypted under). No key is
 * contacted and nothing is decrypted (so nothing here is authenticated yet).
 *
 * @example
 * ```ts
 * import { readWrappedKeys } from 'kv-envelope';
 * for (const w of readWrappedKeys(envelope)) console.log(w.kekId, w.alg);
 * ```
 * @throws {EnvelopeMalformedError} when `envelope` is not a well-formed envelope header.
 */
export function readWrappedKeys(envelope: Uint8Array): WrappedKey[] {
  assertBytes(envelope, 'envelope');
  return parseComplete(() => parseHeader(envelope)).wrappedKeys.map((w) => ({ ...w, bytes: w.bytes.slice() }));
}

/** Options of {@link replaceWrappedKeys}. */
export interface ReplaceWrappedKeysOptions {
  /**
   * The envelope's DEK (32 bytes). Required for v2 envelopes: the old section MAC is checked
   * with it first, and the new section is authenticated with it. Optional for v1 (read-only
   * format): when given, the v1 key commitment is checked.
   */
  readonly dek?: Uint8Array;
}

/**
 * Returns a copy of `envelope` whose wrapped-key section is `wrappedKeys`; every frame byte is
 * identical. For a v2 envelope the section MAC is recomputed with `options.dek`, after checking
 * that the DEK opens the envelope (so a wrong DEK can never be written into it). A v1 envelope
 * stays v1 (docs/format.md §Re-wrap says why). The caller must wrap the *same* DEK in
 * `wrappedKeys`: a reader that unwraps another DEK from the section fails the key commitment,
 * never gets wrong plaintext.
 *
 * @example
 * ```ts
 * import { readWrappedKeys, replaceWrappedKeys } from 'kv-envelope';
 * const dek = await oldKek.unwrap(readWrappedKeys(envelope)[0]);
 * const rewrapped = replaceWrappedKeys(envelope, [await newKek.wrap(dek)], { dek });
 * ```
 * @throws {TypeError} when `wrappedKeys` is not an array, or `options.dek` is missing for a v2 envelope.
 * @throws {RangeError} when `options.dek` is not 32 bytes.
 * @throws {EnvelopeMalformedError} when `envelope` is not a well-formed envelope header.
 * @throws {DecryptionFailedError} when `options.dek` is not this envelope's DEK.
 * @throws {LimitExceededError} when `wrappedKeys` is empty or exceeds the format's bounds.
 */
export function replaceWrappedKeys(envelope: Uint8Array, wrappedKeys: readonly WrappedKey[], options: ReplaceWrappedKeysOptions = {}): Uint8Array {
  assertBytes(envelope, 'envelope');
  if (!Array.isArray(wrappedKeys)) throw new TypeError('wrappedKeys must be an array');
  const header = parseComplete(() => parseHeader(envelope));
  const { dek } = options;
  if (dek !== undefined) assertBytes(dek, 'options.dek', header.suite.dekLength);
  if (dek === undefined && header.version !== ENVELOPE_V1) {
    throw new TypeError('options.dek is required to re-wrap a v2 envelope (its wrapped-key section is authenticated with the DEK)');
  }
  if (dek !== undefined && !commitsTo(envelope, header, dek)) throw new DecryptionFailedError();
  return spliceSection(envelope, header, encodeWrappedKeys(wrappedKeys), dek);
}

/**
 * True when `dek` is the DEK `header` (parsed from `envelope`) commits to: v2 the section MAC,
 * v1 the HKDF commitment. Constant time in the compared bytes.
 * @internal used by the re-wrap engine.
 */
export function commitsTo(envelope: Uint8Array, header: EnvelopeHeader, dek: Uint8Array, aead?: AesGcm): boolean {
  if (header.version === ENVELOPE_V1) {
    const { commitment } = keysV1(aead ?? DEFAULT_AEAD, header.suite, dek, header.messageId);
    return commitment.length === header.commitment.length && equalBytes(commitment, header.commitment);
  }
  const section = envelope.subarray(header.wrappedSectionStart, header.wrappedSectionEnd);
  return sectionMacMatches(hmacFor(aead), header.suite, dek, section, header.commitment);
}

/**
 * `envelope` with `section` (an encoded wrapped-key section) in place of its own, in a fresh
 * buffer; for v2 the section MAC is recomputed with `dek`. Check {@link commitsTo} first.
 * @throws {TypeError} when `dek` is missing for a v2 envelope.
 * @internal used by the re-wrap engine.
 */
export function spliceSection(envelope: Uint8Array, header: EnvelopeHeader, section: Uint8Array, dek: Uint8Array | undefined, aead?: AesGcm): Uint8Array {
  const v2 = header.version !== ENVELOPE_V1;
  if (v2 && dek === undefined) throw new TypeError('a DEK is required to re-wrap a v2 envelope');
  const macLength = v2 ? SECTION_MAC_LENGTH : 0;
  const keep = v2 ? header.tailStart : header.wrappedSectionEnd;
  const tail = envelope.length - keep;
  // Every byte is written below: skip the zero-fill; own ArrayBuffer, never Node's shared pool.
  const b = Buffer.allocUnsafeSlow(header.wrappedSectionStart + section.length + macLength + tail);
  const out = new Uint8Array(b.buffer, b.byteOffset, b.length);
  out.set(envelope.subarray(0, header.wrappedSectionStart), 0);
  out.set(section, header.wrappedSectionStart);
  if (v2) {
    const mac = sectionMacV2(hmacFor(aead), header.suite, dek!, section);
    out.set(mac, header.wrappedSectionStart + section.length);
  }
  out.set(envelope.subarray(keep), header.wrappedSectionStart + section.length + macLength);
  return out;
}

/** Stateless; the v1 commitment's HKDF when the caller brings no AesGcm. */
const DEFAULT_AEAD = new AesGcm();
