/**
 * Decrypt-side DEK resolution shared by envelopes and fields: wrapped DEKs → DEK through the
 * unwrapped-key cache, trying each wrapped key a configured KEK matches. Cache hits on any of
 * the wrapped keys are taken before any KEK is contacted.
 */
import { SecretKey } from '../internal/secret.js';
import { NoMatchingKekError } from '../errors.js';
import type { KeyEncryptionKey, WrappedKey } from '../keys/kek.js';
import { unwrapWithAny } from '../keys/multi.js';
import { raceAbort } from '../internal/abort.js';
import { wrappedKeyDigest } from './digest.js';
import type { UnwrappedKeyCache } from './unwrap-cache.js';

export class DekResolver {
  readonly #keks: readonly KeyEncryptionKey[];
  readonly #cache: UnwrappedKeyCache;
  #hot: { readonly wrapped: WrappedKey; readonly dek: SecretKey } | undefined;

  constructor(keks: readonly KeyEncryptionKey[], cache: UnwrappedKeyCache) {
    this.#keks = keks;
    this.#cache = cache;
  }

  /**
   * The DEK of `wrappedKeys`. Use the returned key synchronously after the await (the cache may
   * evict and wipe it on a later turn).
   * @throws {NoMatchingKekError} when no configured KEK matches any wrapped key.
   * @throws {EnvelopeError} the most informative unwrap failure when every attempt failed.
   */
  async resolve(wrappedKeys: readonly WrappedKey[], dekLength: number, signal?: AbortSignal): Promise<SecretKey> {
    signal?.throwIfAborted();
    const hot = this.#hot;
    // The common case is many envelopes under one DEK: a byte compare beats hashing every time.
    if (hot !== undefined && !hot.dek.wiped && wrappedKeys.some((w) => sameWrappedKey(w, hot.wrapped))) return hot.dek;
    return this.#resolveCold(wrappedKeys, dekLength, signal);
  }

  async #resolveCold(wrappedKeys: readonly WrappedKey[], dekLength: number, signal?: AbortSignal): Promise<SecretKey> {
    const candidates = wrappedKeys.filter((w) => this.#keks.some((k) => k.matches(w)));
    if (candidates.length === 0) throw new NoMatchingKekError(wrappedKeys.map((w) => w.kekId));
    const digests = candidates.map(wrappedKeyDigest);
    for (let i = 0; i < digests.length; i++) {
      const hit = this.#cache.get(digests[i]!);
      if (hit !== undefined) return this.#remember(candidates[i]!, hit);
    }
    let lastError: unknown;
    for (let i = 0; i < candidates.length; i++) {
      const w = candidates[i]!;
      try {
        // The unwrap is shared by every concurrent miss, so it runs without this caller's signal.
        const shared = this.#cache.getOrLoad(digests[i]!, () => unwrapWithAny(this.#keks, [w], { expectedDekLength: dekLength }));
        return this.#remember(w, await raceAbort(shared, signal));
      } catch (err) {
        signal?.throwIfAborted();
        lastError = err;
      }
    }
    throw lastError;
  }

  /** Memoizes the last resolved key; it holds the cache's own SecretKey, so eviction (a wipe) ends it. */
  #remember(wrapped: WrappedKey, dek: SecretKey): SecretKey {
    this.#hot = { wrapped: { kekId: wrapped.kekId, alg: wrapped.alg, bytes: wrapped.bytes.slice() }, dek };
    return dek;
  }

  /** Records a DEK we wrapped ourselves, so decrypting our own output needs no unwrap. */
  prime(wrappedKeys: readonly WrappedKey[], dek: SecretKey): void {
    // Each cache entry owns its copy: the cache wipes entries on eviction independently.
    for (const w of wrappedKeys) this.#cache.set(wrappedKeyDigest(w), new SecretKey(dek.expose().slice()));
  }
}

function sameWrappedKey(a: WrappedKey, b: WrappedKey): boolean {
  if (a.kekId !== b.kekId || a.alg !== b.alg || a.bytes.length !== b.bytes.length) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}
