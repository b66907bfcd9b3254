import { EnvelopeMalformedError } from '../../errors.js';

/**
 * Thrown by {@link ByteReader} when the input ends early. One-shot parsers turn it into
 * `EnvelopeMalformedError` ("truncated"); the streaming parser waits for more bytes instead.
 */
export class NeedMoreBytes extends Error {
  constructor() {
    super('need more bytes');
  }
}

/** A bounds-checked big-endian cursor over untrusted bytes. Never reads past the end. */
export class ByteReader {
  offset: number;

  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  #need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new NeedMoreBytes();
  }

  u8(): number {
    this.#need(1);
    return this.bytes[this.offset++]!;
  }

  u16(): number {
    this.#need(2);
    const b = this.bytes;
    const o = this.offset;
    this.offset += 2;
    return (b[o]! << 8) | b[o + 1]!;
  }

  u32(): number {
    this.#need(4);
    const b = this.bytes;
    const o = this.offset;
    this.offset += 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  /** A view (no copy) of the next `n` bytes. */
  bytesView(n: number): Uint8Array {
    this.#need(n);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A length-checked field: reads `n` after checking it against `max` (named in the error). */
  bounded(n: number, max: number, what: string): Uint8Array {
    if (n > max) throw new EnvelopeMalformedError(`${what} is ${n} bytes, more than the limit of ${max}`);
    return this.bytesView(n);
  }
}

/** Writes big-endian integers into a preallocated buffer. */
export function writeU16(out: Uint8Array, offset: number, value: number): number {
  out[offset] = value >>> 8;
  out[offset + 1] = value & 0xff;
  return offset + 2;
}

export function writeU32(out: Uint8Array, offset: number, value: number): number {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
  return offset + 4;
}
