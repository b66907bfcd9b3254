/**
 * The engine's side of the checkpoint contract (checkpoint.ts): loading and checking the state,
 * passing over the items an earlier run handed over, and saving as items are handed over.
 *
 * @module
 * @internal
 */
import type { CheckpointState, ResolvedCheckpoint } from './checkpoint.js';
import { RewrapCheckpointError } from './checkpoint.js';

/** Outcome counts, as stored in a checkpoint. */
export interface OutcomeCounts {
  rewrapped: number;
  skipped: number;
  failed: number;
}

/** Tracks one run's checkpoint. Not safe for concurrent use: the engine calls it in order. */
export class CheckpointTracker {
  readonly #settings: ResolvedCheckpoint;
  readonly #targets: readonly string[];
  readonly #readOnly: boolean;
  readonly #now: () => number;
  /** How many source items the checkpoint being resumed covers (0: nothing to resume). */
  #covered = 0;
  #read = 0;
  #position = 0;
  #lastId: string | undefined;
  #savedPosition = 0;
  #savedAt = 0;
  #base: OutcomeCounts = { rewrapped: 0, skipped: 0, failed: 0 };

  /** `readOnly` (dry runs) loads and resumes but never saves. */
  constructor(settings: ResolvedCheckpoint, targets: readonly string[], readOnly: boolean, now: () => number = Date.now) {
    this.#settings = settings;
    this.#targets = targets;
    this.#readOnly = readOnly;
    this.#now = now;
  }

  /**
   * Loads the saved state. A complete checkpoint is not resumed (the run starts over).
   * @throws {RewrapCheckpointError} when it was written for other targets or is corrupt.
   */
  async load(signal: AbortSignal): Promise<void> {
    const state = await this.#settings.store.load({ signal });
    this.#savedAt = this.#now();
    if (state === undefined || state.complete) return;
    if (state.targets.length !== this.#targets.length || state.targets.some((t, i) => t !== this.#targets[i])) {
      throw new RewrapCheckpointError(
        `the checkpoint was written for targets [${state.targets.join(', ')}], not [${this.#targets.join(', ')}]: delete it to start over`,
      );
    }
    this.#covered = state.position;
    this.#base = { ...state.counts };
  }

  /**
   * Called for every source item in order, before any work: true when the item is within the
   * resumed checkpoint's position. The engine still processes it, and passes over it silently
   * only if it turns out to be already under the targets: a source that changed since (an item
   * inserted before the position, or restored from a backup) is never skipped unseen.
   */
  covers(): boolean {
    return ++this.#read <= this.#covered;
  }

  /**
   * The consumer took the result of `id` (the next item in source order), or the engine passed
   * over it as already done; saves when due.
   */
  async handedOver(id: string, counts: OutcomeCounts, signal: AbortSignal): Promise<void> {
    this.#position++;
    this.#lastId = id;
    const due = this.#position - this.#savedPosition >= this.#settings.everyItems || this.#now() - this.#savedAt >= this.#settings.everyMs;
    if (due) await this.#save(false, counts, signal);
  }

  /** Saves what was handed over (marking the checkpoint complete when the source was exhausted). */
  async flush(complete: boolean, counts: OutcomeCounts): Promise<void> {
    if (complete || this.#position !== this.#savedPosition) await this.#save(complete, counts, undefined);
  }

  async #save(complete: boolean, counts: OutcomeCounts, signal: AbortSignal | undefined): Promise<void> {
    if (this.#readOnly) return;
    // Nothing handed over in any run (an empty source, or an abort before the first result).
    if (this.#lastId === undefined) return;
    const state: CheckpointState = {
      version: 1,
      lastId: this.#lastId,
      position: this.#position,
      complete,
      targets: [...this.#targets],
      counts: {
        rewrapped: this.#base.rewrapped + counts.rewrapped,
        skipped: this.#base.skipped + counts.skipped,
        failed: this.#base.failed + counts.failed,
      },
      updatedAt: new Date(this.#now()).toISOString(),
    };
    await this.#settings.store.save(state, signal === undefined ? undefined : { signal });
    this.#savedPosition = this.#position;
    this.#savedAt = this.#now();
  }
}
