/**
 * The per-run map that makes vault calls scale with distinct DEKs: digest of an old wrapped
 * key → the DEK it unwrapped to and the new wrapped-key section for it. Concurrent items under
 * one DEK share one unwrap (single-flight); the map is an LRU, so memory is bounded however
 * many DEKs a run meets. Envelopes are usually grouped by DEK (an EnvelopeClient reuses a DEK
 * for many consecutive messages), so a small map already gives one unwrap per DEK; items of
 * one DEK scattered across more than `maxEntries` other DEKs may cost an extra unwrap.
 *
 * Failures that will not change within a run (the key is disabled, not allowed, the bytes do
 * not unwrap…) are remembered too, so a broken DEK shared by many items costs one vault call;
 * `ERR_KEK_UNAVAILABLE` (throttling, outages) is not remembered: the next item tries again.
 *
 * @module
 * @internal
 */
import { EnvelopeError, KekUnavailableError } from '../../errors.js';
import type { SecretKey } from '../../internal/secret.js';
import { LruTtlMap } from '../../cache/internal/lru-ttl-map.js';
import type { WrappedKey } from '../../keys/kek.js';

/** A DEK re-wrapped under the targets. */
export interface RewrappedDek {
  /** The DEK, to check each envelope's key commitment. Wiped when the entry leaves the map. */
  readonly dek: SecretKey;
  /** The DEK wrapped under every target, in `to` order. */
  readonly wrappedKeys: readonly WrappedKey[];
  /** `wrappedKeys` encoded as an envelope's wrapped-key section. */
  readonly section: Uint8Array;
  readonly kekIds: readonly string[];
}

type Entry = { readonly ok: true; readonly value: RewrappedDek } | { readonly ok: false; readonly error: EnvelopeError };

const NEVER_EXPIRES = Number.MAX_SAFE_INTEGER / 2;

/**
 * Any failure as an EnvelopeError: a KEK implementation that throws something else is treated
 * as unavailable (with the original as `cause`), so that the item fails and the run goes on.
 */
export function asEnvelopeError(err: unknown): EnvelopeError {
  if (err instanceof EnvelopeError) return err;
  return new KekUnavailableError('the key-encryption key failed unexpectedly', { cause: err });
}

/** See the module docs. */
export class RewrapDekCache {
  readonly #entries: LruTtlMap<Entry>;
  readonly #inflight = new Map<string, Promise<RewrappedDek>>();
  #loads = 0;
  #closed = false;

  constructor(maxEntries: number) {
    this.#entries = new LruTtlMap<Entry>({
      maxEntries,
      ttlMs: NEVER_EXPIRES,
      now: () => 0,
      // Wiped at once: an item whose continuation finds its DEK wiped loads it again on its own.
      onRemove: (entry) => {
        if (entry.ok) entry.value.dek.wipe();
      },
    });
  }

  /** How many loads ran (one per distinct wrapped key, barring evictions and transient failures). */
  get loads(): number {
    return this.#loads;
  }

  /**
   * The entry for `digest`: remembered, joined while in flight, or loaded now. An entry evicted
   * meanwhile has its DEK wiped: check `dek.wiped` after the await.
   * @throws {EnvelopeError} the load's failure (remembered unless `ERR_KEK_UNAVAILABLE`).
   * @throws {unknown} an abort reason, never remembered.
   */
  get(digest: string, load: () => Promise<RewrappedDek>, signal: AbortSignal): Promise<RewrappedDek> {
    const hit = this.#entries.get(digest);
    if (hit !== undefined) return hit.ok ? Promise.resolve(hit.value) : Promise.reject(hit.error);
    const pending = this.#inflight.get(digest);
    if (pending !== undefined) return pending;
    this.#loads++;
    const promise = Promise.resolve()
      .then(load)
      .then(
        (value) => {
          this.#inflight.delete(digest);
          if (this.#closed) value.dek.wipe(); // finished after the run ended
          else this.#entries.set(digest, { ok: true, value });
          return value;
        },
        (err: unknown) => {
          this.#inflight.delete(digest);
          if (signal.aborted) throw err;
          const error = asEnvelopeError(err);
          if (error.code !== 'ERR_KEK_UNAVAILABLE') this.#entries.set(digest, { ok: false, error });
          throw error;
        },
      );
    promise.catch(() => undefined); // every waiter handles it; this copy must not be reported
    this.#inflight.set(digest, promise);
    return promise;
  }

  /** Wipes every DEK held and keeps nothing loaded later (at the end of a run). */
  clear(): void {
    this.#closed = true;
    for (const entry of this.#entries.clear()) if (entry.ok) entry.value.dek.wipe();
    this.#inflight.clear();
  }
}
