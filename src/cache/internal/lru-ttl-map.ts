/**
 * A bounded map with least-recently-used eviction and a fixed time to live per entry, the
 * storage under {@link UnwrappedKeyCache}. It owns no timers: the cache decides when to
 * `sweep()`. Every value that leaves the map, except through `clear()`, is reported to
 * `onRemove` with the reason, so the owner can wipe it and count it.
 *
 * LRU order is the insertion order of a JS `Map`: a hit deletes and re-inserts its entry, so
 * the first entry is always the least recently used and eviction is O(1).
 *
 * @module
 */

/** Why a value left the map. */
export type RemovalReason = 'lru' | 'expired' | 'replaced';

/** Settings of {@link LruTtlMap}. */
export interface LruTtlMapOptions<V> {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly onRemove: (value: V, reason: RemovalReason) => void;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * LRU + TTL map keyed by strings. Not thread-safe in any sense JS needs: every method is
 * synchronous and completes its changes before returning.
 *
 * @example
 * ```ts
 * const map = new LruTtlMap<string>({ maxEntries: 2, ttlMs: 1000, now: Date.now, onRemove: () => {} });
 * map.set('a', 'A');
 * map.get('a'); // 'A', now most recently used
 * ```
 */
export class LruTtlMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #options: LruTtlMapOptions<V>;

  constructor(options: LruTtlMapOptions<V>) {
    this.#options = options;
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The live value for `key`, refreshing its LRU position (never its expiry). An expired entry
   * is removed (`'expired'`) and reads as absent.
   * @example `const value = map.get('a');`
   */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (this.#options.now() >= entry.expiresAt) {
      this.#options.onRemove(entry.value, 'expired');
      return undefined;
    }
    this.#entries.set(key, entry);
    return entry.value;
  }

  /**
   * Inserts `value` as most recently used, expiring `ttlMs` from now. A different previous
   * value under `key` is removed (`'replaced'`); beyond `maxEntries` the least recently used
   * entries go (`'lru'`). Returns the entry's expiry time (ms, on the map's clock).
   * @example `map.set('a', value);`
   */
  set(key: string, value: V): number {
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      if (previous.value !== value) this.#options.onRemove(previous.value, 'replaced');
    }
    const expiresAt = this.#options.now() + this.#options.ttlMs;
    this.#entries.set(key, { value, expiresAt });
    for (const [oldest, victim] of this.#entries) {
      if (this.#entries.size <= this.#options.maxEntries) break;
      this.#entries.delete(oldest);
      this.#options.onRemove(victim.value, 'lru');
    }
    return expiresAt;
  }

  /**
   * Removes every expired entry (`'expired'`). O(n): hits reorder entries, so expiry order is
   * not insertion order.
   * @example `map.sweep();`
   */
  sweep(): void {
    const now = this.#options.now();
    for (const [key, entry] of this.#entries) {
      if (now < entry.expiresAt) continue;
      this.#entries.delete(key);
      this.#options.onRemove(entry.value, 'expired');
    }
  }

  /**
   * Empties the map and returns the values it held, without reporting them to `onRemove`.
   * @example `for (const v of map.clear()) dispose(v);`
   */
  clear(): V[] {
    const values = [...this.#entries.values()].map((e) => e.value);
    this.#entries.clear();
    return values;
  }
}
