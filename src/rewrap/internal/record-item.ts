/**
 * One key-store record's re-wrap: unwrap its DEK, wrap it under the targets, and store the new
 * wrapped DEKs with compare-and-swap on the revision read. A conflict (another process updated
 * the record meanwhile) re-reads the record and starts over: if the other writer already put
 * it under the targets the record is reported `skipped`, otherwise it is re-wrapped from its
 * new state, up to `maxAttempts` times. Many processes can run this on one store safely.
 *
 * Record authentication (docs/security.md §Record authentication): the DEK unwrapped is checked
 * against the record's commitment, so a record whose wrapped keys disagree is refused (and
 * never "healed" into the attacker's DEK); a record without a commitment gets one, and a named
 * record gets signatures by the targets that can sign when it has none by a target's current
 * version (a rotation renews them, so old versions can be disabled). A record already under the
 * targets is skipped only when its authentication is current too.
 *
 * @module
 * @internal
 */
import { EnvelopeError, KeyNotFoundError, KeyStoreError, NoMatchingKekError } from '../../errors.js';
import { DEK_LENGTH } from '../../field/records.js';
import type { DekRecord, KeyStore, RecordAuth } from '../../store/key-store.js';
import { RecordAuthenticationError } from '../../store/errors.js';
import { commitmentMatches, computeCommitment, signaturePayload } from '../../store/internal/record-auth.js';
import { onlyAuthenticatingWraps, signWithAll, verifyAny } from '../../keys/internal/record-signing.js';
import type { KeyStoreRewrapResult } from '../results.js';
import { asEnvelopeError } from './dek-cache.js';
import { rewrapDek, type RewrapKeks } from './rewrap-dek.js';
import { isCurrent, resolveTargets, type Target } from './targets.js';
import type { WrappedKey } from '../../keys/kek.js';

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
      if (isCurrent(record.wrappedDeks, this.#targets) && this.#authIsCurrent(record)) {
        return { status: 'skipped', id, skipped: true, reason: 'already-current' };
      }
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
      let auth: RecordAuth | undefined;
      try {
        auth = await this.#renewAuth(record, rewrapped.dek, signal);
      } finally {
        rewrapped.dek.fill(0);
      }
      const kekIds = rewrapped.wrappedKeys.map((w) => w.kekId);
      try {
        const updated = await this.#store.updateWrappedDeks(id, rewrapped.wrappedKeys, record.revision, auth === undefined ? { signal } : { signal, auth });
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

  /**
   * A commitment, and for a named record a signature by the current version of every target
   * that signs (a target that is symmetric authenticates by its wraps and needs none).
   */
  #authIsCurrent(record: DekRecord): boolean {
    if (record.commitment === undefined) return false;
    return record.name === undefined || this.#signedByAllSigners(record);
  }

  #signedByAllSigners(record: DekRecord): boolean {
    const signatures = record.signatures ?? [];
    return this.#targets.every((t) => {
      if (typeof t.kek.signRecord !== 'function' || t.kek.authenticatesWrap?.(probeOf(t)) === true) return true;
      return signatures.some((s) => s.kekId === t.kekId);
    });
  }

  /**
   * The authentication the re-wrapped record carries. Signing vouches for a record, so a named
   * record is (re-)signed only when it is already authenticated: a signature that verifies under
   * a `from` or `to` KEK, or wrapped keys that only symmetric `from` KEKs open. A legacy record
   * (no commitment) is signed on trust: upgrading is trust-on-first-use (docs/security.md);
   * undefined (left as it is) when it is named and nothing could sign or authenticate it.
   * @throws {RecordAuthenticationError} `'commitment-mismatch'` when `dek` is not the DEK the
   *   record commits to (its wrapped keys disagree: re-wrapping would spread one of them), or
   *   `'unsigned'` / `'bad-signature'` for a named record nobody authenticated.
   */
  async #renewAuth(record: DekRecord, dek: Uint8Array, signal: AbortSignal): Promise<RecordAuth | undefined> {
    if (record.commitment !== undefined && !commitmentMatches(record, dek)) throw new RecordAuthenticationError('commitment-mismatch', record);
    const commitment = record.commitment ?? computeCommitment(record, dek);
    const kept = record.signatures ?? [];
    if (record.name === undefined || (record.commitment !== undefined && this.#signedByAllSigners(record))) return { commitment, signatures: kept };
    const payload = signaturePayload(record, commitment);
    if (record.commitment !== undefined && !onlyAuthenticatingWraps(this.#keks.from, record.wrappedDeks)) {
      if (kept.length === 0) throw new RecordAuthenticationError('unsigned', record);
      const verdict = await verifyAny([...this.#keks.from, ...this.#keks.to], kept, payload, signal);
      if (verdict !== 'valid') throw new RecordAuthenticationError('bad-signature', record);
    }
    const { signatures } = await signWithAll(this.#keks.to, payload, signal);
    // A legacy named record nobody could sign stays legacy (a commitment alone would make it
    // look planted): a later run with a KEK that can sign upgrades it.
    if (record.commitment === undefined && signatures.length === 0 && !this.#targets.some((t) => t.kek.authenticatesWrap?.(probeOf(t)) === true)) {
      return undefined;
    }
    // Targets that cannot sign (wrap-only, symmetric, no permission) leave the old signatures.
    return { commitment, signatures: signatures.length > 0 ? signatures : kept };
  }
}

/** What a target's new wrapped keys look like (for `authenticatesWrap`, which reads only kekId and alg). */
function probeOf(t: Target): WrappedKey {
  return { kekId: t.kekId, alg: t.alg, bytes: new Uint8Array(0) };
}

function asStoreError(err: unknown, keyRef: string): EnvelopeError {
  return new KeyStoreError(`key store update of ${keyRef} failed`, { cause: err });
}
