/**
 * One owner's view of an {@link UnwrappedKeyCache}: every key it reads or writes is prefixed
 * with the owner's partition, so a client can only ever be served a DEK that a client with the
 * very same KEK objects (and, for fields, the very same key-store object) unwrapped or made.
 * docs/security.md §Sharing a cache says why object identity, not ids.
 *
 * @module
 * @internal
 */
import { EnvelopeError } from '../../errors.js';
import { SecretKey } from '../../internal/secret.js';
import type { KeyEncryptionKey } from '../../keys/kek.js';

/** Who owns cache entries: the KEK objects and, for field records, the key-store object. */
export interface CacheOwner {
  readonly keks: readonly KeyEncryptionKey[];
  readonly store?: object;
}

/** What a partition needs from its cache (closures over the cache's private state). */
export interface CacheCore {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly now: () => number;
  get(key: string): SecretKey | undefined;
  set(key: string, dek: SecretKey): void;
  getOrLoad(key: string, load: () => Promise<Uint8Array>): Promise<SecretKey>;
  /** The failure remembered under `key`, if still live (counts a negative hit). */
  failure(key: string): EnvelopeError | undefined;
  remember(key: string, error: EnvelopeError): void;
  /** When a key the cache owns expires; undefined for keys it does not hold. */
  expiresAt(dek: SecretKey): number | undefined;
  /** A small number unique to `o` within this cache (never reused while `o` lives). */
  idOf(o: object): number;
}

/**
 * Partitioned access to one cache. Keys are caller-chosen strings (a wrapped-key digest with
 * the DEK length, or a field `ref:<kind>:<keyRef>`); the partition prefixes them.
 */
export class CachePartition {
  readonly #prefix: string;
  readonly #core: CacheCore;

  constructor(core: CacheCore, owner: CacheOwner) {
    this.#core = core;
    const keks = owner.keks.map((k) => core.idOf(k)).sort((a, b) => a - b).join(',');
    this.#prefix = `p${owner.store === undefined ? 0 : core.idOf(owner.store)}.${keks}|`;
  }

  /** The cache's clock (ms). */
  get now(): () => number {
    return this.#core.now;
  }

  /** Time to live of positive entries, ms: the bound of every memo built on this cache. */
  get ttlMs(): number {
    return this.#core.ttlMs;
  }

  /** A short tag for `kek` (or any object) within this cache, for keys that name one KEK. */
  tagOf(o: object): number {
    return this.#core.idOf(o);
  }

  get(key: string): SecretKey | undefined {
    return this.#core.get(this.#prefix + key);
  }

  set(key: string, dek: SecretKey): void {
    this.#core.set(this.#prefix + key, dek);
  }

  /** Single-flight load; a failure is not remembered (the field keyRef path: a store read). */
  getOrLoad(key: string, load: () => Promise<Uint8Array>): Promise<SecretKey> {
    return this.#core.getOrLoad(this.#prefix + key, load);
  }

  /**
   * One KEK unwrap, with failures remembered for `negativeTtlMs` under `failureKey` (name the
   * KEK in it). With `key` the DEK is cached (single-flight); without, it is handed out only.
   */
  unwrap(key: string | undefined, failureKey: string, load: () => Promise<Uint8Array>): Promise<SecretKey> {
    const failed = this.#core.failure(this.#prefix + failureKey);
    if (failed !== undefined) return Promise.reject(failed);
    const work = key === undefined ? Promise.resolve().then(load).then((bytes) => new SecretKey(bytes)) : this.#core.getOrLoad(this.#prefix + key, load);
    return work.catch((err: unknown) => {
      // Only the KEK's own verdicts are remembered, never a caller's abort or a programming error.
      if (err instanceof EnvelopeError) this.#core.remember(this.#prefix + failureKey, err);
      throw err;
    });
  }

  /** When `dek` (a key this cache holds) expires; `now + ttlMs` for a key it does not hold. */
  expiresAt(dek: SecretKey): number {
    return this.#core.expiresAt(dek) ?? this.#core.now() + this.#core.ttlMs;
  }
}
