import { type KekOperationOptions, type KeyEncryptionKey, type RecordSignature, UnsupportedKeyTypeError, type WrappedKey } from '../../src/index.js';

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

  // Record authentication hooks pass through (a wrapper that drops them makes records it cannot authenticate).
  authenticatesWrap(wrapped: WrappedKey): boolean {
    return this.#inner.authenticatesWrap?.(wrapped) === true;
  }

  signRecord(payload: Uint8Array, options?: KekOperationOptions): Promise<RecordSignature> {
    if (this.#inner.signRecord === undefined) return Promise.reject(new UnsupportedKeyTypeError('inner KEK cannot sign'));
    return this.#inner.signRecord(payload, options);
  }

  verifyRecord(signature: RecordSignature, payload: Uint8Array, options?: KekOperationOptions): Promise<boolean> {
    return this.#inner.verifyRecord?.(signature, payload, options) ?? Promise.resolve(false);
  }
}
