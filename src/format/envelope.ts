/**
 * The envelope header: encode (v2) and parse (v1 and v2). docs/format.md §Envelope v2 gives the
 * byte layout:
 *
 * ```
 * v2: u8 version (0xE2) ‖ u8 suite (0x02) ‖ 32 messageId
 *     ‖ u8 count ‖ count × (u16 len ‖ kekId ‖ u8 len ‖ alg ‖ u16 len ‖ wrappedDek)   ← wrapped-key section
 *     ‖ 32 sectionMac ‖ u16 len ‖ context ‖ u32 frameSize ‖ frames…
 * v1: u8 version (0xE1) ‖ u8 suite (0x01) ‖ 32 messageId ‖ wrapped-key section
 *     ‖ u16 len ‖ context ‖ u32 frameSize ‖ 32 commitment ‖ 16 headerTag ‖ frames…   (read-only)
 * ```
 *
 * v2: the section MAC (a key commitment under the DEK) covers prefix ‖ section; the content key
 * is derived over prefix ‖ everything after the MAC ‖ the required context, so every header byte
 * is authenticated and re-wrap (which holds the DEK) rewrites only the section and its MAC.
 */
import { EnvelopeMalformedError } from '../errors.js';
import { looksLikeBase64 } from '../internal/bytes.js';
import type { WrappedKey } from '../keys/kek.js';
import { Limits } from './limits.js';
import { ByteReader, NeedMoreBytes, writeU16, writeU32 } from './internal/reader.js';
import { type WrappedKeysMemo, parseWrappedKeys } from './internal/wrapped-keys.js';
import { ENVELOPE_V1, ENVELOPE_V2, type EnvelopeSuite, type EnvelopeVersion, suiteById } from './suites.js';

export { WrappedKeysMemo, encodeWrappedKeys, parseWrappedKeys } from './internal/wrapped-keys.js';
export { ENVELOPE_V1, ENVELOPE_V2 } from './suites.js';

/** The version new envelopes are written with. */
export const ENVELOPE_VERSION = ENVELOPE_V2;
export const MESSAGE_ID_LENGTH = 32;
/** version + suite + messageId: the bytes before the wrapped-key section. */
export const PREFIX_LENGTH = 2 + MESSAGE_ID_LENGTH;
/** v2 section MAC (and key commitment) length. */
export const SECTION_MAC_LENGTH = 32;

/** A parsed header; byte fields are views into the input (no copies). */
export interface EnvelopeHeader {
  readonly version: EnvelopeVersion;
  readonly suite: EnvelopeSuite;
  readonly messageId: Uint8Array;
  readonly wrappedKeys: readonly WrappedKey[];
  /** The stored context in its canonical encoding. */
  readonly contextBytes: Uint8Array;
  readonly frameSize: number;
  /** v1: the HKDF commitment; v2: the section MAC (which is the key commitment). */
  readonly commitment: Uint8Array;
  /** v1: the 16-byte header tag; v2: empty (the header is bound into the content key). */
  readonly headerTag: Uint8Array;
  /** Offset of the wrapped-key section's count byte and of the byte after the section. */
  readonly wrappedSectionStart: number;
  readonly wrappedSectionEnd: number;
  /**
   * The authenticated bytes after the prefix: v2 `[tailStart, headerLength)` (after the section
   * MAC); v1 `[tailStart, tagOffset)` (after the section, up to the header tag).
   */
  readonly tailStart: number;
  readonly tagOffset: number;
  /** Where frames begin. */
  readonly headerLength: number;
}

const NO_TAG = new Uint8Array(0);

/** Total v2 header length for a section and a stored context of these sizes. */
export function headerLengthV2(sectionLength: number, contextLength: number): number {
  return PREFIX_LENGTH + sectionLength + SECTION_MAC_LENGTH + 2 + contextLength + 4;
}

/** Inputs of {@link writeHeaderV2}. */
export interface HeaderFields {
  readonly suite: EnvelopeSuite;
  readonly messageId: Uint8Array;
  readonly wrappedSection: Uint8Array;
  readonly contextBytes: Uint8Array;
  readonly frameSize: number;
}

