/**
 * Per-message cryptography shared by one-shot and streaming envelopes: the v2 header and its
 * key schedule, the v1 header check (read-only), and frame sealing/opening. docs/format.md §Keys.
 */
import { equalBytes } from '@noble/ciphers/utils.js';
import type { AesGcm } from '../aead/gcm.js';
import { DecryptionFailedError, EnvelopeMalformedError, LimitExceededError } from '../errors.js';
import { type EnvelopeHeader, ENVELOPE_V1, PREFIX_LENGTH, SECTION_MAC_LENGTH, headerLengthV2, writeHeaderV2 } from '../format/envelope.js';
import { FIRST_FRAME_SEQUENCE, FRAME_HEADER_LENGTH, HEADER_SEQUENCE, frameHeader, readFrameHeader, sequenceNonce } from '../format/frames.js';
import { type SectionMacs, contentKeyV2, hmacFor, keysV1 } from '../format/internal/key-schedule.js';
import { writeU32 } from '../format/internal/reader.js';
import { Limits } from '../format/limits.js';
import type { EnvelopeSuite } from '../format/suites.js';

const EMPTY = new Uint8Array(0);

/** Everything one v2 message needs besides the plaintext. */
export interface SealParams {
  readonly suite: EnvelopeSuite;
  /** The DEK; used synchronously by the seal call only. */
  readonly dek: Uint8Array;
  readonly messageId: Uint8Array;
  readonly wrappedSection: Uint8Array;
  readonly contextBytes: Uint8Array;
  readonly requiredContextBytes: Uint8Array;
  readonly frameSize: number;
}

/** Bytes of the v2 header these params produce. */
export function headerLength(p: SealParams): number {
  return headerLengthV2(p.wrappedSection.length, p.contextBytes.length);
}

/**
 * Writes the v2 header into `out` at 0 (section MAC included) and returns the content key.
 * The header bytes are hashed where they lie: no concatenation.
 */
export function writeHeader(aead: AesGcm, macs: SectionMacs, p: SealParams, out: Uint8Array): Uint8Array {
  const { macOffset, tailStart, headerLength: end } = writeHeaderV2(out, p);
  out.set(macs.compute(p.suite, p.dek, p.wrappedSection), macOffset);
  return contentKeyV2(hmacFor(aead), p.suite, p.dek, out.subarray(0, PREFIX_LENGTH), out.subarray(tailStart, end), p.requiredContextBytes);
}

/** The v2 header as its own buffer, and the content key (for streams). */
export function buildHeader(aead: AesGcm, macs: SectionMacs, p: SealParams): { header: Uint8Array; contentKey: Uint8Array } {
  const header = new Uint8Array(headerLength(p));
  return { header, contentKey: writeHeader(aead, macs, p, header) };
}

/**
 * Checks the key commitment (constant time) and returns the content key. Runs before any frame
 * is opened, so no plaintext exists until it passes.
 * - v2: the section MAC under the DEK (commitment and section integrity in one); the rest of the
 *   header and the required context are inputs of the content key, so the first frame's tag
 *   fails when any of them differs.
 * - v1 (read-only): the HKDF commitment, then the header tag.
 * @throws {DecryptionFailedError} on any mismatch.
 */
export function openHeader(
  aead: AesGcm, macs: SectionMacs, header: EnvelopeHeader, headerBytes: Uint8Array, dek: Uint8Array, requiredContextBytes: Uint8Array,
): Uint8Array {
  if (header.version === ENVELOPE_V1) return openHeaderV1(aead, header, headerBytes, dek, requiredContextBytes);
  // v2 lays the section MAC right after the section: both checked in one compare.
  const sealedSection = headerBytes.subarray(header.wrappedSectionStart, header.wrappedSectionEnd + SECTION_MAC_LENGTH);
  if (header.commitment.length !== SECTION_MAC_LENGTH || !macs.verify(header.suite, dek, sealedSection)) throw new DecryptionFailedError();
  const prefix = headerBytes.subarray(0, PREFIX_LENGTH);
  return contentKeyV2(hmacFor(aead), header.suite, dek, prefix, headerBytes.subarray(header.tailStart, header.headerLength), requiredContextBytes);
}

