/**
 * Decrypt-side DEK resolution shared by envelopes and fields: wrapped DEKs → DEK through one
 * owner's partition of the unwrapped-key cache. The vault work one input can cause is bounded
 * (docs/security.md §Bounded decrypt work):
 *
 * - more than `maxWrappedKeys` wrapped keys are refused before anything else;
 * - each configured KEK makes at most one unwrap attempt per input: on the first wrapped key it
 *   matches, so a repeat of one input always asks the same question;
 * - a failed attempt is remembered (`negativeTtlMs`) and answered from memory while it lasts.
 */
import { DecryptionFailedError, LimitExceededError, NoMatchingKekError } from '../errors.js';
import { raceAbort } from '../internal/abort.js';
import { SecretKey } from '../internal/secret.js';
import type { KeyEncryptionKey, WrappedKey } from '../keys/kek.js';
import { wrappedKeyDigest } from './digest.js';
import type { CachePartition } from './internal/partition.js';

/** Options of {@link DekResolver}. */
export interface DekResolverOptions {
  /**
   * Cache unwrapped DEKs under their wrapped-key digest (envelopes). Field records are cached by
   * keyRef one level up, so their resolver caches nothing (one entry per DEK, not two).
   */
  readonly cacheDeks: boolean;
  /** Inputs with more wrapped keys are refused with `ERR_LIMIT_EXCEEDED` before any unwrap. */
  readonly maxWrappedKeys: number;
}

interface Attempt {
  readonly kek: KeyEncryptionKey;
  readonly wrapped: WrappedKey;
}

export class DekResolver {
  readonly #keks: readonly KeyEncryptionKey[];
  readonly #cache: CachePartition;
  readonly #cacheDeks: boolean;
  readonly #maxWrappedKeys: number;
  #hot: { readonly wrapped: WrappedKey; readonly dek: SecretKey; readonly expiresAt: number } | undefined;

  constructor(keks: readonly KeyEncryptionKey[], cache: CachePartition, options: DekResolverOptions) {
    this.#keks = keks;
    this.#cache = cache;
    this.#cacheDeks = options.cacheDeks;
    this.#maxWrappedKeys = options.maxWrappedKeys;
  }

  /**
   * The DEK of `wrappedKeys`, `dekLength` bytes long. Use the returned key synchronously after
   * the await (the cache may evict and wipe it on a later turn).
   * @throws {LimitExceededError} when there are more than `maxWrappedKeys` wrapped keys.
   * @throws {NoMatchingKekError} when no configured KEK matches any wrapped key.
   * @throws {EnvelopeError} the most informative unwrap failure when every attempt failed.
   */
  async resolve(wrappedKeys: readonly WrappedKey[], dekLength: number, signal?: AbortSignal): Promise<SecretKey> {
    signal?.throwIfAborted();
    return this.resolveHot(wrappedKeys, dekLength) ?? this.#resolveCold(wrappedKeys, dekLength, signal);
  }