/**
 * Writes a v2 header at the start of `out` with a zeroed section MAC (the caller computes it,
 * docs/format.md §Keys v2). Returns the offsets the key schedule needs.
 */
export function writeHeaderV2(out: Uint8Array, f: HeaderFields): { macOffset: number; tailStart: number; headerLength: number } {
  out[0] = ENVELOPE_V2;
  out[1] = f.suite.id;
  out.set(f.messageId, 2);
  out.set(f.wrappedSection, PREFIX_LENGTH);
  const macOffset = PREFIX_LENGTH + f.wrappedSection.length;
  out.fill(0, macOffset, macOffset + SECTION_MAC_LENGTH);
  const tailStart = macOffset + SECTION_MAC_LENGTH;
  let off = writeU16(out, tailStart, f.contextBytes.length);
  out.set(f.contextBytes, off);
  off = writeU32(out, off + f.contextBytes.length, f.frameSize);
  return { macOffset, tailStart, headerLength: off };
}

/**
 * Parses the header at the start of `bytes` (v2, or v1 read-only).
 * @param memo - a client's memo of the last wrapped-key section it parsed (optional).
 * @throws {NeedMoreBytes} when `bytes` ends inside the header (streaming callers wait for more).
 * @throws {EnvelopeMalformedError} on anything out of bounds or unknown.
 */
export function parseHeader(bytes: Uint8Array, memo?: WrappedKeysMemo): EnvelopeHeader {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== ENVELOPE_V2 && version !== ENVELOPE_V1) throw notAnEnvelope(bytes, version);
  const suite = suiteById(r.u8(), version);
  if (suite === undefined) throw new EnvelopeMalformedError(`unknown envelope suite 0x${hexByte(bytes[1]!)} for version 0x${hexByte(version)}`);
  const messageId = r.bytesView(MESSAGE_ID_LENGTH);
  const wrappedSectionStart = r.offset;
  const wrappedKeys = memo === undefined ? parseWrappedKeys(r) : memo.parse(r);
  const wrappedSectionEnd = r.offset;
  if (version === ENVELOPE_V2) {
    const commitment = r.bytesView(SECTION_MAC_LENGTH);
    const tailStart = r.offset;
    const { contextBytes, frameSize } = readTail(r);
    return {
      version, suite, messageId, wrappedKeys, contextBytes, frameSize, commitment, headerTag: NO_TAG,
      wrappedSectionStart, wrappedSectionEnd, tailStart, tagOffset: r.offset, headerLength: r.offset,
    };
  }
  const { contextBytes, frameSize } = readTail(r);
  const commitment = r.bytesView(suite.commitmentLength);
  const tagOffset = r.offset;
  const headerTag = r.bytesView(suite.headerTagLength);
  return {
    version, suite, messageId, wrappedKeys, contextBytes, frameSize, commitment, headerTag,
    wrappedSectionStart, wrappedSectionEnd, tailStart: wrappedSectionEnd, tagOffset, headerLength: r.offset,
  };
}

function readTail(r: ByteReader): { contextBytes: Uint8Array; frameSize: number } {
  const contextBytes = r.bounded(r.u16(), Limits.MAX_CONTEXT_BYTES, 'context');
  const frameSize = r.u32();
  checkFrameSize(frameSize);
  return { contextBytes, frameSize };
}

/** @throws {EnvelopeMalformedError} when a stored frame size is outside the format's bounds. */
export function checkFrameSize(frameSize: number): void {
  if (frameSize < Limits.MIN_FRAME_SIZE || frameSize > Limits.MAX_FRAME_SIZE) {
    throw new EnvelopeMalformedError(`frame size ${frameSize} is outside ${Limits.MIN_FRAME_SIZE}..${Limits.MAX_FRAME_SIZE}`);
  }
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** The error for a first byte that is no envelope version (with a hint when it looks like base64). */
export function notAnEnvelope(bytes: Uint8Array, version: number): EnvelopeMalformedError {
  if (looksLikeBase64(bytes)) {
    return new EnvelopeMalformedError('input looks like base64 text, not envelope bytes: decode it first');
  }
  return new EnvelopeMalformedError(`not a kv-envelope envelope (version byte 0x${hexByte(version)}, expected 0xe2 or 0xe1)`);
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
