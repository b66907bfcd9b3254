/**
 * What a re-wrap run yields, item by item, and the progress events it reports. Every result
 * carries the source item's `id`; a `status` field discriminates the outcomes, and
 * {@link rewrapResultToJSON} gives a JSON-ready record of any result (for logs and the CLI).
 *
 * @module
 */
import type { EnvelopeError } from '../errors.js';

/** Why an item was skipped: its wrapped keys already name exactly the targets' current kekIds. */
export type RewrapSkipReason = 'already-current';

/**
 * Which source bytes a result of {@link rewrapEnvelopes} was computed from. A writer may have
 * replaced the item since it was read: store a re-wrapped envelope only where the item still
 * holds these bytes (compare-and-swap; for files, {@link replaceFileIfUnchanged}), or the
 * writer's newer content is rolled back to the re-wrapped old one.
 */
export interface SourceBound {
  /** SHA-256 of the source item's envelope bytes, lowercase hex (see {@link envelopeDigest}). */
  readonly sourceDigest: string;
}

/** An envelope whose wrapped-key section was replaced; every other byte is unchanged. */
export interface RewrappedEnvelope extends SourceBound {
  readonly status: 'rewrapped';
  readonly id: string;
  /** The new envelope: write it where the old one was, if that still holds `sourceDigest`. */
  readonly envelope: Uint8Array;
  /** The (versioned) kekIds of the new wrapped keys, in `to` order. */
  readonly kekIds: readonly string[];
  /** True when `verify` was on and the new wrapping was checked (see `RewrapOptions.verify`). */
  readonly verified: boolean;
}

/** A key-store record whose wrapped DEKs were replaced (compare-and-swap on its revision). */
export interface RewrappedRecord {
  readonly status: 'rewrapped';
  /** The record's keyRef. */
  readonly id: string;
  /** The record's revision after the update. */
  readonly revision: number;
  readonly kekIds: readonly string[];
  readonly verified: boolean;
}

/** Dry run only: the item would be re-wrapped (no key was unwrapped, nothing changed). */
export interface PlannedRewrap {
  readonly status: 'would-rewrap';
  readonly id: string;
  readonly dryRun: true;
  /** The kekIds the item's wrapped keys name today. */
  readonly currentKekIds: readonly string[];
}

/** The item needs no work. */
export interface SkippedItem {
  readonly status: 'skipped';
  readonly id: string;
  readonly skipped: true;
  readonly reason: RewrapSkipReason;
}

/**
 * The item could not be re-wrapped; the run goes on. `error.code` says why, e.g.
 * `ERR_ENVELOPE_MALFORMED`, `ERR_NO_MATCHING_KEK`, `ERR_DECRYPTION_FAILED` (the unwrapped DEK
 * does not match the envelope's key commitment, or the KEK rejected the wrapped key),
 * `ERR_KEY_NOT_ALLOWED`, `ERR_KEY_DISABLED`, `ERR_KEK_UNAVAILABLE`, `ERR_KEY_STORE`.
 */
export interface FailedItem {
  readonly status: 'failed';
  readonly id: string;
  readonly error: EnvelopeError;
}

/** One result of {@link rewrapEnvelopes}: every status carries the `sourceDigest` of its item. */
export type EnvelopeRewrapResult = RewrappedEnvelope | ((PlannedRewrap | SkippedItem | FailedItem) & SourceBound);

/** What one envelope's processing gives, before the engine attaches the source digest. */
export type EnvelopeOutcome = Omit<RewrappedEnvelope, 'sourceDigest'> | PlannedRewrap | SkippedItem | FailedItem;

/** One result of {@link rewrapKeyStore}. */
export type KeyStoreRewrapResult = RewrappedRecord | PlannedRewrap | SkippedItem | FailedItem;

/**
 * A progress report. Counts cover this run only; items skipped because a checkpoint says an
 * earlier run handed them over are counted in `resumed`, not in `done`.
 */
export interface RewrapProgress {
  /** Results handed to the consumer so far: `rewrapped + skipped + failed`. */
  readonly done: number;
  /** Re-wrapped items (in a dry run: items that would be re-wrapped). */
  readonly rewrapped: number;
  readonly skipped: number;
  readonly failed: number;
  /** Source items passed over because a checkpoint recorded them as done. */
  readonly resumed: number;
  /** The caller's `total`, when given. */
  readonly total?: number;
  /** Items per second over this run. */
  readonly rate: number;
  /** Estimated time left, ms; present when `total` was given and the rate is known. */
  readonly etaMs?: number;
  readonly elapsedMs: number;
  /** True on the last event of a run (sent however the run ends). */
  readonly final: boolean;
  /**
   * On the final event of a run that reached the end of its source: how many of the items it
   * saw are still not under the targets once the consumer stored every re-wrapped result —
   * `failed` items, plus `would-rewrap` ones in a dry run. Every item of the source is looked at
   * in every run (a resumed run too), so 0 means the whole source is under the targets. Check
   * what was actually stored with {@link verifyEnvelopes}.
   */
  readonly remaining?: number;
}

/** The JSON form of a result: no envelope bytes, errors as `{ name, code, message }`. */
export interface RewrapResultJson {
  id: string;
  status: 'rewrapped' | 'would-rewrap' | 'skipped' | 'failed';
  /** Envelope results: SHA-256 of the source bytes, hex. */
  sourceDigest?: string;
  kekIds?: string[];
  currentKekIds?: string[];
  revision?: number;
  verified?: boolean;
  reason?: RewrapSkipReason;
  error?: { name: string; code: string; message: string };
}

/**
 * A JSON-ready description of a result (for a log line or a report file). Envelope bytes are
 * left out; an error becomes `{ name, code, message }` (messages never carry key material).
 *
 * @throws {TypeError} when `result` is not a re-wrap result.
 * @example
 * ```ts
 * for await (const result of rewrapEnvelopes(source, { to: [kek] })) {
 *   if (result.status === 'rewrapped') await save(result.id, result.envelope);
 *   console.log(JSON.stringify(rewrapResultToJSON(result)));
 * }
 * ```
 */
export function rewrapResultToJSON(result: EnvelopeRewrapResult | KeyStoreRewrapResult): RewrapResultJson {
  if (result === null || typeof result !== 'object' || typeof result.id !== 'string') {
    throw new TypeError('result must be a re-wrap result');
  }
  const digest = typeof (result as Partial<SourceBound>).sourceDigest === 'string' ? { sourceDigest: (result as SourceBound).sourceDigest } : {};
  switch (result.status) {
    case 'rewrapped':
      return {
        id: result.id,
        status: 'rewrapped',
        kekIds: [...result.kekIds],
        ...('revision' in result ? { revision: result.revision } : {}),
        verified: result.verified,
        ...digest,
      };
    case 'would-rewrap':
      return { id: result.id, status: 'would-rewrap', currentKekIds: [...result.currentKekIds], ...digest };
    case 'skipped':
      return { id: result.id, status: 'skipped', reason: result.reason, ...digest };
    case 'failed': {
      const { name, code, message } = result.error;
      return { id: result.id, status: 'failed', error: { name, code, message }, ...digest };
    }
    default:
      throw new TypeError('result must be a re-wrap result');
  }
}
