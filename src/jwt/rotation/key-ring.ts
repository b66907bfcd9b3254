/**
 * The key ring: the signing key's (or certificate's) versions as Key Vault lists them, with the
 * public key of every version that is (or may become) published, refreshed from the vault at
 * most every `refreshInterval` and on demand. One ring for both: a certificate renewal is a
 * rotation (a new version, published ahead, the old one retired after the token lifetime).
 *
 * Vault calls per refresh: one version listing page per 25 versions, plus one GET per newly
 * published version (public keys never change, so they are fetched once). A pinned key version
 * (`keyId` with a version) costs one `getKey` per refresh instead. Sources: key-source.ts,
 * certificate-source.ts.
 *
 * Refreshes are single-flight and run without any caller's signal (callers race their own).
 * When a periodic refresh fails with `ERR_KEK_UNAVAILABLE`, the previous snapshot keeps
 * serving (the JWKS must outlive a vault outage) and the refresh is retried 30 s later.
 *
 * @module
 * @internal
 */
import { raceAbort } from '../../internal/abort.js';
import type { VaultOperation } from '../../azure/internal/errors.js';
import type { PublicKeyMaterial } from '../jwks/jwk.js';
import { computeSchedule, isPublished, type Schedule, type ScheduleSettings, type VersionState, type VersionTimes } from './schedule.js';

/** Runs one vault operation with deadline, retries and error mapping (callVault, bound). */
export type VaultCall = <T>(operation: VaultOperation, kid: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** What the ring needs. */
export interface KeyRingSettings {
  readonly source: VersionSource;
  readonly schedule: ScheduleSettings;
  readonly refreshIntervalMs: number;
  readonly now: () => number;
}

/**
 * Where the versions come from: a key's versions (rotation/key-source.ts) or a certificate's
 * (rotation/certificate-source.ts). Each version's `kid` is the VERSIONED Key Vault key id that
 * signs for it (a certificate's version signs with its key of the same version).
 */
export interface VersionSource {
  /** The versions, in the vault's order, with their times (one listing, or one GET when pinned). */
  list(now: number): Promise<VersionTimes[]>;
  /** The versioned key id that signs for `version`. */
  kid(version: string): string;
  /** The public key (and certificate, for certificates) of `version`; fetched once, by the caller's cache. */
  material(version: string): Promise<PublicKeyMaterial>;
}

/** One version: its times, versioned kid, and public key once fetched. */
export interface RingVersion extends VersionTimes {
  readonly kid: string;
  readonly material: PublicKeyMaterial | undefined;
}

/** A snapshot of the ring. */
export interface RingSnapshot {
  readonly versions: readonly RingVersion[];
  readonly fetchedAt: number;
}

const STALE_RETRY_MS = 30_000;

/** Loads and caches the versions of one key. */
export class KeyRing {
  readonly #s: KeyRingSettings;
  readonly #materials = new Map<string, PublicKeyMaterial>();
  readonly #lastSigned = new Map<string, number>();
  #snapshot: RingSnapshot | undefined;
  #nextRefreshAt = 0;
  #inflight: Promise<RingSnapshot> | undefined;
  #inflightForced = false;

  constructor(settings: KeyRingSettings) {
    this.#s = settings;
  }

  /** The snapshot to use now: cached, or refreshed when older than `refreshInterval`. */
  async current(signal: AbortSignal | undefined): Promise<RingSnapshot> {
    const cached = this.#snapshot;
    if (cached !== undefined && this.#s.now() < this.#nextRefreshAt) return cached;
    try {
      return await raceAbort(this.#start(false), signal);
    } catch (err) {
      signal?.throwIfAborted();
      if (cached !== undefined && (err as { code?: unknown }).code === 'ERR_KEK_UNAVAILABLE') {
        this.#nextRefreshAt = this.#s.now() + Math.min(STALE_RETRY_MS, this.#s.refreshIntervalMs);
        return cached;
      }
      throw err;
    }
  }

  /**
   * Reads the vault now. Joins only another forced refresh: a periodic read in flight may have
   * started before the rotation or the disable the caller wants to see.
   */
  refresh(signal: AbortSignal | undefined): Promise<RingSnapshot> {
    return raceAbort(this.#start(true), signal);
  }

  /** Makes the next `current()` refresh (e.g. the vault said the active version is disabled). */
  invalidate(): void {
    this.#nextRefreshAt = 0;
  }

  /** Records that `version` signed at `at` (keeps it published for the tail after that). */
  signed(version: string, at: number): void {
    this.#lastSigned.set(version, Math.max(at, this.#lastSigned.get(version) ?? -Infinity));
  }

  /** The schedule of `snapshot` at `now`. */
  schedule(snapshot: RingSnapshot, now: number): Schedule {
    return computeSchedule(snapshot.versions, this.#s.schedule, now, this.#lastSigned);
  }

  #start(forced: boolean): Promise<RingSnapshot> {
    if (this.#inflight !== undefined && (!forced || this.#inflightForced)) return this.#inflight;
    const p = this.#load().then((snapshot) => {
      if (this.#inflight === p) {
        // An older read that finishes later must not replace this one.
        this.#snapshot = snapshot;
        this.#nextRefreshAt = snapshot.fetchedAt + this.#s.refreshIntervalMs;
      }
      return snapshot;
    });
    this.#inflight = p;
    this.#inflightForced = forced;
    p.finally(() => {
      if (this.#inflight === p) this.#inflight = undefined;
    }).catch(() => undefined);
    return p;
  }

  async #load(): Promise<RingSnapshot> {
    const { source } = this.#s;
    const now = this.#s.now();
    const times = (await source.list(now)).sort((a, b) => a.created - b.created); // stable: ties keep the vault's order
    const schedule = computeSchedule(times, this.#s.schedule, now, this.#lastSigned);
    const needed = schedule.versions.filter((v) => isPublished(v.state) && !this.#materials.has(v.version)).map((v) => v.version);
    await Promise.all(needed.map(async (version) => {
      const material = await source.material(version);
      if (!this.#materials.has(version)) this.#materials.set(version, material); // public keys never change
    }));
    const versions = times.map((t) => ({ ...t, kid: source.kid(t.version), material: this.#materials.get(t.version) }));
    return { versions, fetchedAt: this.#s.now() };
  }
}

/** The lifecycle of one key version, as `versions()` reports it. */
export interface KeyVersionStatus {
  /** The version id; also the `kid` of tokens and JWKs. */
  version: string;
  /** The full versioned Key Vault key id. */
  keyId: string;
  state: VersionState;
  created: Date;
  /** When it may sign (pending → active). */
  readyAt?: Date;
  /** When it stopped signing (active → retired). */
  stoppedAt?: Date;
  /** When it leaves (or left) the JWKS. */
  removeAt?: Date;
}

const date = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms));

/** The status of every version of `snapshot` under `schedule`, oldest first. */
export function versionStatuses(snapshot: RingSnapshot, schedule: Schedule): KeyVersionStatus[] {
  return snapshot.versions.map((v, i) => {
    const s = schedule.versions[i]!;
    const status: KeyVersionStatus = { version: v.version, keyId: v.kid, state: s.state, created: new Date(v.created) };
    for (const [key, ms] of [['readyAt', s.readyAt], ['stoppedAt', s.stoppedAt], ['removeAt', s.removeAt]] as const) {
      const d = date(ms);
      if (d !== undefined) status[key] = d;
    }
    return status;
  });
}
