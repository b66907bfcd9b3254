/**
 * Outcome counting and throttled progress events of one run.
 *
 * @module
 * @internal
 */
import type { RewrapProgress } from '../results.js';
import type { OutcomeCounts } from '../checkpoint/tracker.js';

/** What a result counts as. */
export type Outcome = 'rewrapped' | 'skipped' | 'failed';

/** Counts outcomes and calls `onProgress` at most every `intervalMs` (plus one final event). */
export class ProgressTracker {
  readonly counts: OutcomeCounts = { rewrapped: 0, skipped: 0, failed: 0 };
  #resumed = 0;
  readonly #onProgress: ((p: RewrapProgress) => void) | undefined;
  readonly #intervalMs: number;
  readonly #total: number | undefined;
  readonly #now: () => number;
  #startedAt: number;
  #lastEmit: number;
  #finalSent = false;

  constructor(
    onProgress: ((p: RewrapProgress) => void) | undefined,
    intervalMs: number,
    total: number | undefined,
    now: () => number = () => performance.now(),
  ) {
    this.#onProgress = onProgress;
    this.#intervalMs = intervalMs;
    this.#total = total;
    this.#now = now;
    this.#startedAt = this.#lastEmit = now();
  }

  /** Restarts the clock (when the first item is requested, not when the run is created). */
  start(): void {
    this.#startedAt = this.#lastEmit = this.#now();
  }

  /** A source item passed over thanks to the checkpoint. */
  resumed(): void {
    this.#resumed++;
  }

  /** A result was handed to the consumer. */
  record(outcome: Outcome): void {
    this.counts[outcome]++;
    if (this.#onProgress !== undefined && this.#now() - this.#lastEmit >= this.#intervalMs) this.#emit(false);
  }

  /** Sends the final event (once); `remaining` when the run reached the end of its source. */
  final(remaining?: number): void {
    if (this.#finalSent || this.#onProgress === undefined) return;
    this.#finalSent = true;
    this.#lastEmit = this.#now();
    this.#onProgress(this.snapshot(true, remaining));
  }

  /** The current report. */
  snapshot(final: boolean, remaining?: number): RewrapProgress {
    const { rewrapped, skipped, failed } = this.counts;
    const done = rewrapped + skipped + failed;
    const elapsedMs = this.#now() - this.#startedAt;
    const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    const total = this.#total;
    const eta = total !== undefined && rate > 0 ? Math.max(0, ((total - this.#resumed - done) * 1000) / rate) : undefined;
    return {
      done, rewrapped, skipped, failed, resumed: this.#resumed,
      ...(total === undefined ? {} : { total }),
      rate: Math.round(rate * 10) / 10,
      ...(eta === undefined ? {} : { etaMs: Math.round(eta) }),
      elapsedMs: Math.round(elapsedMs),
      final,
      ...(remaining === undefined ? {} : { remaining }),
    };
  }

  #emit(final: boolean): void {
    this.#lastEmit = this.#now();
    this.#onProgress?.(this.snapshot(final));
  }
}
