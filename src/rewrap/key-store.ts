/**
 * Batch re-wrap of field-mode DEK records in a {@link KeyStore}.
 *
 * @module
 */
import type { DekRecord, KeyStore } from '../store/key-store.js';
import { orderedRun, toAsyncIterable } from './internal/ordered-run.js';
import { ProgressTracker } from './internal/progress.js';
import { RecordRewrapper } from './internal/record-item.js';
import { positiveIntOption, resolveRewrapOptions, type RewrapKeyStoreOptions } from './options.js';
import type { KeyStoreRewrapResult } from './results.js';

/**
 * Re-wraps every DEK record of `store` under the `to` KEKs. Only records change (their
 * `wrappedDeks` and `revision`): field ciphertexts name a record by keyRef, so no data row is
 * rewritten, and rows written before the run keep decrypting with a client holding only a
 * `to` KEK.
 *
 * Each record is updated with compare-and-swap on the revision it was read at. When another
 * process changed it meanwhile, the record is read again: if it is already under the targets
 * it is `skipped`, otherwise it is re-wrapped from its new state (up to `maxAttempts` times,
 * then reported as a `failed` `ERR_KEY_STORE`). So several runs, on several machines, may work
 * on one store at once. Each record holds its own DEK: one unwrap per record (plus one per
 * target with `verify`); RSA wraps of a `KeyVaultKek` are local.
 *
 * There is no checkpoint option: `store.list()` promises no order, and none is needed: a
 * repeated run skips every record already under the targets without any vault call (one store
 * read per record). Results come in `list()` order, at most `concurrency` records in progress.
 *
 * @throws {TypeError | RangeError} synchronously, on invalid options or a `store` without `list`.
 * @throws {EnvelopeError} (rejection) when refreshing or probing a target KEK fails, or
 *   `store.list()` fails (e.g. `KeyStoreError` on a corrupt record).
 * @throws {unknown} (rejection) `options.signal.reason` on abort.
 * @example
 * ```ts
 * import { FileKeyStore } from 'kv-envelope';
 * import { rewrapKeyStore } from 'kv-envelope/rewrap';
 * const store = new FileKeyStore({ directory: '/var/lib/app/deks' });
 * for await (const r of rewrapKeyStore(store, { to: [kek], onProgress: console.log })) {
 *   if (r.status === 'failed') console.error(r.id, r.error.code, r.error.message);
 * }
 * ```
 */
export function rewrapKeyStore(store: KeyStore, options: RewrapKeyStoreOptions): AsyncGenerator<KeyStoreRewrapResult, void, undefined> {
  if (store === null || typeof store !== 'object' || typeof store.list !== 'function' || typeof store.updateWrappedDeks !== 'function' || typeof store.get !== 'function') {
    throw new TypeError('store must implement KeyStore (get, list, updateWrappedDeks)');
  }
  const o = resolveRewrapOptions(options);
  const maxAttempts = positiveIntOption(options.maxAttempts, 3, 'options.maxAttempts');
  const rewrapper = new RecordRewrapper(store, { from: o.from, to: o.to, verify: o.verify }, o.dryRun, maxAttempts);
  const records: AsyncIterable<DekRecord> = {
    [Symbol.asyncIterator]: () => toAsyncIterable(store.list(o.signal === undefined ? undefined : { signal: o.signal }))[Symbol.asyncIterator](),
  };
  return orderedRun<DekRecord, KeyStoreRewrapResult>({
    source: records,
    concurrency: o.concurrency,
    signal: o.signal,
    accept: (raw, index) => {
      const record = raw as DekRecord | null;
      if (record === null || typeof record !== 'object' || typeof record.keyRef !== 'string' || !Array.isArray(record.wrappedDeks)) {
        throw new TypeError(`store.list() item ${index} is not a DekRecord`);
      }
      return { id: record.keyRef, item: record };
    },
    start: (signal) => rewrapper.start(signal),
    process: (record, signal) => rewrapper.process(record, signal),
    outcome: (r) => (r.status === 'would-rewrap' ? 'rewrapped' : r.status),
    progress: new ProgressTracker(o.onProgress, o.progressIntervalMs, o.total),
    checkpoint: undefined,
    finish: () => undefined,
  });
}
