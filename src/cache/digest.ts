/**
 * The cache key of a wrapped DEK: a digest of everything that identifies it.
 *
 * Two wrapped keys get the same digest only if their `kekId`, `alg` and `bytes` are all equal
 * (barring a SHA-256 collision). The encoding is unambiguous: `kekId` and `alg` are each
 * preceded by their UTF-8 byte length as a big-endian u16, and `bytes` comes last, so no two
 * different triples serialize to the same input (`('ab','c')` and `('a','bc')` differ).
 * Hashing keeps cache keys short and fixed-size however large the wrapped key (RSA: 256–512
 * bytes); the digest of a wrapped key reveals nothing the wrapped key itself does not.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { WrappedKey } from '../keys/kek.js';
import { assertBytes, assertString } from '../internal/bytes.js';

const MAX_FIELD_BYTES = 0xffff;

/**
 * `base64url(SHA-256(u16be len(kekId) | kekId | u16be len(alg) | alg | bytes))`, with lengths
 * and strings in UTF-8: the key {@link UnwrappedKeyCache} entries are stored under.
 *
 * @throws {TypeError} when `w` is not a wrapped key (kekId/alg strings, bytes a Uint8Array).
 * @throws {RangeError} when `kekId` or `alg` is empty or over 65,535 UTF-8 bytes.
 * @example
 * ```ts
 * import { wrappedKeyDigest } from './digest.js';
 * const digest = wrappedKeyDigest({ kekId: 'local/aes/1', alg: 'A256KW', bytes: wrapped });
 * const dek = await cache.getOrLoad(digest, () => kek.unwrap(w));
 * ```
 */
export function wrappedKeyDigest(w: WrappedKey): string {
  if (typeof w !== 'object' || w === null) throw new TypeError('wrapped key must be an object');
  assertString(w.kekId, 'wrapped key kekId', MAX_FIELD_BYTES);
  assertString(w.alg, 'wrapped key alg', MAX_FIELD_BYTES);
  assertBytes(w.bytes, 'wrapped key bytes');
  const hash = createHash('sha256');
  for (const [name, text] of [
    ['kekId', w.kekId],
    ['alg', w.alg],
  ] as const) {
    const utf8 = Buffer.from(text, 'utf8');
    if (utf8.length > MAX_FIELD_BYTES) throw new RangeError(`wrapped key ${name} is over ${MAX_FIELD_BYTES} UTF-8 bytes`);
    const length = Buffer.allocUnsafe(2);
    length.writeUInt16BE(utf8.length, 0);
    hash.update(length).update(utf8);
  }
  return hash.update(w.bytes).digest('base64url');
}
