/**
 * Encryption context: a map of UTF-8 strings, authenticated with the message. Encoded
 * canonically (pairs sorted by key bytes, no duplicates) so one context has exactly one
 * encoding and the parser can reject anything else. docs/format.md §Context.
 */
import { EnvelopeMalformedError } from '../errors.js';
import { fromUtf8, utf8 } from '../internal/bytes.js';
import { escapeUntrusted } from '../internal/escape.js';
import { Limits } from './limits.js';
import { ByteReader, NeedMoreBytes, writeU16 } from './internal/reader.js';

/** An encryption context: string keys to string values. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** Reserved key prefix: the SDK may add its own entries under it in later versions. */
const RESERVED_PREFIX = 'kv-envelope:';

/** With the `u` flag, only unpaired surrogates are code points of category Cs. */

/**
 * Validates a caller's context and returns its canonical encoding:
 * `u16 count ‖ (u16 keyLen ‖ key ‖ u16 valueLen ‖ value)*`, sorted by key bytes.
 * @throws {TypeError} when `context` is not a plain object of strings.
 * @throws {RangeError} when it is too large or uses the reserved prefix.
 */
export function encodeContext(context: EncryptionContext | undefined, name = 'context'): Uint8Array {
  // A fresh array: callers may keep it (the encrypt stream holds it for the stream's lifetime).
  if (context === undefined) return new Uint8Array(2);
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    throw new TypeError(`${name} must be an object of strings`);
  }
  const pairs: [Uint8Array, Uint8Array][] = [];
  for (const [k, v] of Object.entries(context)) {
    if (typeof v !== 'string') throw new TypeError(`${name}.${escapeUntrusted(k)} must be a string`);
    if (k.length === 0) throw new RangeError(`${name} keys must not be empty`);
    if (k.startsWith(RESERVED_PREFIX)) throw new RangeError(`${name} key ${escapeUntrusted(k)} uses the reserved prefix ${RESERVED_PREFIX}`);
    // UTF-8 encoding turns a lone surrogate into U+FFFD: two keys could collide (an envelope that
    // can never be parsed) and values would not round trip. Refuse them.
    if (!k.isWellFormed() || !v.isWellFormed()) throw new RangeError(`${name}.${escapeUntrusted(k)} is not well-formed Unicode (lone surrogate)`);
    pairs.push([utf8(k), utf8(v)]);
  }
  if (pairs.length > Limits.MAX_CONTEXT_PAIRS) {
    throw new RangeError(`${name} has ${pairs.length} entries, more than ${Limits.MAX_CONTEXT_PAIRS}`);
  }
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  let size = 2;
  for (const [k, v] of pairs) size += 4 + k.length + v.length;
  if (size > Limits.MAX_CONTEXT_BYTES) {
    throw new RangeError(`${name} encodes to ${size} bytes, more than ${Limits.MAX_CONTEXT_BYTES}`);
  }
  const out = new Uint8Array(size);
  let off = writeU16(out, 0, pairs.length);
  for (const [k, v] of pairs) {
    off = writeU16(out, off, k.length);
    out.set(k, off);
    off = writeU16(out, off + k.length, v.length);
    out.set(v, off);
    off += v.length;
  }
  return out;
}

/**
 * Parses a canonical context encoding occupying all of `bytes`.
 * @throws {EnvelopeMalformedError} on any non-canonical or out-of-bounds encoding.
 */
export function parseContext(bytes: Uint8Array): Record<string, string> {
  if (bytes.length === 2 && bytes[0] === 0 && bytes[1] === 0) return {};
  try {
    return parseCanonical(new ByteReader(bytes));
  } catch (err) {
    if (err instanceof NeedMoreBytes) throw new EnvelopeMalformedError('context is truncated');
    throw err;
  }
}

function parseCanonical(r: ByteReader): Record<string, string> {
  const count = r.u16();
  if (count > Limits.MAX_CONTEXT_PAIRS) throw new EnvelopeMalformedError('context has too many entries');
  const out: Record<string, string> = Object.create(null);
  let prev: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const k = r.bytesView(r.u16());
    const v = r.bytesView(r.u16());
    if (k.length === 0 || (prev !== undefined && Buffer.compare(prev, k) >= 0)) {
      throw new EnvelopeMalformedError('context is not in canonical order');
    }
    prev = k;
    try {
      out[fromUtf8(k)] = fromUtf8(v);
    } catch {
      throw new EnvelopeMalformedError('context is not valid UTF-8');
    }
  }
  if (r.remaining !== 0) throw new EnvelopeMalformedError('context has trailing bytes');
  return { ...out };
}