  /**
   * {@link resolve} without waiting: the DEK when the hot memo has it, else undefined (then call
   * `resolve`). Same checks: the wrapped-key limit, then the memo's key length, wipe and expiry.
   * @throws {LimitExceededError} when there are more than `maxWrappedKeys` wrapped keys.
   */
  resolveHot(wrappedKeys: readonly WrappedKey[], dekLength: number): SecretKey | undefined {
    if (wrappedKeys.length > this.#maxWrappedKeys) {
      throw new LimitExceededError(`${wrappedKeys.length} wrapped data keys is over the limit of ${this.#maxWrappedKeys} (maxWrappedKeys)`);
    }
    const hot = this.#hot;
    // The common case is many envelopes under one DEK: a byte compare beats hashing every time.
    // The memo is this owner's own, and it ends with its cache entry (expiry or wipe).
    if (hot === undefined || hot.dek.length !== dekLength || hot.dek.wiped || this.#cache.now() >= hot.expiresAt) return undefined;
    for (let i = 0; i < wrappedKeys.length; i++) if (sameWrappedKey(wrappedKeys[i]!, hot.wrapped)) return hot.dek;
    return undefined;
  }

  async #resolveCold(wrappedKeys: readonly WrappedKey[], dekLength: number, signal?: AbortSignal): Promise<SecretKey> {
    const attempts = this.#plan(wrappedKeys);
    if (attempts.length === 0) throw new NoMatchingKekError(wrappedKeys.map((w) => w.kekId));
    const digests = attempts.map((a) => `${dekLength}|${wrappedKeyDigest(a.wrapped)}`);
    if (this.#cacheDeks) {
      for (let i = 0; i < attempts.length; i++) {
        const hit = this.#cache.get(digests[i]!);
        if (hit !== undefined && hit.length === dekLength) return this.#remember(attempts[i]!.wrapped, hit);
      }
    }
    let lastOther: unknown;
    let hasOther = false;
    for (let i = 0; i < attempts.length; i++) {
      const { kek, wrapped } = attempts[i]!;
      const failureKey = `${this.#cache.tagOf(kek)}/${digests[i]!}`;
      try {
        // The unwrap is shared by every concurrent miss, so it runs without this caller's signal.
        const shared = this.#cache.unwrap(this.#cacheDeks ? digests[i] : undefined, failureKey, () => unwrapExact(kek, wrapped, dekLength));
        const dek = await raceAbort(shared, signal);
        if (this.#cacheDeks) return this.#remember(wrapped, dek);
        // Nobody owns an uncached key: the caller copies it in this turn, then it is wiped.
        setImmediate(() => dek.wipe()).unref();
        return dek;
      } catch (err) {
        signal?.throwIfAborted();
        // A KEK that is unreachable, disabled, … tells the caller more than "does not authenticate".
        if (!(err instanceof DecryptionFailedError)) {
          lastOther = err;
          hasOther = true;
        }
      }
    }
    throw hasOther ? lastOther : new DecryptionFailedError();
  }

  /** One attempt per configured KEK: the first wrapped key it matches, in input order. */
  #plan(wrappedKeys: readonly WrappedKey[]): Attempt[] {
    const attempts: Attempt[] = [];
    for (const kek of this.#keks) {
      const wrapped = wrappedKeys.find((w) => kek.matches(w));
      if (wrapped !== undefined) attempts.push({ kek, wrapped });
    }
    return attempts;
  }

  /** Memoizes the last resolved key; it holds the cache's own SecretKey, so eviction (a wipe) ends it. */
  #remember(wrapped: WrappedKey, dek: SecretKey): SecretKey {
    const copy = { kekId: wrapped.kekId, alg: wrapped.alg, bytes: wrapped.bytes.slice() };
    this.#hot = { wrapped: copy, dek, expiresAt: this.#cache.expiresAt(dek) };
    return dek;
  }

  /**
   * Records a DEK we wrapped ourselves, so decrypting our own output needs no unwrap. One entry
   * is enough: a reader in this partition holds the KEK that made `wrappedKeys[0]`, and that KEK
   * plans its attempt on it (it is the first entry it matches).
   */
  prime(wrappedKeys: readonly WrappedKey[], dek: SecretKey): void {
    if (!this.#cacheDeks || wrappedKeys.length === 0) return;
    // The cache entry owns its copy: the cache wipes it on eviction independently of `dek`.
    this.#cache.set(`${dek.length}|${wrappedKeyDigest(wrappedKeys[0]!)}`, new SecretKey(dek.expose().slice()));
  }
}

/** `kek.unwrap`, refusing (and wiping) a DEK of the wrong length as a failed unwrap. */
async function unwrapExact(kek: KeyEncryptionKey, wrapped: WrappedKey, dekLength: number): Promise<Uint8Array> {
  const dek = await kek.unwrap(wrapped);
  if (!(dek instanceof Uint8Array) || dek.length !== dekLength) {
    if (dek instanceof Uint8Array) dek.fill(0);
    throw new DecryptionFailedError();
  }
  return dek;
}

function sameWrappedKey(a: WrappedKey, b: WrappedKey): boolean {
  if (a.kekId !== b.kekId || a.alg !== b.alg || a.bytes.length !== b.bytes.length) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}
