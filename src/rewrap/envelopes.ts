/**
 * Batch re-wrap of self-contained envelopes after a KEK rotation.
 *
 * @module
 */
import { assertBytes } from '../internal/bytes.js';
import { type CheckpointStore, resolveCheckpoint } from './checkpoint/checkpoint.js';
import { FileCheckpoint } from './checkpoint/file-checkpoint.js';
import { CheckpointTracker } from './checkpoint/tracker.js';
import { envelopeDigest } from './files.js';
import { type EnvelopeItem, EnvelopeRewrapper } from './internal/envelope-item.js';
import { orderedRun, toAsyncIterable } from './internal/ordered-run.js';
import { ProgressTracker } from './internal/progress.js';
import { positiveIntOption, resolveRewrapOptions, type RewrapEnvelopesOptions } from './options.js';
import type { EnvelopeRewrapResult } from './results.js';

export type { EnvelopeItem };

/**
 * Re-wraps envelopes under the `to` KEKs: each result's envelope differs from its source only
 * in the wrapped-key section (payload, context, commitment and header tag are byte-identical),
 * so it decrypts to the same plaintext with any client holding one `to` KEK.
 *
 * - **Vault calls = distinct DEKs.** Each distinct wrapped DEK is unwrapped once per run (a
 *   per-run LRU of `maxCachedDeks`, single-flight across concurrent items); new RSA wraps of a
 *   `KeyVaultKek` are local. Envelopes under one DEK are usually adjacent in a listing.
 * - **Ordered and bounded.** Up to `concurrency` items are in progress, never more read ahead
 *   of the consumer; results come in source order. Memory stays flat on any number of items.
 * - **Idempotent.** Items whose wrapped keys already are exactly the targets' current kekIds
 *   are `skipped` (for `KeyVaultKek`: the latest version's kid; for local KEKs, which have no
 *   versions: their `id`). A run that is repeated re-wraps nothing twice.
 * - **No rollback.** Every result carries `sourceDigest`, the SHA-256 of the bytes it was
 *   computed from. Store a re-wrapped envelope only where the item still holds those bytes
 *   (for files: {@link replaceFileIfUnchanged}); a writer that replaced the item meanwhile
 *   keeps its newer content.
 * - **Per-item failures are results** (`{ status: 'failed', id, error }`), never thrown. The
 *   iterator rejects only when the source fails (after the items read before it), on abort,
 *   on a checkpoint that cannot be read or written, or on a malformed source item (TypeError).
 * - **Resumable** with `checkpoint` (contract: `checkpoint/checkpoint.ts` module docs): make
 *   each result durable before pulling the next; a killed run then passes over, silently and
 *   without vault calls, the items it handed over that are still under the targets. Every
 *   item is still looked at: one inserted before the checkpoint position, or restored from a
 *   backup, is re-wrapped and yielded.
 * - **Ends with a count.** The final progress event of a run that reached the end of its
 *   source has `remaining`: items still not under the targets (0: the old versions can be
 *   disabled once the results are stored; {@link verifyEnvelopes} checks what was stored).
 *
 * Work starts on the first `next()`; the targets are refreshed and probed then (a failure
 * there, e.g. a disabled key, rejects the run before any item is read).
 *
 * @throws {TypeError | RangeError} synchronously, on invalid options.
 * @throws {TypeError} (rejection) when a source item is not `{ id: string, envelope: Uint8Array }`.
 * @throws {RewrapCheckpointError} (rejection) when the checkpoint is corrupt or was written
 *   for other targets.
 * @throws {EnvelopeError} (rejection) when refreshing or probing a target KEK fails.
 * @throws {unknown} (rejection) the source's error, or `options.signal.reason` on abort.
 * @example
 * ```ts
 * import { rewrapEnvelopes } from 'kv-envelope/rewrap';
 * await keyClient.rotateKey('kek');
 * const results = rewrapEnvelopes(listBlobs(), { to: [kek], checkpoint: 'rewrap.checkpoint.json', onProgress: console.log });
 * for await (const r of results) {
 *   if (r.status === 'rewrapped') await replaceBlobIf(r.id, r.envelope, r.sourceDigest); // durable before the next pull
 *   else if (r.status === 'failed') console.error(r.id, r.error.code);
 * }
 * ```
 */
export function rewrapEnvelopes(
  source: AsyncIterable<EnvelopeItem> | Iterable<EnvelopeItem>,
  options: RewrapEnvelopesOptions,
): AsyncGenerator<EnvelopeRewrapResult, void, undefined> {
  const asyncSource = toAsyncIterable(source);
  const o = resolveRewrapOptions(options);
  const maxCachedDeks = positiveIntOption(options.maxCachedDeks, 10_000, 'options.maxCachedDeks');
  const checkpoint = resolveCheckpoint(options.checkpoint, (path): CheckpointStore => new FileCheckpoint(path));
  const tracker = checkpoint && new CheckpointTracker(checkpoint, o.to.map((k) => k.id), o.dryRun);
  const rewrapper = new EnvelopeRewrapper({ from: o.from, to: o.to, verify: o.verify }, o.dryRun, maxCachedDeks);
  return orderedRun<EnvelopeItem, EnvelopeRewrapResult>({
    source: asyncSource,
    concurrency: o.concurrency,
    signal: o.signal,
    accept: acceptEnvelopeItem,
    start: async (signal) => {
      await tracker?.load(signal);
      await rewrapper.start(signal);
    },
    process: async (item, signal) => {
      const sourceDigest = envelopeDigest(item.envelope); // before any await: the bytes the result comes from
      return { ...(await rewrapper.process(item, signal)), sourceDigest } as EnvelopeRewrapResult;
    },
    outcome: (r) => (r.status === 'would-rewrap' ? 'rewrapped' : r.status),
    progress: new ProgressTracker(o.onProgress, o.progressIntervalMs, o.total),
    checkpoint: tracker,
    finish: () => rewrapper.finish(),
  });
}

/** @throws {TypeError} naming the item when it is not `{ id, envelope }`. */
function acceptEnvelopeItem(raw: unknown, index: number): { id: string; item: EnvelopeItem } {
  if (raw === null || typeof raw !== 'object') throw new TypeError(`source item ${index} must be { id: string, envelope: Uint8Array }`);
  const { id, envelope } = raw as Partial<EnvelopeItem>;
  if (typeof id !== 'string') throw new TypeError(`source item ${index}: id must be a string`);
  assertBytes(envelope, `source item ${index} (${JSON.stringify(id.slice(0, 200))}): envelope`);
  return { id, item: { id, envelope } };
}
