/**
 * The randomized-mode DEK currently used for encryption, and when it is retired. A random
 * 96-bit nonce per value bounds safe use of one AES-GCM key: NIST SP 800-38D §8.3 caps it at
 * 2^32 encryptions; the default 2^30 keeps the nonce-collision probability below 2^-35.
 * The DEK is also retired once a KEK's `isCurrent` says its record names a stale version
 * (checked on every encryption, only when some KEK implements `isCurrent`).
 */
import { assertPositiveInt } from '../internal/bytes.js';
import { raceAbort } from '../internal/abort.js';
import type { IsCurrent } from '../cache/internal/staleness.js';
import type { FieldDek } from './records.js';

/** When the active DEK of a {@link FieldEncryptor} is replaced. */
export interface FieldLimits {
  /** Encryptions per DEK (default 2^30, at most 2^32). */
  maxEncryptionsPerDek?: number;
  /** Age after which a DEK stops encrypting, ms (default 24 hours). */
  maxDekAgeMs?: number;
}

const MAX_ENCRYPTIONS_CEILING = 2 ** 32;

/** Validates limits against the defaults. */
export function resolveFieldLimits(limits: FieldLimits | undefined): Required<FieldLimits> {
  const out = {
    maxEncryptionsPerDek: limits?.maxEncryptionsPerDek ?? 2 ** 30,
    maxDekAgeMs: limits?.maxDekAgeMs ?? 24 * 60 * 60_000,
  };
  assertPositiveInt(out.maxEncryptionsPerDek, 'options.limits.maxEncryptionsPerDek');
  assertPositiveInt(out.maxDekAgeMs, 'options.limits.maxDekAgeMs');
  if (out.maxEncryptionsPerDek > MAX_ENCRYPTIONS_CEILING) {
    throw new RangeError('options.limits.maxEncryptionsPerDek must be at most 2^32 (NIST SP 800-38D random-nonce bound)');
  }
  return out;
}

/** A new active DEK and, when some KEK can tell, the check that its record is still current. */
export interface ActiveDekMaterial {
  readonly dek: FieldDek;
  readonly isCurrent?: IsCurrent | undefined;
}

/** Holds the active DEK; replacement is single-flight. */
export class ActiveDek {
  #dek: FieldDek | undefined;
  #isCurrent: IsCurrent | undefined;
  #createdAt = 0;
  #uses = 0;
  #pending: Promise<FieldDek> | undefined;

  readonly #limits: Required<FieldLimits>;
  readonly #create: () => Promise<ActiveDekMaterial>;
  readonly #now: () => number;

  constructor(limits: Required<FieldLimits>, create: () => Promise<ActiveDekMaterial>, now: () => number = () => Date.now()) {
    this.#limits = limits;
    this.#create = create;
    this.#now = now;
  }

  /** The active DEK with one use counted, or undefined when a new one is needed. */
  current(): FieldDek | undefined {
    const d = this.#dek;
    if (
      d === undefined || this.#uses >= this.#limits.maxEncryptionsPerDek || this.#now() - this.#createdAt >= this.#limits.maxDekAgeMs ||
      (this.#isCurrent !== undefined && !this.#isCurrent())
    ) {
      return undefined;
    }
    this.#uses++;
    return d;
  }

  /**
   * Waits for (or starts) the replacement, then returns a DEK with one use counted. The
   * replacement is shared, so `signal` stops only this caller's wait.
   */
  async next(signal?: AbortSignal): Promise<FieldDek> {
    signal?.throwIfAborted(); // an already-aborted caller starts no shared work
    for (;;) {
      const d = this.current();
      if (d !== undefined) return d;
      this.#pending ??= this.#replace();
      await raceAbort(this.#pending, signal);
    }
  }

  /** Up to `count` uses of the active DEK at once (fewer when its limit is near), or undefined. */
  reserve(count: number): { dek: FieldDek; count: number } | undefined {
    const d = this.current();
    if (d === undefined) return undefined;
    const extra = Math.max(0, Math.min(count - 1, this.#limits.maxEncryptionsPerDek - this.#uses));
    this.#uses += extra;
    return { dek: d, count: 1 + extra };
  }

  /** Forces the next encryption to make a new DEK. */
  retire(): void {
    this.#uses = this.#limits.maxEncryptionsPerDek;
  }

  async #replace(): Promise<FieldDek> {
    try {
      const { dek, isCurrent } = await this.#create();
      const old = this.#dek;
      this.#dek = dek;
      // A KEK that calls its own fresh wrap stale would make a record per value: stop asking for
      // this DEK (its limits still end it) rather than loop.
      this.#isCurrent = isCurrent !== undefined && isCurrent() ? isCurrent : undefined;
      this.#createdAt = this.#now();
      this.#uses = 0;
      // Encryptions in flight finished synchronously after their await; wipe on the next macrotask.
      if (old !== undefined) setImmediate(() => old.dek.wipe()).unref();
      return dek;
    } finally {
      this.#pending = undefined;
    }
  }
}
