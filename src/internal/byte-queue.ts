/**
 * A FIFO of byte chunks for stream parsers: append chunks as they arrive, read a contiguous
 * prefix when enough bytes are there, drop it once consumed. Copies only when a read spans chunks.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The first `n` bytes (or all bytes when `n` is omitted) as one contiguous view. */
  peek(n = this.#length): Uint8Array {
    if (n > this.#length) throw new RangeError('not enough bytes queued');
    if (n === 0) return new Uint8Array(0);
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.#chunks) {
      if (off >= n) break;
      const take = Math.min(c.length, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
    }
    // Keep the merged bytes as one chunk so the next peek of the same prefix does not copy again.
    this.#consumeChunks(n);
    this.#chunks.unshift(out);
    this.#length += n;
    return out;
  }

  /** Drops the first `n` bytes. */
  consume(n: number): void {
    if (n > this.#length) throw new RangeError('not enough bytes queued');
    this.#consumeChunks(n);
  }

  #consumeChunks(n: number): void {
    this.#length -= n;
    while (n > 0) {
      const c = this.#chunks[0]!;
      if (c.length <= n) {
        this.#chunks.shift();
        n -= c.length;
      } else {
        this.#chunks[0] = c.subarray(n);
        n = 0;
      }
    }
  }
}
