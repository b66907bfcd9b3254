import { randomBytes } from 'node:crypto';
import {
  KeyDisabledError, LocalAesKek, type KekOperationOptions, type KeyEncryptionKey, type WrappedKey,
} from '../../src/index.js';

/**
 * A versioned local KEK that behaves like a vault key the way encrypt-side caches see it: wraps
 * name `<name>/v<N>` of the current version, `rotate()` makes a new version current, `disable()`
 * refuses a version's unwraps, and `isCurrent` says whether a wrap names the current, enabled
 * version. Counts calls.
 */
export class RotatingKek implements KeyEncryptionKey {
  readonly id: string;
  wraps = 0;
  unwraps = 0;
  isCurrentCalls = 0;
  readonly #versions = new Map<string, LocalAesKek>();
  readonly #disabled = new Set<string>();
  #current!: LocalAesKek;

  constructor(name = `rotating/${randomBytes(4).toString('hex')}`) {
    this.id = name;
    this.rotate();
  }

  /** The current version's kekId. */
  get currentId(): string {
    return this.#current.id;
  }

  /** Makes a new version current; returns its kekId. */
  rotate(): string {
    this.#current = new LocalAesKek({ id: `${this.id}/v${this.#versions.size + 1}`, key: randomBytes(32) });
    this.#versions.set(this.#current.id, this.#current);
    return this.#current.id;
  }

  /** Disables a version: its unwraps fail with ERR_KEY_DISABLED and its wraps are not current. */
  disable(kekId: string): void {
    this.#disabled.add(kekId);
  }

  wrap(dek: Uint8Array, options?: KekOperationOptions): Promise<WrappedKey> {
    this.wraps++;
    return this.#current.wrap(dek, options);
  }

  async unwrap(wrapped: WrappedKey, options?: KekOperationOptions): Promise<Uint8Array> {
    this.unwraps++;
    if (this.#disabled.has(wrapped.kekId)) throw new KeyDisabledError('the key version is disabled');
    const version = this.#versions.get(wrapped.kekId);
    if (version === undefined) throw new KeyDisabledError('unknown version');
    return version.unwrap(wrapped, options);
  }

  matches(wrapped: WrappedKey): boolean {
    return wrapped.kekId.startsWith(`${this.id}/v`);
  }

  /** AES-KW: only a holder of the version's key can make a wrap that unwraps (records need it). */
  authenticatesWrap(wrapped: WrappedKey): boolean {
    return this.matches(wrapped);
  }

  isCurrent(wrapped: WrappedKey): boolean {
    this.isCurrentCalls++;
    return wrapped.kekId === this.#current.id && !this.#disabled.has(wrapped.kekId);
  }
}
