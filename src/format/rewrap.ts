/**
 * Reading and replacing an envelope's wrapped-key section without touching any other byte.
 * The re-wrap job (kv-envelope/rewrap) builds on these.
 */
import type { WrappedKey } from '../keys/kek.js';
import { concatBytes } from '../internal/bytes.js';
import { assertBytes } from '../internal/bytes.js';
import { encodeWrappedKeys, parseComplete, parseHeader } from './envelope.js';

/**
 * The wrapped DEKs an envelope carries (one per KEK it was encrypted under). No key is
 * contacted and nothing is decrypted.
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

/**
 * Returns a copy of `envelope` whose wrapped-key section is `wrappedKeys`; every other byte
 * (header, context, commitment, frames) is identical. The caller must wrap the *same* DEK: a
 * section holding another DEK makes decryption fail the key commitment, never yield wrong
 * plaintext.
 *
 * @example
 * ```ts
 * import { replaceWrappedKeys } from 'kv-envelope';
 * const dek = await oldKek.unwrap(readWrappedKeys(envelope)[0]);
 * const rewrapped = replaceWrappedKeys(envelope, [await newKek.wrap(dek)]);
 * ```
 * @throws {EnvelopeMalformedError} when `envelope` is not a well-formed envelope header.
 * @throws {LimitExceededError} when `wrappedKeys` is empty or exceeds the format's bounds.
 */
export function replaceWrappedKeys(envelope: Uint8Array, wrappedKeys: readonly WrappedKey[]): Uint8Array {
  assertBytes(envelope, 'envelope');
  if (!Array.isArray(wrappedKeys)) throw new TypeError('wrappedKeys must be an array');
  const h = parseComplete(() => parseHeader(envelope));
  return concatBytes(
    envelope.subarray(0, h.wrappedSectionStart),
    encodeWrappedKeys(wrappedKeys),
    envelope.subarray(h.wrappedSectionEnd),
  );
}
