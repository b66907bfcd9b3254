/**
 * The named (deterministic) keys an encryptor holds for encryption. Each is memoized with its
 * own copy of the DEK and expires with the cache entry it came from, so a revoked KEK stops
 * named keys within the cache TTL too (docs/security.md §Key lifetimes).
 *
 * @module
 * @internal
 */
import type { CachePartition } from '../../cache/internal/partition.js';
import { raceAbort } from '../../internal/abort.js';
import { SecretKey } from '../../internal/secret.js';
import { type FieldDek, type FieldKeyContext, adoptFieldDek, cacheKey, createFieldDek } from '../records.js';

interface Memo {
  readonly promise: Promise<FieldDek>;
  /** Infinity until the load settles. */
  expiresAt: number;
  /** The key once the load has settled (what {@link NamedKeys.peek} hands out). */
  value?: FieldDek;
}

/** Named keys by name; loads are shared by every caller of one name. */
export class NamedKeys {
  readonly #ctx: FieldKeyContext;
  readonly #cache: CachePartition;
  readonly #memos = new Map<string, Memo>();

  constructor(ctx: FieldKeyContext, cache: CachePartition) {
    this.#ctx = ctx;
    this.#cache = cache;
  }

  /**
   * The DEK named `name`, made on first use. Use it synchronously after the await.
   * @throws {EnvelopeError} when the record cannot be read, made or unwrapped.
   */
  get(name: string, signal?: AbortSignal): Promise<FieldDek> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let memo = this.#memos.get(name);
    if (memo !== undefined && this.#cache.now() >= memo.expiresAt) {
      this.#drop(name, memo);
      memo = undefined;
    }
    if (memo === undefined) {
      const m: Memo = { promise: this.#load(name).then((r) => ((m.expiresAt = r.expiresAt), (m.value = r.dek))), expiresAt: Infinity };
      this.#memos.set(name, m);
      m.promise.catch(() => this.#memos.get(name) === m && this.#memos.delete(name));
      memo = m;
    }
    return raceAbort(memo.promise, signal);
  }

  /**
   * The DEK named `name` when its load has settled and not expired, else undefined (then use
   * {@link get}). Lets a hot path skip an await; same expiry rule as `get`.
   */
  peek(name: string): FieldDek | undefined {
    const memo = this.#memos.get(name);
    if (memo === undefined || memo.value === undefined || this.#cache.now() >= memo.expiresAt) return undefined;
    return memo.value;
  }

  /** Forgets every named key: the next use reads its record again (same DEK). */
  retireAll(): void {
    for (const [name, memo] of this.#memos) this.#drop(name, memo);
  }

  /** Forgets a named key; its own copy is wiped after the callers already holding it are done. */
  #drop(name: string, memo: Memo): void {
    if (this.#memos.get(name) === memo) this.#memos.delete(name);
    memo.promise.then((d) => void setImmediate(() => d.dek.wipe()).unref(), () => {});
  }

  /** Shared by every caller for this name, so it runs without any one caller's signal. */
  async #load(name: string): Promise<{ dek: FieldDek; expiresAt: number }> {
    const record = await this.#ctx.store.getByName(name);
    const d = record !== undefined ? await adoptFieldDek(this.#ctx, record, 'siv') : await createFieldDek(this.#ctx, 'siv', name);
    // Bounded by the cache entry this DEK came through (it may be older than this load).
    const entry = this.#cache.get(cacheKey(d.keyRefHex, 'siv'));
    const expiresAt = Math.min(this.#cache.expiresAt(d.dek), entry === undefined ? Infinity : this.#cache.expiresAt(entry));
    // Own a copy: the cache wipes its entries on eviction.
    return { dek: { ...d, dek: new SecretKey(d.dek.expose().slice()) }, expiresAt };
  }
}
