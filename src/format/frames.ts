/**
 * Frame framing (docs/format.md §Frames): every frame is
 * `u32 (final flag ‖ 31-bit plaintext length) ‖ ciphertext ‖ 16-byte tag`, encrypted under the
 * message's content key with nonce `0^8 ‖ u32 sequence`. The 4-byte frame header is the frame's
 * AAD, so the final flag and length are authenticated; the sequence number in the nonce stops
 * reordering; a stream that ends without a final frame is truncated; bytes after it are rejected.
 */
import { writeU32 } from './internal/reader.js';

export const FRAME_HEADER_LENGTH = 4;
export const FINAL_FLAG = 0x8000_0000;
export const LENGTH_MASK = 0x7fff_ffff;
/** Sequence 0 is the header tag's nonce; frames count from 1. */
export const HEADER_SEQUENCE = 0;
export const FIRST_FRAME_SEQUENCE = 1;

/** The 12-byte nonce for a sequence number. */
export function sequenceNonce(sequence: number): Uint8Array {
  const nonce = new Uint8Array(12);
  writeU32(nonce, 8, sequence);
  return nonce;
}

/** The 4-byte frame header (and AAD). */
export function frameHeader(final: boolean, length: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH);
  writeU32(out, 0, ((final ? FINAL_FLAG : 0) | length) >>> 0);
  return out;
}

/** Splits a frame header word. */
export function readFrameHeader(bytes: Uint8Array, offset: number): { final: boolean; length: number } {
  const word = ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
  return { final: (word & FINAL_FLAG) !== 0, length: word & LENGTH_MASK };
}

/** Number of frames a one-shot encryption of `length` bytes makes (at least one, the final). */
export function frameCount(length: number, frameSize: number): number {
  return length === 0 ? 1 : Math.ceil(length / frameSize);
}
