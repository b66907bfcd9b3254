/**
 * The checkpoint contract of {@link rewrapEnvelopes}: what is recorded, when, and what a
 * resumed run does with it.
 *
 * **What "done" means.** The engine yields results in source order. A result counts as
 * handed over once the consumer asks for the next one (`for await` pulls the next item only
 * after the loop body finished), or when the iterator completes. Leaving the loop with
 * `break`/`return`/`throw` does NOT hand over the last result: the consumer may have failed
 * to store it. The checkpoint records the id of the last handed-over item and how many
 * source items precede and include it (`position`).
 *
 * **The consumer's side.** Make each result durable (e.g. write to a temp file, then rename
 * it over the original) *before* asking for the next one. Then everything the checkpoint
 * calls done really is done, whenever the process dies.
 *
 * **When it is written.** Every `everyItems` handed-over items or `everyMs` ms (checked as
 * items are handed over), and when the run ends however it ends. A file checkpoint is
 * replaced atomically (temp file, fsync, rename, directory fsync): a crash leaves the old
 * state or the new one. After a crash, at most `everyItems` (or `everyMs` worth of) items
 * past the checkpoint are re-done; a re-done item is already under the target, so it is
 * reported `skipped` and costs no vault call.
 *
 * **Resuming.** A resumed run reads the whole source again and processes every item; items
 * within the checkpoint's `position` that turn out to be already under the targets are passed
 * over silently (counted as `resumed`, not yielded, no vault call). Anything else there is
 * processed and yielded like any item: one inserted before the position since the checkpoint
 * was written, one restored from a backup, one that failed before (failures are retried). So
 * a source whose order or content changed between runs is never skipped unseen, and the
 * checkpoint needs no fingerprint of the source. The checkpoint assumes results are stored
 * back where they were read (in place): a job that copies items elsewhere keeps its own
 * position (as `kv-envelope rewrap --jsonl` does). A checkpoint written for other targets
 * makes the run refuse with {@link RewrapCheckpointError}; a run that completed marks its
 * checkpoint `complete`, and the next run starts from the beginning.
 *
 * @module
 */
import { assertPositiveInt } from '../../internal/bytes.js';

/** The durable state of a run. */
export interface CheckpointState {
  readonly version: 1;
  /** Id of the last source item whose result the consumer took. */
  readonly lastId: string;
  /** Number of source items up to and including `lastId`. */
  readonly position: number;
  /** True when the run reached the end of its source; the next run starts over. */
  readonly complete: boolean;
  /** The `id`s of the target KEKs (`to`): a checkpoint is only resumed for the same targets. */
  readonly targets: readonly string[];
  /** Outcomes over every run that contributed to this checkpoint. */
  readonly counts: { readonly rewrapped: number; readonly skipped: number; readonly failed: number };
  /** ISO 8601 time of the save. */
  readonly updatedAt: string;
}

/** Where checkpoint states live. `save` must be atomic: a crash leaves the old or the new state. */
export interface CheckpointStore {
  /** The saved state, or undefined when none exists. */
  load(options?: { signal?: AbortSignal }): Promise<CheckpointState | undefined>;
  save(state: CheckpointState, options?: { signal?: AbortSignal }): Promise<void>;
}

/** The `checkpoint` option: a file path or a store, and how often to save. */
export interface CheckpointOptions {
  /** A JSON file (see {@link FileCheckpoint}). Give `path` or `store`, not both. */
  path?: string;
  /** Any atomic store of checkpoint states. */
  store?: CheckpointStore;
  /** Save after this many handed-over items (default 1,000). */
  everyItems?: number;
  /** Save when this much time passed since the last save, ms (default 5,000). */
  everyMs?: number;
}

/**
 * A checkpoint that cannot be used: corrupt, or written for other targets. Nothing was re-wrapped by the run that rejected with it; delete the checkpoint to start
 * over (items already re-wrapped are then skipped as already current).
 *
 * @example
 * ```ts
 * try {
 *   for await (const r of rewrapEnvelopes(source, { to: [kek], checkpoint: path })) await store(r);
 * } catch (err) {
 *   if (err instanceof RewrapCheckpointError) console.error(`${err.message} (${err.code})`);
 *   else throw err;
 * }
 * ```
 */
export class RewrapCheckpointError extends Error {
  /** Stable machine-readable code. */
  readonly code = 'ERR_REWRAP_CHECKPOINT' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/**
 * Checks that `value` is a {@link CheckpointState} (e.g. just parsed from a file).
 * @throws {RewrapCheckpointError} naming the first bad field.
 */
export function assertCheckpointState(value: unknown, where: string): asserts value is CheckpointState {
  const bad = (what: string): never => {
    throw new RewrapCheckpointError(`${where} is not a re-wrap checkpoint: ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('not an object');
  const s = value as Record<string, unknown>;
  if (s.version !== 1) bad(`unsupported version ${JSON.stringify(s.version)}`);
  if (typeof s.lastId !== 'string') bad('lastId must be a string');
  if (!Number.isSafeInteger(s.position) || (s.position as number) < 1) bad('position must be a positive integer');
  if (typeof s.complete !== 'boolean') bad('complete must be a boolean');
  if (!Array.isArray(s.targets) || !s.targets.every((t) => typeof t === 'string')) bad('targets must be strings');
  const c = s.counts as Record<string, unknown> | null;
  if (c === null || typeof c !== 'object') bad('counts must be an object');
  for (const k of ['rewrapped', 'skipped', 'failed']) {
    if (!Number.isSafeInteger(c![k]) || (c![k] as number) < 0) bad(`counts.${k} must be a non-negative integer`);
  }
  if (typeof s.updatedAt !== 'string') bad('updatedAt must be a string');
}

/** Validated checkpoint settings. */
export interface ResolvedCheckpoint {
  readonly store: CheckpointStore;
  readonly everyItems: number;
  readonly everyMs: number;
}

/**
 * Validates the `checkpoint` option; `makeFileStore` turns a path into a store.
 * @throws {TypeError | RangeError} naming the bad option.
 */
export function resolveCheckpoint(
  option: string | CheckpointOptions | undefined,
  makeFileStore: (path: string) => CheckpointStore,
): ResolvedCheckpoint | undefined {
  if (option === undefined) return undefined;
  const o: CheckpointOptions = typeof option === 'string' ? { path: option } : option;
  if (o === null || typeof o !== 'object') throw new TypeError('options.checkpoint must be a path or { path | store, everyItems?, everyMs? }');
  if ((o.path === undefined) === (o.store === undefined)) throw new TypeError('options.checkpoint needs exactly one of path and store');
  let store: CheckpointStore;
  if (o.store !== undefined) {
    if (o.store === null || typeof o.store.load !== 'function' || typeof o.store.save !== 'function') {
      throw new TypeError('options.checkpoint.store must have load() and save()');
    }
    store = o.store;
  } else {
    if (typeof o.path !== 'string' || o.path === '') throw new TypeError('options.checkpoint.path must be a non-empty string');
    store = makeFileStore(o.path);
  }
  const everyItems = o.everyItems ?? 1000;
  const everyMs = o.everyMs ?? 5000;
  assertPositiveInt(everyItems, 'options.checkpoint.everyItems');
  assertPositiveInt(everyMs, 'options.checkpoint.everyMs');
  return { store, everyItems, everyMs };
}
