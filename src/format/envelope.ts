/**
 * The envelope header: encode and parse. docs/format.md §Envelope gives the byte layout:
 *
 * ```
 * u8 version (0xE1) ‖ u8 suite ‖ 32 messageId
 * ‖ u8 count ‖ count × (u16 len ‖ kekId ‖ u8 len ‖ alg ‖ u16 len ‖ wrappedDek)   ← wrapped-key section
 * ‖ u16 len ‖ context ‖ u32 frameSize ‖ 32 commitment ‖ 16 headerTag ‖ frames…
 * ```
 *
 * The header tag authenticates everything except the wrapped-key section (plus the encoded
 * required context, which is not stored), so re-wrapping replaces that section and leaves every
 * other byte identical. A swapped-in wrapped key for another DEK fails the key commitment.
 */
import { EnvelopeMalformedError, LimitExceededError } from '../errors.js';
import { concatBytes, looksLikeBase64, utf8 } from '../internal/bytes.js';
import type { WrappedKey } from '../keys/kek.js';
import { Limits } from './limits.js';
import { ByteReader, NeedMoreBytes, writeU16, writeU32 } from './internal/reader.js';
import { type EnvelopeSuite, suiteById } from './suites.js';

export const ENVELOPE_VERSION = 0xe1;
export const MESSAGE_ID_LENGTH = 32;
/** version + suite + messageId: the authenticated bytes before the wrapped-key section. */
export const PREFIX_LENGTH = 2 + MESSAGE_ID_LENGTH;

/** A parsed header; byte fields are views into the input (no copies). */
export interface EnvelopeHeader {
  readonly suite: EnvelopeSuite;
  readonly messageId: Uint8Array;
  readonly wrappedKeys: readonly WrappedKey[];
  /** The stored context in its canonical encoding. */
  readonly contextBytes: Uint8Array;
  readonly frameSize: number;
  readonly commitment: Uint8Array;
  readonly headerTag: Uint8Array;
  /** Offset of the first wrapped key's count byte and of the byte after the section. */
  readonly wrappedSectionStart: number;
  readonly wrappedSectionEnd: number;
  /** Offset of the header tag; the header ends 16 bytes later, where frames begin. */
  readonly tagOffset: number;
  readonly headerLength: number;
}

/**
 * Encodes the wrapped-key section.
 * @throws {LimitExceededError} when a KEK produced ids or bytes beyond the format's bounds.
 */
export function encodeWrappedKeys(wrappedKeys: readonly WrappedKey[]): Uint8Array {
  if (wrappedKeys.length === 0 || wrappedKeys.length > Limits.MAX_WRAPPED_KEYS) {
    throw new LimitExceededError(`an envelope holds 1 to ${Limits.MAX_WRAPPED_KEYS} wrapped keys, got ${wrappedKeys.length}`);
  }
  const parts: Uint8Array[] = [Uint8Array.of(wrappedKeys.length)];
  for (const w of wrappedKeys) {
    const id = utf8(w.kekId);
    const alg = utf8(w.alg);
    checkBound(id.length, Limits.MAX_KEK_ID_BYTES, 'kekId');
    checkBound(alg.length, Limits.MAX_ALG_BYTES, 'alg');
    checkBound(w.bytes.length, Limits.MAX_WRAPPED_KEY_BYTES, 'wrapped key');
    const entry = new Uint8Array(5 + id.length + alg.length + w.bytes.length);
    let off = writeU16(entry, 0, id.length);
    entry.set(id, off);
    off += id.length;
    entry[off++] = alg.length;
    entry.set(alg, off);
    off = writeU16(entry, off + alg.length, w.bytes.length);
    entry.set(w.bytes, off);
    parts.push(entry);
  }
  return concatBytes(...parts);
}

function checkBound(n: number, max: number, what: string): void {
  if (n === 0 || n > max) throw new LimitExceededError(`${what} must be 1 to ${max} bytes, got ${n}`);
}

/** Inputs of {@link encodeHeader}. */
export interface HeaderFields {
  readonly suite: EnvelopeSuite;
  readonly messageId: Uint8Array;
  readonly wrappedSection: Uint8Array;
  readonly contextBytes: Uint8Array;
  readonly frameSize: number;
  readonly commitment: Uint8Array;
}

/**
 * Encodes a header with a zeroed tag; returns the bytes and the header-tag AAD parts. The
 * caller computes the tag over `aad ‖ requiredContext` and writes it at `tagOffset`.
 */
