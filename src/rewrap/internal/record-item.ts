/**
 * One key-store record's re-wrap: unwrap its DEK, wrap it under the targets, and store the new
 * wrapped DEKs with compare-and-swap on the revision read. A conflict (another process updated
 * the record meanwhile) re-reads the record and starts over: if the other writer already put
 * it under the targets the record is reported `skipped`, otherwise it is re-wrapped from its
 * new state, up to `maxAttempts` times. Many processes can run this on one store safely.
 *
 * @module
 * @internal
 */
import { EnvelopeError, KeyNotFoundError, KeyStoreError, NoMatchingKekError } from '../../errors.js';
import { DEK_LENGTH } from '../../field/records.js';
import type { DekRecord, KeyStore } from '../../store/key-store.js';
import type { KeyStoreRewrapResult } from '../results.js';
import { asEnvelopeError } from './dek-cache.js';
import { rewrapDek, type RewrapKeks } from './rewrap-dek.js';
import { isCurrent, resolveTargets, type Target } from './targets.js';

/** Per-run state of the key-store mode. */
export class RecordRewrapper {
  readonly #store: KeyStore;
  readonly #keks: RewrapKeks;
  readonly #dryRun: boolean;
  readonly #maxAttempts: number;
  #targets: readonly Target[] = [];

  constructor(store: KeyStore, keks: RewrapKeks, dryRun: boolean, maxAttempts: number) {
    this.#store = store;
    this.#keks = keks;
    this.#dryRun = dryRun;
    this.#maxAttempts = maxAttempts;
  }

  /** Resolves the targets (refresh + probe): once, before the first record. */
  async start(signal: AbortSignal): Promise<void> {
    this.#targets = await resolveTargets(this.#keks.to, this.#keks.from, signal);
  }

  /** Processes one record; rejects only on abort. */
  async process(listed: DekRecord, signal: AbortSignal): Promise<KeyStoreRewrapResult> {
    const id = listed.keyRef;
    try {
      return await this.#attempts(listed, signal);
    } catch (err) {
      signal.throwIfAborted();
      return { status: 'failed', id, error: err instanceof EnvelopeError ? err : asStoreError(err, id) };
    }
  }

  async #attempts(listed: DekRecord, signal: AbortSignal): Promise<KeyStoreRewrapResult> {
    const id = listed.keyRef;
    let record = listed;
    for (let attempt = 1; ; attempt++) {
      if (isCurrent(record.wrappedDeks, this.#targets)) return { status: 'skipped', id, skipped: true, reason: 'already-current' };
      const currentKekIds = record.wrappedDeks.map((w) => w.kekId);
      if (!record.wrappedDeks.some((w) => this.#keks.from.some((k) => k.matches(w)))) throw new NoMatchingKekError(currentKekIds);
      if (this.#dryRun) return { status: 'would-rewrap', id, dryRun: true, currentKekIds };
      const dekLength = DEK_LENGTH[record.kind];
      if (dekLength === undefined) throw new KeyStoreError(`key store record ${id} has an unknown kind`);
      let rewrapped;
      try {
        rewrapped = await rewrapDek(this.#keks, record.wrappedDeks, dekLength, signal);
      } catch (err) {
        throw asEnvelopeError(err);
      }
      rewrapped.dek.fill(0);
      const kekIds = rewrapped.wrappedKeys.map((w) => w.kekId);
      try {
        const updated = await this.#store.updateWrappedDeks(id, rewrapped.wrappedKeys, record.revision, { signal });
        return { status: 'rewrapped', id, revision: updated.revision, kekIds, verified: this.#keks.verify };
      } catch (err) {
        signal.throwIfAborted();
        if (!(err instanceof KeyStoreError)) throw err;
        // A revision conflict and an I/O failure are both KeyStoreError: the revision tells them apart.
        const current = await this.#store.get(id, { signal });
        if (current === undefined) throw new KeyNotFoundError(`key store record ${id} was deleted during the re-wrap`);
        if (current.revision === record.revision) throw err;
        if (attempt >= this.#maxAttempts) {
          throw new KeyStoreError(`key store record ${id} kept changing: ${attempt} compare-and-swap attempts lost`, { cause: err });
        }
        record = current;
      }
    }
  }
}

function asStoreError(err: unknown, keyRef: string): EnvelopeError {
  return new KeyStoreError(`key store update of ${keyRef} failed`, { cause: err });
}
