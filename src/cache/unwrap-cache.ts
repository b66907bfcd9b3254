/**
 * The decrypt-side cache of unwrapped DEKs, so decrypting many messages (or fields) under one
 * DEK costs one KEK unwrap (one Key Vault call), not one per message.
 *
 * @module
 */
import { inspect } from 'node:util';
import type { EnvelopeError } from '../errors.js';
import { SecretKey } from '../internal/secret.js';
import { assertPositiveInt, assertString } from '../internal/bytes.js';
import { LruTtlMap } from './internal/lru-ttl-map.js';
import { type CacheCore, type CacheOwner, CachePartition } from './internal/partition.js';

/** Keys given to the public methods live apart from the clients' partitions (`p…|`). */
const PUBLIC = 'u|';

/** Options of {@link UnwrappedKeyCache}. */
export interface UnwrappedKeyCacheOptions {
  /** Most keys held; the least recently used is evicted (and wiped) beyond it. Default 1,000. */
  maxEntries?: number;
  /** How long a key stays after it was loaded, in ms (hits do not extend it). Default 5 min. */
  ttlMs?: number;
  /**
   * How long a failed unwrap is remembered, in ms: within it, decrypting the same wrapped key
   * again fails at once with the same error and costs no KEK call. Default 10 s (or `ttlMs` when
   * smaller); at most `ttlMs`.
   */
  negativeTtlMs?: number;
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
  /** Unwraps refused from memory because the same wrapped key failed within `negativeTtlMs`. */
  readonly negativeHits: number;
}

/**
 * LRU + TTL cache of unwrapped DEKs as {@link SecretKey}s, keyed by a digest of the wrapped key
 * (`wrappedKeyDigest`). Concurrent misses on one digest share a single load (single-flight); a
 * failed load is not cached. Evicted and expired keys are wiped. Expired entries go lazily on
 * access and by a sweep timer that exists only while the cache holds entries and is `unref()`d,
 * so the cache never keeps a process alive.
 *
 * Sharing: `EnvelopeClient` and `FieldEncryptor` use the cache through partitions keyed by their
 * owner (their KEK objects, and a field encryptor's key-store object), so one cache can serve
 * every client and tenant of a process: a client is only ever served a DEK that a client with
 * the same keys could have unwrapped (docs/security.md §Sharing a cache). Clients also remember
 * failed unwraps for `negativeTtlMs`, in the same partitions. Keys given to {@link get},
 * {@link set} and {@link getOrLoad} live in a namespace of their own.
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
  /** How long a failed unwrap is remembered, ms. */
  readonly negativeTtlMs: number;
  readonly #sweepMs: number;
  readonly #now: () => number;
  readonly #entries: LruTtlMap<SecretKey>;
  readonly #failures: LruTtlMap<EnvelopeError>;
  readonly #expiry = new WeakMap<SecretKey, number>();
  readonly #ids = new WeakMap<object, number>();
  #nextId = 0;
  #core: CacheCore | undefined;
  readonly #inflight = new Map<string, Promise<SecretKey>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #generation = 0;
  #doomed: SecretKey[] = [];
  #hits = 0;
  #misses = 0;
  #loads = 0;
  #evictions = 0;
  #negativeHits = 0;

  constructor(options: UnwrappedKeyCacheOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.maxEntries = options.maxEntries ?? 1000;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    assertPositiveInt(this.maxEntries, 'options.maxEntries');
    assertPositiveInt(this.ttlMs, 'options.ttlMs');
    this.negativeTtlMs = options.negativeTtlMs ?? Math.min(10_000, this.ttlMs);
    assertPositiveInt(this.negativeTtlMs, 'options.negativeTtlMs');
    if (this.negativeTtlMs > this.ttlMs) throw new RangeError('options.negativeTtlMs must be at most options.ttlMs');
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('options.now must be a function');
    }
    // Read lazily: a test that fakes Date after constructing the cache still drives it.
    this.#now = options.now ?? (() => Date.now());
    this.#failures = new LruTtlMap<EnvelopeError>({ maxEntries: this.maxEntries, ttlMs: this.negativeTtlMs, now: this.#now, onRemove: () => {} });
    this.#entries = new LruTtlMap<SecretKey>({
      maxEntries: this.maxEntries,
      ttlMs: this.ttlMs,
      now: this.#now,
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
    return Object.freeze({ hits: this.#hits, misses: this.#misses, loads: this.#loads, evictions: this.#evictions, negativeHits: this.#negativeHits });
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
    return this.#get(PUBLIC + digest);
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
    this.#insert(PUBLIC + digest, key);
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
    return this.#getOrLoad(PUBLIC + digest, load);
  }

  #get(key: string): SecretKey | undefined {
    const hit = this.#lookup(key);
    if (hit !== undefined) this.#hits++;
    return hit;
  }

  #getOrLoad(digest: string, load: () => Promise<Uint8Array>): Promise<SecretKey> {
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
    this.#failures.clear();
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
    return `UnwrappedKeyCache { size: ${this.size}, maxEntries: ${this.maxEntries}, ttlMs: ${this.ttlMs}, hits: ${s.hits}, misses: ${s.misses}, loads: ${s.loads}, evictions: ${s.evictions}, negativeHits: ${s.negativeHits} }`;
  }

  /**
   * The partition of `owner` (the clients' own view; not for application code). Two owners
   * share entries only when they hold the very same KEK objects and the same store object.
   * @internal
   * @example `const mine = cache.partition({ keks, store }); const dek = mine.get(key);`
   */
  partition(owner: CacheOwner): CachePartition {
    this.#core ??= {
      ttlMs: this.ttlMs,
      negativeTtlMs: this.negativeTtlMs,
      now: this.#now,
      get: (key) => this.#get(key),
      set: (key, dek) => this.#insert(key, dek),
      getOrLoad: (key, load) => this.#getOrLoad(key, load),
      failure: (key) => {
        const err = this.#failures.get(key);
        if (err !== undefined) this.#negativeHits++;
        return err;
      },
      remember: (key, err) => void this.#failures.set(key, err),
      expiresAt: (dek) => this.#expiry.get(dek),
      idOf: (o) => {
        let id = this.#ids.get(o);
        if (id === undefined) this.#ids.set(o, (id = ++this.#nextId));
        return id;
      },
    };
    return new CachePartition(this.#core, owner);
  }

  #lookup(digest: string): SecretKey | undefined {
    const key = this.#entries.get(digest);
    if (this.#entries.size === 0) this.#stopTimer();
    return key;
  }

  #insert(digest: string, key: SecretKey): void {
    this.#expiry.set(key, this.#entries.set(digest, key));
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
