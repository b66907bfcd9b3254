/**
 * Per-message cryptography shared by one-shot and streaming envelopes: key derivation and
 * commitment (docs/format.md §Keys), the header tag, and frame sealing/opening.
 */
import { equalBytes } from '@noble/ciphers/utils.js';
import type { AesGcm } from '../aead/gcm.js';
import { DecryptionFailedError, EnvelopeMalformedError, LimitExceededError } from '../errors.js';
import { type EnvelopeHeader, encodeHeader, headerAad } from '../format/envelope.js';
import { FIRST_FRAME_SEQUENCE, FRAME_HEADER_LENGTH, HEADER_SEQUENCE, frameHeader, readFrameHeader, sequenceNonce } from '../format/frames.js';
import { Limits } from '../format/limits.js';
import type { EnvelopeSuite } from '../format/suites.js';

const EMPTY = new Uint8Array(0);

/** The content key and the key commitment of one message. */
export interface MessageKeys {
  readonly contentKey: Uint8Array;
  readonly commitment: Uint8Array;
}

/**
 * HKDF-SHA-256(ikm = DEK, salt = messageId, info = suite label) → contentKey ‖ commitment.
 * A fresh content key per message is what makes a cached DEK safe to reuse for 2^32 messages
 * with counter nonces; the commitment binds the ciphertext to exactly one DEK.
 */
export function deriveMessageKeys(aead: AesGcm, suite: EnvelopeSuite, dek: Uint8Array, messageId: Uint8Array): MessageKeys {
  const okm = aead.hkdf(dek, messageId, suite.kdfInfo, suite.contentKeyLength + suite.commitmentLength);
  return { contentKey: okm.subarray(0, suite.contentKeyLength), commitment: okm.subarray(suite.contentKeyLength) };
}

/** Inputs of {@link buildHeader}. */
export interface BuildHeaderInput {
  readonly suite: EnvelopeSuite;
  readonly keys: MessageKeys;
  readonly messageId: Uint8Array;
  readonly wrappedSection: Uint8Array;
  readonly contextBytes: Uint8Array;
  readonly requiredContextBytes: Uint8Array;
  readonly frameSize: number;
}

/** Encodes the header and writes its tag. */
export function buildHeader(aead: AesGcm, input: BuildHeaderInput): Uint8Array {
  const { bytes, tagOffset } = encodeHeader({ ...input, commitment: input.keys.commitment });
  const aad = headerAad(bytes, { wrappedSectionEnd: 2 + input.messageId.length + input.wrappedSection.length, tagOffset }, input.requiredContextBytes);
  const tag = aead.seal(input.keys.contentKey, sequenceNonce(HEADER_SEQUENCE), EMPTY, aad, 0);
  bytes.set(tag, tagOffset);
  return bytes;
}

/**
 * Checks the key commitment (constant time) and the header tag; returns the content key.
 * Runs before any frame is opened, so no plaintext exists until both pass.
 * @throws {DecryptionFailedError} on any mismatch.
 */
export function verifyHeader(aead: AesGcm, header: EnvelopeHeader, headerBytes: Uint8Array, dek: Uint8Array, requiredContextBytes: Uint8Array): Uint8Array {
  const keys = deriveMessageKeys(aead, header.suite, dek, header.messageId);
  if (!equalBytes(keys.commitment, header.commitment)) throw new DecryptionFailedError();
  aead.open(keys.contentKey, sequenceNonce(HEADER_SEQUENCE), EMPTY, header.headerTag, headerAad(headerBytes, header, requiredContextBytes));
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
    const plaintext = this.#aead.open(this.#contentKey, sequenceNonce(this.#sequence++), ct, tag, frame.subarray(0, FRAME_HEADER_LENGTH));
    this.#finished = final;
    return { plaintext, final };
  }
}
