/**
 * Encrypt-side data-key reuse. One DEK (wrapped once under every KEK) serves many messages
 * until any limit is reached: age, messages or bytes. Then a new DEK is made. Creation is
 * single-flight: a burst of cold encryptions makes one DEK, not one per call.
 *
 * A DEK is also retired as soon as a KEK's `isCurrent` says one of its wrapped keys names a
 * version that KEK would no longer wrap with (rotated, disabled): checked on every acquire,
 * which costs one `isCurrent` call per KEK that implements it and nothing for the others.
 *
 * Limits are required-with-defaults (like the AWS SDK's caching materials manager, which has no
 * unlimited mode): see docs/security.md §Data-key reuse for why each default is safe.
 */
import type { SecretKey } from '../internal/secret.js';
import { assertPositiveInt } from '../internal/bytes.js';
import { raceAbort } from '../internal/abort.js';
import type { WrappedKey } from '../keys/kek.js';
import type { IsCurrent } from './internal/staleness.js';

/** When a reused DEK must be replaced. */
export interface ReuseLimits {
  /** Milliseconds a DEK may be used for after it was made. Default 5 minutes. */
  maxAgeMs?: number;
  /** Messages (envelopes) per DEK. Default 2^32, the bound of per-message HKDF with 256-bit message ids in AWS's analysis. */
  maxMessages?: number;
  /** Plaintext bytes per DEK. Default 2^40 (1 TiB). */
  maxBytes?: number;
}

/** A DEK and its wrapped forms, ready to encrypt with. */
export interface DataKeyMaterial {
  readonly dek: SecretKey;
  readonly wrappedKeys: readonly WrappedKey[];
  /** The envelope's encoded wrapped-key section, built once per DEK. */
  readonly wrappedSection: Uint8Array;
}

interface Entry {
  readonly material: DataKeyMaterial;
  readonly createdAt: number;
  /** Undefined when no KEK can tell, or when the DEK was already stale when made (see #replace). */
  readonly isCurrent: IsCurrent | undefined;
  messages: number;
  bytes: number;
}

export const DEFAULT_REUSE_LIMITS: Required<ReuseLimits> = Object.freeze({
  maxAgeMs: 5 * 60_000,
  maxMessages: 2 ** 32,
  maxBytes: 2 ** 40,
});

/** Resolves user limits against the defaults, validating each. */
export function resolveReuseLimits(limits: ReuseLimits | undefined, name: string): Required<ReuseLimits> {
  const out = { ...DEFAULT_REUSE_LIMITS, ...stripUndefined(limits ?? {}) };
  assertPositiveInt(out.maxAgeMs, `${name}.maxAgeMs`);
  assertPositiveInt(out.maxMessages, `${name}.maxMessages`);
  assertPositiveInt(out.maxBytes, `${name}.maxBytes`);
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Options of {@link EncryptionKeyCache}. */
export interface EncryptionKeyCacheOptions {
  /** The clock, ms. Default `Date.now`. */
  readonly now?: () => number;
  /** The currency check of a new DEK (`bindIsCurrent`), or undefined when no KEK can tell. */
  readonly isCurrentOf?: (material: DataKeyMaterial) => IsCurrent | undefined;
}

/** Holds the current encrypt-side DEK and enforces the limits. */
export class EncryptionKeyCache {
  #current: Entry | undefined;
  #pending: Promise<void> | undefined;

  readonly #limits: Required<ReuseLimits>;
  readonly #now: () => number;
  readonly #isCurrentOf: ((material: DataKeyMaterial) => IsCurrent | undefined) | undefined;

  constructor(limits: Required<ReuseLimits>, options: EncryptionKeyCacheOptions = {}) {
    this.#limits = limits;
    this.#now = options.now ?? (() => Date.now());
    this.#isCurrentOf = options.isCurrentOf;
  }

  /**
   * Returns material for one message of `byteCount` bytes (0 when unknown, e.g. a stream; call
   * {@link addBytes} as it flows), making a new DEK with `create` when the current one is used up.
   * Use the DEK synchronously after the await: a retired DEK is wiped on the next macrotask.
   */
  async acquire(byteCount: number, create: () => Promise<DataKeyMaterial>, signal?: AbortSignal): Promise<DataKeyMaterial> {
    signal?.throwIfAborted(); // an already-aborted caller starts no shared work
    if (byteCount > this.#limits.maxBytes) return create(); // never fits: a one-off DEK
    for (;;) {
      const e = this.#current;
      if (e !== undefined && this.#fits(e, byteCount)) {
        e.messages += 1;
        e.bytes += byteCount;
        return e.material;
      }
      this.#pending ??= this.#replace(create);
      // Creation is shared by every waiting caller: `signal` stops only this caller's wait.
      await raceAbort(this.#pending, signal);
    }
  }

  /** Counts streamed bytes against the DEK that `material` belongs to, if still current. */
  addBytes(material: DataKeyMaterial, byteCount: number): void {
    if (this.#current?.material === material) this.#current.bytes += byteCount;
  }

  /** Forgets (and wipes) the current DEK; the next message makes a new one. */
  clear(): void {
    this.#retire(this.#current);
    this.#current = undefined;
  }

  #fits(e: Entry, byteCount: number): boolean {
    return (
      this.#now() - e.createdAt < this.#limits.maxAgeMs &&
      e.messages < this.#limits.maxMessages &&
      e.bytes + byteCount <= this.#limits.maxBytes &&
      (e.isCurrent === undefined || e.isCurrent())
    );
  }

  async #replace(create: () => Promise<DataKeyMaterial>): Promise<void> {
    try {
      const material = await create();
      let isCurrent = this.#isCurrentOf?.(material);
      // A KEK that calls its own fresh wrap stale would make a DEK per message: stop asking for
      // this DEK (its age limit still ends it) rather than loop.
      if (isCurrent !== undefined && !isCurrent()) isCurrent = undefined;
      this.#retire(this.#current);
      this.#current = { material, createdAt: this.#now(), isCurrent, messages: 0, bytes: 0 };
    } finally {
      this.#pending = undefined;
    }
  }

  #retire(e: Entry | undefined): void {
    if (e === undefined) return;
    // Callers use the DEK synchronously after their await; by the next macrotask they are done.
    setImmediate(() => e.material.dek.wipe()).unref();
  }
}
