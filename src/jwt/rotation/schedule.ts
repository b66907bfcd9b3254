/**
 * The rotation schedule: which key version signs, and which are published, at a given time.
 * A pure function of the versions' Key Vault attributes, so every instance that sees the same
 * versions computes the same answer (and serves byte-identical JWKS with the same ETag).
 *
 * Per enabled version v, with `lead` = publishLeadTime and `tail` = maxTokenLifetime + clockSkew:
 *
 * - readyAt(v)    = max(v.nbf, v.created + lead): published from discovery, signs from then on.
 * - active        = the newest version that is enabled, past readyAt and before its exp.
 *                   When none is (a brand-new key, or every ready version was disabled: an
 *                   emergency rotation), the enabled version inside nbf..exp with the EARLIEST
 *                   readyAt signs at once: it has been published longest. For a brand-new key
 *                   that is its only version; for a key rotated again within its first lead
 *                   time it is the version that was already signing, NOT the new one (a JWKS
 *                   client with a refetch cooldown, jose: 30 s, would refuse the new kid).
 *                   A version never signs before it has been published for `lead`, unless no
 *                   version that has been can sign.
 * - pending       = newer than the active version and not ready yet: published, never signs.
 * - stoppedAt(v)  = min(v.exp, readyAt of the first newer enabled version that can become ready),
 *                   or the last time this process signed with v, whichever is later.
 * - retired       = stopped signing less than `tail` ago: still published, so every token it
 *                   signed verifies until that token's exp (+ skew).
 * - removed       = stopped `tail` or more ago: gone from the JWKS.
 * - disabled      = `enabled: false` in the vault: gone at once (revocation).
 *
 * @module
 */

/** What the schedule needs to know about a version (times in ms since the epoch). */
export interface VersionTimes {
  readonly version: string;
  readonly created: number;
  readonly enabled: boolean;
  readonly notBefore?: number;
  readonly expiresOn?: number;
}

/** Lead and tail, ms. */
export interface ScheduleSettings {
  readonly leadMs: number;
  readonly tailMs: number;
}

/** The lifecycle state of a version. */
export type VersionState = 'pending' | 'active' | 'retired' | 'removed' | 'disabled';

/** One version's place in the schedule. */
export interface ScheduledVersion {
  readonly version: string;
  readonly state: VersionState;
  /** When it may sign (absent for disabled versions). */
  readonly readyAt?: number;
  /** When it stopped (or will stop) signing, when known. */
  readonly stoppedAt?: number;
  /** When it leaves (or left) the JWKS, when known. */
  readonly removeAt?: number;
}

/** The schedule at one instant. */
export interface Schedule {
  /** The signing version, if any. */
  readonly active: string | undefined;
  /** Every version, oldest first. */
  readonly versions: readonly ScheduledVersion[];
}

const inWindow = (v: VersionTimes, now: number) =>
  v.enabled && (v.notBefore === undefined || v.notBefore <= now) && (v.expiresOn === undefined || now < v.expiresOn);

/**
 * Computes the schedule. `versions` must be oldest first (by creation; ties in vault order).
 * `lastSigned` holds, per version, the last time this process signed with it.
 */
export function computeSchedule(
  versions: readonly VersionTimes[],
  settings: ScheduleSettings,
  now: number,
  lastSigned: ReadonlyMap<string, number> = new Map(),
): Schedule {
  const readyAt = versions.map((v) => Math.max(v.notBefore ?? -Infinity, v.created + settings.leadMs));
  let activeIndex = -1;
  for (let i = versions.length - 1; i >= 0 && activeIndex < 0; i--) {
    if (inWindow(versions[i]!, now) && readyAt[i]! <= now) activeIndex = i;
  }
  if (activeIndex < 0) {
    // Nothing is ready: sign with the valid version published longest (earliest readyAt; older on ties).
    for (let i = 0; i < versions.length; i++) {
      if (inWindow(versions[i]!, now) && (activeIndex < 0 || readyAt[i]! < readyAt[activeIndex]!)) activeIndex = i;
    }
  }
  // The earliest readyAt among newer versions that can ever become ready, scanning newest first.
  const supersededAt: number[] = new Array<number>(versions.length);
  let earliest = Infinity;
  for (let i = versions.length - 1; i >= 0; i--) {
    supersededAt[i] = earliest;
    const v = versions[i]!;
    if (v.enabled && (v.expiresOn === undefined || readyAt[i]! < v.expiresOn)) earliest = Math.min(earliest, readyAt[i]!);
  }
  const out = versions.map((v, i): ScheduledVersion => {
    if (!v.enabled) return { version: v.version, state: 'disabled' };
    const ready = readyAt[i]!;
    if (i === activeIndex) return { version: v.version, state: 'active', readyAt: ready };
    const expired = v.expiresOn !== undefined && now >= v.expiresOn;
    if (i > activeIndex && !expired && ready > now) return { version: v.version, state: 'pending', readyAt: ready };
    const formula = Math.min(v.expiresOn ?? Infinity, supersededAt[i]!);
    const stoppedAt = Math.max(formula, lastSigned.get(v.version) ?? -Infinity);
    if (stoppedAt === Infinity) {
      // Not superseded and not expired, yet not active: before its nbf with an active newer one absent.
      return { version: v.version, state: 'pending', readyAt: ready };
    }
    const removeAt = stoppedAt + settings.tailMs;
    return { version: v.version, state: now < removeAt ? 'retired' : 'removed', readyAt: ready, stoppedAt, removeAt };
  });
  return { active: activeIndex < 0 ? undefined : versions[activeIndex]!.version, versions: out };
}

/** True for the states whose public key is in the JWKS. */
export function isPublished(state: VersionState): boolean {
  return state === 'pending' || state === 'active' || state === 'retired';
}
