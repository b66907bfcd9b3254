/**
 * One envelope's re-wrap: parse the header, skip it when already current, get its DEK's new
 * wrapped-key section from the per-run map (unwrapping at most once per distinct wrapped key),
 * check the DEK against the envelope's key commitment, and splice the new section in.
 *
 * One DEK can sit in a table under several wrapped keys: RSA-OAEP wraps are randomized, so
 * after a re-wrap by N workers each DEK has up to N wrapped forms. A wrapped key seen for the
 * first time is therefore first tried against the DEKs this run used last (one HMAC each, the
 * envelope's key commitment): a match is that envelope's own DEK, and the vault is not called.
 * That keeps vault unwraps at one per (run, distinct DEK) when a DEK's envelopes are not spread
 * among more than {@link RECENT_DEKS} other DEKs, and at worst one per distinct wrapped key.
 *
 * The commitment check runs on every envelope, verify or not. It costs one HKDF (microseconds)
 * and guarantees that the section written into an envelope wraps that envelope's own DEK: a
 * wrapped key copied from another envelope, or a DEK shared in the map by mistake, fails the
 * item instead of producing an envelope that no longer decrypts.
 *
 * @module
 * @internal
 */
import { AesGcm } from '../../aead/gcm.js';
import { wrappedKeyDigest } from '../../cache/digest.js';
import { DecryptionFailedError, EnvelopeError, EnvelopeMalformedError, NoMatchingKekError } from '../../errors.js';
import { type EnvelopeHeader, encodeWrappedKeys, parseComplete, parseHeader } from '../../format/envelope.js';
import { commitsTo, spliceSection } from '../../format/rewrap.js';
import { SecretKey } from '../../internal/secret.js';
import type { WrappedKey } from '../../keys/kek.js';
import type { EnvelopeOutcome } from '../results.js';
import { asEnvelopeError, RewrapDekCache, type RewrappedDek } from './dek-cache.js';
import { rewrapDek, type RewrapKeks } from './rewrap-dek.js';
import { isCurrent, resolveTargets, type Target } from './targets.js';

/** A source item of {@link rewrapEnvelopes}. */
export interface EnvelopeItem {
  readonly id: string;
  readonly envelope: Uint8Array;
}

/** Per-run state of the envelope mode. */
export class EnvelopeRewrapper {
  readonly #keks: RewrapKeks;
  readonly #dryRun: boolean;
  readonly #cache: RewrapDekCache;
  readonly #aead = new AesGcm();
  #targets: readonly Target[] = [];
  /** DEKs used last, most recent first (entries of the map: wiped when they leave it). */
  #recent: RewrappedDek[] = [];
  /** The last wrapped key digested: envelopes come grouped by DEK, and a compare beats a hash. */
  #last: { readonly kekId: string; readonly alg: string; readonly bytes: Buffer; readonly digest: string } | undefined;

  constructor(keks: RewrapKeks, dryRun: boolean, maxCachedDeks: number) {
    this.#keks = keks;
    this.#dryRun = dryRun;
    this.#cache = new RewrapDekCache(maxCachedDeks);
  }

  /** Resolves the targets (refresh + probe): once, before the first item. */
  async start(signal: AbortSignal): Promise<void> {
    this.#targets = await resolveTargets(this.#keks.to, this.#keks.from, signal);
  }

  /** The kekIds new wraps name, in `to` order (after {@link start}). */
  get targetKekIds(): readonly string[] {
    return this.#targets.map((t) => t.kekId);
  }

