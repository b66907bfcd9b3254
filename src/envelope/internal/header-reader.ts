/**
 * Collects an envelope header from stream chunks of any size in linear time: each byte is copied
 * once into a growing buffer (doubling), the length fields are probed only when the buffer
 * reaches the next length the previous probe asked for, and the full parser runs once.
 * @internal
 */
import { type EnvelopeHeader, notAnEnvelope, parseComplete, parseHeader } from '../../format/envelope.js';
import { probeHeaderLength } from '../../format/internal/header-length.js';

/** A complete header, its own copy of the header bytes, and the rest of the chunk that completed it. */
export interface ReadHeader {
  readonly header: EnvelopeHeader;
  readonly headerBytes: Uint8Array;
  readonly rest: Uint8Array;
}

/** Work counters (what a test checks instead of time). */
export interface HeaderReaderWork {
  /** Length-field probes run. */
  probes: number;
  /** Bytes copied into the header buffer (growth included). */
  bytesCopied: number;
  /** Full header parses run (1 for a complete header). */
  parses: number;
}

export class HeaderReader {
  #buf = new Uint8Array(256);
  #length = 0;
  /** Bytes needed before the next probe can learn anything. */
  #need = 2;
  #total: number | undefined;
  readonly work: HeaderReaderWork = { probes: 0, bytesCopied: 0, parses: 0 };

  /** Bytes held so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Adds a chunk; returns the header once complete (then the reader is spent).
   * @throws {EnvelopeMalformedError} as soon as the bytes seen cannot start a valid header.
   */
  push(chunk: Uint8Array): ReadHeader | undefined {
    let off = 0;
    while (off < chunk.length) {
      const take = Math.min(this.#need - this.#length, chunk.length - off);
      this.#append(chunk.subarray(off, off + take));
      off += take;
      if (this.#length < this.#need) return undefined;
      if (this.#total !== undefined) return this.#finish(chunk.subarray(off));
      this.work.probes++;
      const probe = probeHeaderLength(this.#buf.subarray(0, this.#length), (v) => notAnEnvelope(this.#buf.subarray(0, this.#length), v));
      if (probe.complete) {
        this.#total = probe.length;
        this.#need = probe.length;
        if (this.#length >= probe.length) return this.#finish(chunk.subarray(off));
      } else {
        this.#need = probe.need;
      }
    }
    return undefined;
  }

  #finish(rest: Uint8Array): ReadHeader {
    this.work.parses++;
    const headerBytes = this.#buf.slice(0, this.#total);
    this.#buf.fill(0);
    return { header: parseComplete(() => parseHeader(headerBytes)), headerBytes, rest };
  }

  #append(part: Uint8Array): void {
    if (this.#length + part.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#length + part.length));
      grown.set(this.#buf.subarray(0, this.#length));
      this.work.bytesCopied += this.#length;
      this.#buf = grown;
    }
    this.#buf.set(part, this.#length);
    this.#length += part.length;
    this.work.bytesCopied += part.length;
  }
}
