/**
 * Options of the re-wrap runs and their validation (caller mistakes are TypeError/RangeError,
 * thrown synchronously when the run is created, before anything is read).
 *
 * @module
 */
import type { KeyEncryptionKey } from '../keys/kek.js';
import { normalizeKeks } from '../keys/normalize.js';
import { assertPositiveInt } from '../internal/bytes.js';
import type { CheckpointOptions } from './checkpoint/checkpoint.js';
import type { RewrapProgress } from './results.js';

/** Options shared by {@link rewrapEnvelopes} and {@link rewrapKeyStore}. */
export interface RewrapOptions {
  /**
   * The KEKs to re-wrap under: every item ends with exactly one wrapped key per KEK here, in
   * this order. Each KEK with a `refresh()` method (e.g. `KeyVaultKek`) is refreshed once at
   * the start, so new wraps name its latest key version.
   */
  to: KeyEncryptionKey | readonly KeyEncryptionKey[];
  /** The KEKs allowed to unwrap the current wrapped keys (default: `to`). */
  from?: KeyEncryptionKey | readonly KeyEncryptionKey[];
  /** Items processed at once, and read ahead of the consumer at most (default 8, at most 1,024). */
  concurrency?: number;
  /** Aborts the run: the iterator rejects with the signal's reason (the checkpoint is saved first). */
  signal?: AbortSignal;
  /**
   * Report, change nothing: results say `would-rewrap`, `skipped` or `failed` (malformed, no
   * matching KEK). No key is unwrapped; the targets are still refreshed and probed, and a
   * checkpoint is read but never written.
   */
  dryRun?: boolean;
  /**
   * After wrapping a DEK under the targets, unwrap each new wrapped key with its KEK and check
   * it gives the same DEK (one more unwrap per target per distinct DEK: for `KeyVaultKek`,
   * vault calls double); for envelopes, also re-parse each output and check its key commitment
   * with that DEK. Results then carry `verified: true`; a mismatch fails the item.
   */
  verify?: boolean;
  /** Called with progress at most every `progressIntervalMs`, and once at the end (`final: true`). */
  onProgress?: (progress: RewrapProgress) => void;
  /** Minimum time between progress events, ms (default 1,000; 0 reports every result). */
  progressIntervalMs?: number;
  /** The number of source items, when known: progress then has an ETA. */
  total?: number;
}

/** Options of {@link rewrapEnvelopes}. */
export interface RewrapEnvelopesOptions extends RewrapOptions {
  /**
   * Record progress durably so a killed run resumes: a file path, or `{ path | store,
   * everyItems?, everyMs? }`. See the checkpoint contract in `CheckpointState`'s module docs.
   */
  checkpoint?: string | CheckpointOptions;
  /** Distinct DEKs remembered by the run (default 10,000; ~1 KiB each). */
  maxCachedDeks?: number;
}

/** Options of {@link rewrapKeyStore}. */
export interface RewrapKeyStoreOptions extends RewrapOptions {
  /** Compare-and-swap attempts per record before a conflict is reported as a failure (default 3). */
  maxAttempts?: number;
}

/** Validated common options. */
export interface ResolvedRewrapOptions {
  readonly to: readonly KeyEncryptionKey[];
  readonly from: readonly KeyEncryptionKey[];
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
  readonly dryRun: boolean;
  readonly verify: boolean;
  readonly onProgress: ((progress: RewrapProgress) => void) | undefined;
  readonly progressIntervalMs: number;
  readonly total: number | undefined;
}

const MAX_CONCURRENCY = 1024;

/**
 * Validates the options common to both modes.
 * @throws {TypeError | RangeError} naming the bad option.
 */
export function resolveRewrapOptions(options: RewrapOptions): ResolvedRewrapOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object with at least `to`');
  if (options.to === undefined) throw new TypeError('options.to must name the key-encryption key(s) to re-wrap under');
  const to = normalizeKeks(options.to, 'options.to');
  const from = options.from === undefined ? to : normalizeKeks(options.from, 'options.from');
  const concurrency = options.concurrency ?? 8;
  assertPositiveInt(concurrency, 'options.concurrency');
  if (concurrency > MAX_CONCURRENCY) throw new RangeError(`options.concurrency must be at most ${MAX_CONCURRENCY}`);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  for (const flag of ['dryRun', 'verify'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw new TypeError(`options.${flag} must be a boolean`);
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('options.onProgress must be a function');
  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  if (typeof progressIntervalMs !== 'number' || !Number.isSafeInteger(progressIntervalMs)) {
    throw new TypeError('options.progressIntervalMs must be an integer');
  }
  if (progressIntervalMs < 0) throw new RangeError('options.progressIntervalMs must not be negative');
  if (options.total !== undefined && (!Number.isSafeInteger(options.total) || options.total < 0)) {
    throw new RangeError('options.total must be a non-negative integer');
  }
  return {
    to, from, concurrency, signal,
    dryRun: options.dryRun ?? false,
    verify: options.verify ?? false,
    onProgress: options.onProgress,
    progressIntervalMs,
    total: options.total,
  };
}

/**
 * Validates an optional positive integer option.
 * @throws {TypeError | RangeError} naming it.
 */
export function positiveIntOption(value: unknown, fallback: number, name: string): number {
  const v = value ?? fallback;
  assertPositiveInt(v, name);
  return v;
}