function openHeaderV1(aead: AesGcm, header: EnvelopeHeader, headerBytes: Uint8Array, dek: Uint8Array, requiredContextBytes: Uint8Array): Uint8Array {
  const keys = keysV1(aead, header.suite, dek, header.messageId);
  if (!equalBytes(keys.commitment, header.commitment)) throw new DecryptionFailedError();
  // docs/format.md §Envelope v1: the tag's AAD is prefix ‖ post-section header ‖ required context (not length-prefixed).
  const aad = new Uint8Array(PREFIX_LENGTH + header.tagOffset - header.tailStart + requiredContextBytes.length);
  aad.set(headerBytes.subarray(0, PREFIX_LENGTH), 0);
  aad.set(headerBytes.subarray(header.tailStart, header.tagOffset), PREFIX_LENGTH);
  aad.set(requiredContextBytes, PREFIX_LENGTH + header.tagOffset - header.tailStart);
  aead.open(keys.contentKey, sequenceNonce(HEADER_SEQUENCE), EMPTY, header.headerTag, aad);
  return keys.contentKey;
}

/** Seals consecutive frames of one message. */
export class FrameSealer {
  #sequence = FIRST_FRAME_SEQUENCE;
  #finished = false;

  readonly #aead: AesGcm;
  readonly #contentKey: Uint8Array;
  readonly frameSize: number;

  constructor(aead: AesGcm, contentKey: Uint8Array, frameSize: number) {
    this.#aead = aead;
    this.#contentKey = contentKey;
    this.frameSize = frameSize;
  }

  /** One frame: header ‖ ciphertext ‖ tag. Non-final frames must be exactly `frameSize` bytes. */
  seal(chunk: Uint8Array, final: boolean): Uint8Array {
    const out = new Uint8Array(FRAME_HEADER_LENGTH + chunk.length + 16);
    this.sealInto(chunk, final, out, 0);
    return out;
  }

  /** {@link seal} into `out` at `offset`; returns the number of bytes written. */
  sealInto(chunk: Uint8Array, final: boolean, out: Uint8Array, offset: number): number {
    if (this.#finished) throw new Error('frame sealer already finished');
    if (this.#sequence > Limits.MAX_FRAMES) throw new LimitExceededError('message exceeds the maximum number of frames');
    const head = frameHeader(final, chunk.length);
    out.set(head, offset);
    this.#aead.sealInto(this.#contentKey, sequenceNonce(this.#sequence++), chunk, head, out, offset + FRAME_HEADER_LENGTH);
    this.#finished = final;
    return FRAME_HEADER_LENGTH + chunk.length + 16;
  }
}

/** Opens consecutive frames of one message, enforcing order, sizes and the final flag. */
export class FrameOpener {
  #sequence = FIRST_FRAME_SEQUENCE;
  #finished = false;
  readonly #nonce = new Uint8Array(12);

  readonly #aead: AesGcm;
  readonly #contentKey: Uint8Array;
  readonly frameSize: number;

  constructor(aead: AesGcm, contentKey: Uint8Array, frameSize: number) {
    this.#aead = aead;
    this.#contentKey = contentKey;
    this.frameSize = frameSize;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Frames opened so far. */
  get opened(): number {
    return this.#sequence - FIRST_FRAME_SEQUENCE;
  }

  /**
   * Total bytes of the frame starting at `bytes[offset]`, or undefined when fewer than 4 bytes
   * are available. Validates the declared length first so no oversized buffer is awaited.
   */
  frameLength(bytes: Uint8Array, offset: number): number | undefined {
    if (bytes.length - offset < FRAME_HEADER_LENGTH) return undefined;
    const { final, length } = readFrameHeader(bytes, offset);
    if (length > this.frameSize || (!final && length !== this.frameSize)) {
      throw new EnvelopeMalformedError('frame length does not match the frame size');
    }
    return FRAME_HEADER_LENGTH + length + 16;
  }

  /** Opens one complete frame (as sized by {@link frameLength}); returns its plaintext. */
  open(frame: Uint8Array): { plaintext: Uint8Array; final: boolean } {
    if (this.#finished) throw new EnvelopeMalformedError('data after the final frame');
    if (this.#sequence > Limits.MAX_FRAMES) throw new EnvelopeMalformedError('envelope has more frames than the format allows');
    const { final } = readFrameHeader(frame, 0);
    const ct = frame.subarray(FRAME_HEADER_LENGTH, frame.length - 16);
    const tag = frame.subarray(frame.length - 16);
    // The cipher copies the nonce at init, so one buffer serves every frame.
    writeU32(this.#nonce, 8, this.#sequence++);
    const plaintext = this.#aead.open(this.#contentKey, this.#nonce, ct, tag, frame.subarray(0, FRAME_HEADER_LENGTH));
    this.#finished = final;
    return { plaintext, final };
  }
}
