/**
 * One-shot envelope encryption and decryption over whole buffers. The output buffer is sized
 * exactly and filled frame by frame; on any failure during decryption the partial plaintext is
 * zeroed and never returned.
 */
import type { AesGcm } from '../aead/gcm.js';
import { type EnvelopeHeader, parseComplete, parseHeader } from '../format/envelope.js';
import { FRAME_HEADER_LENGTH, frameCount } from '../format/frames.js';
import { EnvelopeMalformedError } from '../errors.js';
import { type BuildHeaderInput, FrameOpener, FrameSealer, buildHeader, verifyHeader } from './message.js';

/** Everything one message needs besides the plaintext (the header's inputs). */
export type SealParams = BuildHeaderInput;

/** Encrypts `plaintext` into a complete envelope. */
export function sealEnvelope(aead: AesGcm, p: SealParams, plaintext: Uint8Array): Uint8Array {
  const header = buildHeader(aead, p);
  const frames = frameCount(plaintext.length, p.frameSize);
  // Every byte is written below, so skip zero-filling (~10% of a 1 MiB encrypt); own ArrayBuffer, never Node's pool.
  const out = uninitialized(header.length + frames * (FRAME_HEADER_LENGTH + p.suite.tagLength) + plaintext.length);
  out.set(header, 0);
  let off = header.length;
  const sealer = new FrameSealer(aead, p.keys.contentKey, p.frameSize);
  for (let i = 0; i < frames; i++) {
    const start = i * p.frameSize;
    off += sealer.sealInto(plaintext.subarray(start, start + p.frameSize), i === frames - 1, out, off);
  }
  return out;
}

/** Parses an envelope's header; a short input is malformed. */
export function parseEnvelopeHeader(envelope: Uint8Array): EnvelopeHeader {
  return parseComplete(() => parseHeader(envelope));
}

/**
 * Verifies the commitment and header tag, then opens every frame. Returns the plaintext only
 * when every frame authenticated, the final frame was seen, and no byte follows it.
 * @throws {DecryptionFailedError} on any authentication failure.
 * @throws {EnvelopeMalformedError} on framing errors (truncated, trailing bytes, bad lengths).
 */
export function openEnvelope(aead: AesGcm, envelope: Uint8Array, header: EnvelopeHeader, dek: Uint8Array, requiredContextBytes: Uint8Array): Uint8Array {
  const contentKey = verifyHeader(aead, header, envelope, dek, requiredContextBytes);
  const opener = new FrameOpener(aead, contentKey, header.frameSize);
  const parts: Uint8Array[] = [];
  let inOff = header.headerLength;
  let total = 0;
  try {
    while (!opener.finished) {
      const len = opener.frameLength(envelope, inOff);
      if (len === undefined || inOff + len > envelope.length) throw new EnvelopeMalformedError('envelope is truncated');
      const { plaintext } = opener.open(envelope.subarray(inOff, inOff + len));
      parts.push(plaintext);
      total += plaintext.length;
      inOff += len;
    }
    if (inOff !== envelope.length) throw new EnvelopeMalformedError('envelope has bytes after the final frame');
  } catch (err) {
    for (const p of parts) p.fill(0);
    throw err;
  }
  // A single-frame message (anything up to the frame size) is returned without a copy.
  if (parts.length === 1) return parts[0]!;
  const out = uninitialized(total);
  let outOff = 0;
  for (const p of parts) {
    out.set(p, outOff);
    outOff += p.length;
    p.fill(0);
  }
  return out;
}

/** A fresh, unshared, uninitialized buffer as a plain Uint8Array; callers must write every byte. */
function uninitialized(length: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}