export function encodeHeader(f: HeaderFields): { bytes: Uint8Array; tagOffset: number } {
  const tail = new Uint8Array(2 + f.contextBytes.length + 4 + f.commitment.length + f.suite.tagLength);
  let off = writeU16(tail, 0, f.contextBytes.length);
  tail.set(f.contextBytes, off);
  off = writeU32(tail, off + f.contextBytes.length, f.frameSize);
  tail.set(f.commitment, off);
  const bytes = concatBytes(Uint8Array.of(ENVELOPE_VERSION, f.suite.id), f.messageId, f.wrappedSection, tail);
  return { bytes, tagOffset: bytes.length - f.suite.tagLength };
}

/**
 * The bytes the header tag authenticates: prefix ‖ post-section header (up to the tag) ‖ the
 * encoded required context.
 */
export function headerAad(bytes: Uint8Array, h: Pick<EnvelopeHeader, 'wrappedSectionEnd' | 'tagOffset'>, requiredContext: Uint8Array): Uint8Array {
  return concatBytes(bytes.subarray(0, PREFIX_LENGTH), bytes.subarray(h.wrappedSectionEnd, h.tagOffset), requiredContext);
}

/**
 * Parses the header at the start of `bytes`.
 * @throws {NeedMoreBytes} when `bytes` ends inside the header (streaming callers wait for more).
 * @throws {EnvelopeMalformedError} on anything out of bounds or unknown.
 */
export function parseHeader(bytes: Uint8Array): EnvelopeHeader {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== ENVELOPE_VERSION) throw notAnEnvelope(bytes, version);
  const suite = suiteById(r.u8());
  if (suite === undefined) throw new EnvelopeMalformedError(`unknown envelope suite 0x${bytes[1]!.toString(16).padStart(2, '0')}`);
  const messageId = r.bytesView(MESSAGE_ID_LENGTH);
  const wrappedSectionStart = r.offset;
  const wrappedKeys = parseWrappedKeys(r);
  const wrappedSectionEnd = r.offset;
  const contextBytes = r.bounded(r.u16(), Limits.MAX_CONTEXT_BYTES, 'context');
  const frameSize = r.u32();
  if (frameSize < Limits.MIN_FRAME_SIZE || frameSize > Limits.MAX_FRAME_SIZE) {
    throw new EnvelopeMalformedError(`frame size ${frameSize} is outside ${Limits.MIN_FRAME_SIZE}..${Limits.MAX_FRAME_SIZE}`);
  }
  const commitment = r.bytesView(suite.commitmentLength);
  const tagOffset = r.offset;
  const headerTag = r.bytesView(suite.tagLength);
  return {
    suite, messageId, wrappedKeys, contextBytes, frameSize, commitment, headerTag,
    wrappedSectionStart, wrappedSectionEnd, tagOffset, headerLength: r.offset,
  };
}

/** Reads a wrapped-key section at the reader's position. */
export function parseWrappedKeys(r: ByteReader): WrappedKey[] {
  const count = r.u8();
  if (count === 0 || count > Limits.MAX_WRAPPED_KEYS) {
    throw new EnvelopeMalformedError(`wrapped key count ${count} is outside 1..${Limits.MAX_WRAPPED_KEYS}`);
  }
  const out: WrappedKey[] = [];
  for (let i = 0; i < count; i++) {
    const kekId = text(r.bounded(r.u16(), Limits.MAX_KEK_ID_BYTES, 'kekId'), 'kekId');
    const alg = text(r.bounded(r.u8(), Limits.MAX_ALG_BYTES, 'alg'), 'alg');
    const bytes = r.bounded(r.u16(), Limits.MAX_WRAPPED_KEY_BYTES, 'wrapped key');
    if (kekId.length === 0 || alg.length === 0 || bytes.length === 0) throw new EnvelopeMalformedError('empty wrapped key field');
    out.push(Object.freeze({ kekId, alg, bytes }));
  }
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function text(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new EnvelopeMalformedError(`${what} is not valid UTF-8`);
  }
}

function notAnEnvelope(bytes: Uint8Array, version: number): EnvelopeMalformedError {
  if (looksLikeBase64(bytes)) {
    return new EnvelopeMalformedError('input looks like base64 text, not envelope bytes: decode it first');
  }
  return new EnvelopeMalformedError(`not a kv-envelope envelope (version byte 0x${version.toString(16).padStart(2, '0')}, expected 0xe1)`);
}

/** Runs a one-shot parse: a truncated input is malformed, not "wait for more". */
export function parseComplete<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof NeedMoreBytes) throw new EnvelopeMalformedError('envelope is truncated');
    throw err;
  }
}