  /** Processes one envelope; rejects only on abort. */
  async process(item: EnvelopeItem, signal: AbortSignal): Promise<EnvelopeOutcome> {
    const { id, envelope } = item;
    let header: EnvelopeHeader;
    try {
      header = parseComplete(() => parseHeader(envelope));
    } catch (err) {
      return failed(id, err instanceof EnvelopeError ? err : new EnvelopeMalformedError('envelope header cannot be parsed', { cause: err }));
    }
    if (isCurrent(header.wrappedKeys, this.#targets)) return { status: 'skipped', id, skipped: true, reason: 'already-current' };
    const candidates = header.wrappedKeys.filter((w) => this.#keks.from.some((k) => k.matches(w)));
    if (candidates.length === 0) return failed(id, new NoMatchingKekError(header.wrappedKeys.map((w) => w.kekId)));
    if (this.#dryRun) return { status: 'would-rewrap', id, dryRun: true, currentKekIds: header.wrappedKeys.map((w) => w.kekId) };

    let lastError: EnvelopeError | undefined; // made lazily: an Error's stack costs more than the whole re-wrap
    for (const wrapped of candidates) {
      let entry: RewrappedDek;
      let owned = false;
      try {
        const load = async (): Promise<RewrappedDek> => this.#known(envelope, header) ?? (await this.#load(wrapped, header.suite.dekLength, signal));
        entry = await this.#cache.get(this.#digest(wrapped), load, signal);
        // The map wipes an evicted DEK at once. If that happened before this continuation (a
        // map much smaller than the work in flight), load the DEK again for this item alone.
        if (entry.dek.wiped) {
          entry = await this.#load(wrapped, header.suite.dekLength, signal);
          owned = true;
        }
      } catch (err) {
        signal.throwIfAborted();
        lastError = asEnvelopeError(err);
        continue;
      }
      // Synchronous from here to the end of the iteration: the DEK cannot be wiped under us.
      try {
        const dek = entry.dek.expose();
        if (!commitsTo(envelope, header, dek, this.#aead)) continue;
        if (!owned) this.#touch(entry);
        // v2: the new section gets its MAC under the DEK; frames stay byte-identical.
        const out = spliceSection(envelope, header, entry.section, dek, this.#aead);
        if (this.#keks.verify && !this.#verifyOutput(out, entry, dek)) {
          return failed(id, new DecryptionFailedError('verification failed: the re-wrapped envelope does not open with its data key'));
        }
        return { status: 'rewrapped', id, envelope: out, kekIds: entry.kekIds, verified: this.#keks.verify };
      } finally {
        if (owned) entry.dek.wipe();
      }
    }
    return failed(id, lastError ?? new DecryptionFailedError());
  }

  /** Wipes every DEK of the run. */
  finish(): void {
    this.#recent = [];
    this.#cache.clear();
  }

  /**
   * A copy of the entry of a recently used DEK that `envelope` commits to, if any. The key
   * commitment (v2 section MAC, v1 HKDF commitment) is what makes this safe: it matches only the
   * envelope's own DEK, so the section spliced in wraps the DEK the envelope was made with.
   */
  #known(envelope: Uint8Array, header: EnvelopeHeader): RewrappedDek | undefined {
    for (const r of this.#recent) {
      if (r.dek.wiped) continue;
      const dek = r.dek.expose();
      if (dek.length !== header.suite.dekLength || !commitsTo(envelope, header, dek, this.#aead)) continue;
      // Its own copy: each map entry wipes its DEK when it leaves the map.
      return { dek: new SecretKey(dek.slice()), wrappedKeys: r.wrappedKeys, section: r.section, kekIds: r.kekIds };
    }
    return undefined;
  }

  /** Makes `entry` the most recently used DEK (a no-op while envelopes stay under one DEK). */
  #touch(entry: RewrappedDek): void {
    const recent = this.#recent;
    if (recent[0] === entry) return;
    const at = recent.indexOf(entry);
    if (at >= 0) recent.splice(at, 1);
    recent.unshift(entry);
    if (recent.length > RECENT_DEKS) recent.length = RECENT_DEKS;
  }

  #digest(w: WrappedKey): string {
    const last = this.#last;
    if (last !== undefined && last.kekId === w.kekId && last.alg === w.alg && last.bytes.equals(w.bytes)) return last.digest;
    const digest = wrappedKeyDigest(w);
    this.#last = { kekId: w.kekId, alg: w.alg, bytes: Buffer.from(w.bytes), digest };
    return digest;
  }

  async #load(wrapped: WrappedKey, dekLength: number, signal: AbortSignal): Promise<RewrappedDek> {
    const { dek, wrappedKeys } = await rewrapDek(this.#keks, [wrapped], dekLength, signal);
    try {
      return {
        dek: new SecretKey(dek.slice()),
        wrappedKeys,
        section: encodeWrappedKeys(wrappedKeys),
        kekIds: Object.freeze(wrappedKeys.map((w) => w.kekId)),
      };
    } finally {
      dek.fill(0);
    }
  }

  /** The new envelope parses, names the new wrapped keys, and its commitment opens with the DEK. */
  #verifyOutput(out: Uint8Array, entry: RewrappedDek, dek: Uint8Array): boolean {
    let header: EnvelopeHeader;
    try {
      header = parseComplete(() => parseHeader(out));
    } catch {
      return false;
    }
    const named = header.wrappedKeys.map((w) => w.kekId);
    return named.length === entry.kekIds.length && named.every((k, i) => k === entry.kekIds[i]) && commitsTo(out, header, dek, this.#aead);
  }
}

/** How many recently used DEKs a new wrapped key is tried against before the vault is called. */
export const RECENT_DEKS = 16;

function failed(id: string, error: EnvelopeError): EnvelopeOutcome {
  return { status: 'failed', id, error };
}
