/**
 * The decrypt-side cache of unwrapped DEKs, so decrypting many messages (or fields) under one
 * DEK costs one KEK unwrap (one Key Vault call), not one per message.
 *
 * @module
 */
import { inspect } from 'node:util';
import { SecretKey } from '../internal/secret.js';
import { assertPositiveInt, assertString } from '../internal/bytes.js';
import { LruTtlMap } from './internal/lru-ttl-map.js';

/** Options of {@link UnwrappedKeyCache}. */
export interface UnwrappedKeyCacheOptions {
  /** Most keys held; the least recently used is evicted (and wiped) beyond it. Default 1,000. */
  maxEntries?: number;
  /** How long a key stays after it was loaded, in ms (hits do not extend it). Default 5 min. */
  ttlMs?: number;
  /** The clock, ms since the epoch. Default `Date.now`; inject one for deterministic tests. */
  now?: () => number;
}

/** Counters of an {@link UnwrappedKeyCache}, since it was made. */
export interface UnwrappedKeyCacheStats {
  /** Lookups answered from the cache. */
  readonly hits: number;
  /** `getOrLoad` calls that found no live entry (joining an in-flight load included). */
  readonly misses: number;
  /** Calls of a `load` function. */
  readonly loads: number;
  /** Entries removed by LRU pressure or TTL expiry (not by `clear`). */
  readonly evictions: number;
}

/**
 * LRU + TTL cache of unwrapped DEKs as {@link SecretKey}s, keyed by a digest of the wrapped key
 * (`wrappedKeyDigest`). Concurrent misses on one digest share a single load (single-flight); a
 * failed load is not cached. Evicted and expired keys are wiped. Expired entries go lazily on
 * access and by a sweep timer that exists only while the cache holds entries and is `unref()`d,
 * so the cache never keeps a process alive.
 *
 * Key lifetime contract: a key returned by {@link get} or {@link getOrLoad} belongs to the
 * cache. Use it synchronously, right after the call (or in the continuation of the `await`),
 * and never keep it or its bytes past that turn; copy (`expose().slice()`) if you need longer.
 * Keys leaving the cache through eviction or expiry are wiped on a later macrotask (never
 * during the microtasks that deliver them), which is what makes that contract safe even when
 * another load evicts the key in between. `clear()` and `dispose()` wipe at once.
 *
 * @throws {TypeError | RangeError} from the constructor on invalid options.
 * @example
 * ```ts
 * import { UnwrappedKeyCache } from 'kv-envelope';
 * const cache = new UnwrappedKeyCache({ maxEntries: 500, ttlMs: 60_000 });
 * const dek = await cache.getOrLoad(wrappedKeyDigest(w), () => kek.unwrap(w));
 * const plaintext = open(dek.expose(), ciphertext); // synchronous use, same turn
 * ```
 */
export class UnwrappedKeyCache {
  /** Capacity. */
  readonly maxEntries: number;
  /** Time to live of an entry, ms. */
  readonly ttlMs: number;
  readonly #sweepMs: number;
  readonly #entries: LruTtlMap<SecretKey>;
  readonly #inflight = new Map<string, Promise<SecretKey>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #generation = 0;
  #doomed: SecretKey[] = [];
  #hits = 0;
  #misses = 0;
  #loads = 0;
  #evictions = 0;

  constructor(options: UnwrappedKeyCacheOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.maxEntries = options.maxEntries ?? 1000;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    assertPositiveInt(this.maxEntries, 'options.maxEntries');
    assertPositiveInt(this.ttlMs, 'options.ttlMs');
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('options.now must be a function');
    }
    this.#entries = new LruTtlMap<SecretKey>({
      maxEntries: this.maxEntries,
      ttlMs: this.ttlMs,
      now: options.now ?? Date.now,
      onRemove: (key, reason) => {
        if (reason !== 'replaced') this.#evictions++;
        this.#doom(key);
      },
    });
    this.#sweepMs = Math.min(Math.max(this.ttlMs, 1_000), 60_000);
  }

  /** Live entries (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  /** A snapshot of the counters. */
  get stats(): UnwrappedKeyCacheStats {
    return Object.freeze({ hits: this.#hits, misses: this.#misses, loads: this.#loads, evictions: this.#evictions });
  }

  /**
   * The live key for `digest`, or undefined; a hit refreshes LRU order (not the TTL) and counts
   * as a hit. A miss is not counted: the `getOrLoad` that follows counts it. Same lifetime
   * contract as {@link getOrLoad}.
   * @throws {TypeError | RangeError} when `digest` is not a non-empty string.
   * @example `const dek = cache.get(digest) ?? (await cache.getOrLoad(digest, load));`
   */
  get(digest: string): SecretKey | undefined {
    assertString(digest, 'digest', 512);
    const key = this.#lookup(digest);
    if (key !== undefined) this.#hits++;
    return key;
  }

  /**
   * Stores `key` under `digest` (e.g. a DEK this process just made and wrapped), replacing any
   * entry there. The cache takes ownership: it will wipe `key` when it leaves the cache.
   * @throws {TypeError} when `key` is not a SecretKey; {@link RangeError} when it is wiped.
   * @example `cache.set(wrappedKeyDigest(w), new SecretKey(dek.slice()));`
   */
  set(digest: string, key: SecretKey): void {
    assertString(digest, 'digest', 512);
    if (!(key instanceof SecretKey)) throw new TypeError('key must be a SecretKey');
    if (key.wiped) throw new RangeError('key is wiped');
    this.#insert(digest, key);
  }

  /**
   * The key for `digest`: from the cache, else from `load()` (which must resolve to fresh DEK
   * bytes the cache may own and zero). Concurrent misses on one digest share one `load` call
   * and its outcome: every waiter gets the same key, or the same rejection. A rejected load is
   * not cached; the next call loads again.
   *
   * Use the resolved key synchronously in the continuation of the `await` and do not keep it:
   * see the class docs. It is not wiped before that continuation runs.
   * @throws {TypeError | RangeError} (as a rejection) on a bad `digest`/`load`, or when `load`
   *   resolves to something other than non-empty bytes.
   * @throws whatever `load` rejects with.
   * @example
   * ```ts
   * const dek = await cache.getOrLoad(digest, () => kek.unwrap(wrapped, { signal }));
   * const plaintext = gcmOpen(dek.expose(), nonce, body, tag, aad);
   * ```
   */
  getOrLoad(digest: string, load: () => Promise<Uint8Array>): Promise<SecretKey> {
    try {
      assertString(digest, 'digest', 512);
      if (typeof load !== 'function') throw new TypeError('load must be a function');
    } catch (err) {
      return Promise.reject(err);
    }
    const hit = this.#lookup(digest);
    if (hit !== undefined) {
      this.#hits++;
      return Promise.resolve(hit);
    }
    this.#misses++;
    const pending = this.#inflight.get(digest);
    if (pending !== undefined) return pending;
    this.#loads++;
    const generation = this.#generation;
    const promise: Promise<SecretKey> = Promise.resolve()
      .then(load)
      .then(
        (bytes) => {
          this.#forget(digest, promise);
          if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new TypeError('load must resolve to non-empty bytes');
          const key = new SecretKey(bytes);
          if (generation === this.#generation) this.#insert(digest, key);
          else this.#doom(key); // cleared while loading: hand it out, never cache it
          return key;
        },
        (err: unknown) => {
          this.#forget(digest, promise);
          throw err;
        },
      );
    this.#inflight.set(digest, promise);
    return promise;
  }

  /**
   * Wipes and drops every entry at once, stops the sweep timer, and makes loads already in
   * flight deliver their key without caching it.
   * @example `cache.clear(); // e.g. after revoking a KEK`
   */
  clear(): void {
    this.#generation++;
    this.#inflight.clear();
    for (const key of [...this.#entries.clear(), ...this.#doomed]) key.wipe();
    this.#doomed = [];
    this.#stopTimer();
  }

  /**
   * Same as {@link clear}: releases everything the cache holds (for shutdown hooks). The cache
   * stays usable; a later load simply starts over.
   * @example `process.on('SIGTERM', () => cache.dispose());`
   */
  dispose(): void {
    this.clear();
  }

  /** Never shows key bytes (SecretKey redacts itself too). */
  [inspect.custom](): string {
    const s = this.stats;
    return `UnwrappedKeyCache { size: ${this.size}, maxEntries: ${this.maxEntries}, ttlMs: ${this.ttlMs}, hits: ${s.hits}, misses: ${s.misses}, loads: ${s.loads}, evictions: ${s.evictions} }`;
  }

  #lookup(digest: string): SecretKey | undefined {
    const key = this.#entries.get(digest);
    if (this.#entries.size === 0) this.#stopTimer();
    return key;
  }

  #insert(digest: string, key: SecretKey): void {
    this.#entries.set(digest, key);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.#entries.sweep();
      if (this.#entries.size === 0) this.#stopTimer();
    }, this.#sweepMs);
    this.#timer.unref();
  }

  #forget(digest: string, promise: Promise<SecretKey>): void {
    if (this.#inflight.get(digest) === promise) this.#inflight.delete(digest);
  }

  /** Wipes `key` on a later macrotask, after every microtask that may still be handing it out. */
  #doom(key: SecretKey): void {
    this.#doomed.push(key);
    if (this.#doomed.length > 1) return;
    setImmediate(() => {
      const doomed = this.#doomed;
      this.#doomed = [];
      for (const k of doomed) k.wipe();
    }).unref();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
