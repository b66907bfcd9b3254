/**
 * The engine under both re-wrap modes: an ordered, bounded window over an async source.
 *
 * - At most `concurrency` source items are read ahead of the consumer (the window); each
 *   starts processing as soon as it is read. Reading stops while the window is full, so a
 *   consumer that writes slowly slows the reads down (backpressure) and memory stays flat.
 * - Results are yielded in source order, so "every item before X is done" holds and the
 *   checkpoint can record a single position.
 * - Every source item is processed in every run. Items a resumed checkpoint covers are passed
 *   over silently (counted as `resumed`, not yielded) only when processing finds them already
 *   under the targets, which costs no vault call; any other (an item inserted before the
 *   checkpoint position, one rolled back to an old version, one that failed before) is
 *   processed and yielded like the rest.
 * - Per-item failures are results (the processor never rejects for them). The run rejects
 *   only when the source fails (after yielding the items read before the failure), the signal
 *   aborts, or a checkpoint cannot be read or written.
 *
 * @module
 * @internal
 */
import { raceAbort } from '../../internal/abort.js';
import type { CheckpointTracker } from '../checkpoint/tracker.js';
import type { Outcome, ProgressTracker } from './progress.js';

/** What {@link orderedRun} needs. */
export interface RunSpec<I, R extends { readonly status: string }> {
  readonly source: AsyncIterable<unknown>;
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
  /** Checks a raw source item (throw a TypeError to end the run) and returns its id. */
  readonly accept: (raw: unknown, index: number) => { readonly id: string; readonly item: I };
  /** Runs once, before the source is read (resolve targets, load the checkpoint). */
  readonly start: (signal: AbortSignal) => Promise<void>;
  /** Processes one item; rejects only when `signal` aborted. */
  readonly process: (item: I, signal: AbortSignal) => Promise<R>;
  readonly outcome: (result: R) => Outcome;
  readonly progress: ProgressTracker;
  readonly checkpoint: CheckpointTracker | undefined;
  /** Runs last, however the run ends (wipe keys). */
  readonly finish: () => void;
}

interface Slot<R> {
  readonly id: string;
  readonly result: Promise<R>;
  /** Within the position of the checkpoint being resumed: passed over silently if already done. */
  readonly covered: boolean;
}

/** Results that leave their item not under the targets (the consumer stores every `rewrapped`). */
const REMAINS: ReadonlySet<string> = new Set(['failed', 'would-rewrap']);

const noop = (): void => undefined;
const NONE: unique symbol = Symbol('none');

/** Runs `spec`, yielding results in source order. */
export async function* orderedRun<I, R extends { readonly status: string }>(spec: RunSpec<I, R>): AsyncGenerator<R, void, undefined> {
  const internal = new AbortController();
  const signal = internal.signal;
  const onAbort = (): void => internal.abort(spec.signal?.reason);
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  if (spec.signal?.aborted === true) onAbort();

  const window: Slot<R>[] = [];
  let iterator: AsyncIterator<unknown> | undefined;
  let reading = false;
  let exhausted = false;
  let sourceFailure: { error: unknown } | undefined;
  let iteratorFailed = false; // the source's own next() threw: it is finished, no return() due
  let wake: (() => void) | undefined;
  let index = 0;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const fill = async (it: AsyncIterator<unknown>): Promise<void> => {
    try {
      while (!exhausted && window.length < spec.concurrency && !signal.aborted) {
        let next: IteratorResult<unknown>;
        try {
          next = await it.next();
        } catch (err) {
          iteratorFailed = true;
          throw err;
        }
        if (next.done === true) {
          exhausted = true;
          break;
        }
        const { id, item } = spec.accept(next.value, index++);
        const covered = spec.checkpoint?.covers() === true;
        const result = spec.process(item, signal);
        result.catch(noop); // awaited in order later; an abort may reject it first
        window.push({ id, result, covered });
        notify();
      }
    } catch (error) {
      sourceFailure = { error };
    } finally {
      reading = false;
      notify();
    }
  };
  const pump = (): void => {
    if (reading || exhausted || sourceFailure !== undefined || iterator === undefined || window.length >= spec.concurrency) return;
    reading = true;
    void fill(iterator);
  };
  const head = async (): Promise<Slot<R> | undefined> => {
    for (;;) {
      signal.throwIfAborted();
      if (window.length > 0) return window[0];
      if (sourceFailure !== undefined) throw sourceFailure.error;
      if (exhausted) return undefined;
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      pump();
      await raceAbort(woken, signal);
    }
  };

  let completed = false;
  let remaining = 0;
  let failure: unknown = NONE;
  try {
    const starting = spec.start(signal);
    starting.catch(noop); // an abort may win the race below
    await raceAbort(starting, signal);
    spec.progress.start();
    iterator = spec.source[Symbol.asyncIterator]();
    for (;;) {
      const slot = await head();
      if (slot === undefined) break;
      const result = await raceAbort(slot.result, signal);
      window.shift();
      pump();
      const outcome = spec.outcome(result);
      if (slot.covered && outcome === 'skipped') {
        spec.progress.resumed(); // handed over by an earlier run, and still under the targets
        await spec.checkpoint?.handedOver(slot.id, spec.progress.counts, signal);
        continue;
      }
      if (REMAINS.has(result.status)) remaining++;
      spec.progress.record(outcome);
      yield result;
      // The consumer asked for more: the previous result is handed over.
      await spec.checkpoint?.handedOver(slot.id, spec.progress.counts, signal);
    }
    completed = true;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    spec.signal?.removeEventListener('abort', onAbort);
    internal.abort(new Error('re-wrap run ended')); // stops in-flight work; its rejections are swallowed
    if (iterator !== undefined && !exhausted && !iteratorFailed) {
      // Close the source (e.g. a file listing). A read still in flight would block return(): don't wait for it.
      const closing = Promise.resolve().then(() => iterator?.return?.());
      if (reading) closing.catch(noop);
      else await closing.catch(noop);
    }
    try {
      await spec.checkpoint?.flush(completed, spec.progress.counts);
    } catch (err) {
      if (failure === NONE) throw err; // else keep the original reason
    } finally {
      spec.progress.final(completed ? remaining : undefined);
      spec.finish();
    }
  }
}

/**
 * An async view of `source` (arrays and other sync iterables are accepted too).
 * @throws {TypeError} when `source` is neither.
 */
export function toAsyncIterable<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  if (source !== null && typeof source === 'object') {
    if (typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') return source as AsyncIterable<T>;
    if (typeof (source as Iterable<T>)[Symbol.iterator] === 'function') {
      const sync = source as Iterable<T>;
      return {
        [Symbol.asyncIterator]: () => {
          const it = sync[Symbol.iterator]();
          return {
            next: async () => it.next(),
            return: async () => it.return?.() ?? { done: true, value: undefined },
          };
        },
      };
    }
  }
  throw new TypeError('source must be an async iterable (or an iterable) of { id, envelope }');
}
