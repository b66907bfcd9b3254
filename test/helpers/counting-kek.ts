import type { KekOperationOptions, KeyEncryptionKey, WrappedKey } from '../../src/index.js';

/** Delegates to a real KEK and counts calls; optionally delays unwraps to widen races. */
export class CountingKek implements KeyEncryptionKey {
  wraps = 0;
  unwraps = 0;
  readonly id: string;
  readonly #inner: KeyEncryptionKey;
  readonly #unwrapDelayMs: number;

  constructor(inner: KeyEncryptionKey, options: { unwrapDelayMs?: number } = {}) {
    this.#inner = inner;
    this.id = inner.id;
    this.#unwrapDelayMs = options.unwrapDelayMs ?? 0;
  }

  wrap(dek: Uint8Array, options?: KekOperationOptions): Promise<WrappedKey> {
    this.wraps++;
    return this.#inner.wrap(dek, options);
  }

  async unwrap(wrapped: WrappedKey, options?: KekOperationOptions): Promise<Uint8Array> {
    this.unwraps++;
    if (this.#unwrapDelayMs > 0) await new Promise((r) => setTimeout(r, this.#unwrapDelayMs));
    return this.#inner.unwrap(wrapped, options);
  }

  matches(wrapped: WrappedKey): boolean {
    return this.#inner.matches(wrapped);
  }
}
