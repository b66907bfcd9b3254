/**
 * The rotation schedule as a pure function (src/jwt/rotation/schedule.ts): pending → active →
 * retired → removed, disabled = revoked, nbf/exp, the bootstrap/emergency fallback, and that
 * the answer depends only on the versions and the clock.
 */
import { describe, expect, it } from 'vitest';
import { computeSchedule, type VersionTimes } from '../../src/jwt/rotation/schedule.js';

const H = 3_600_000;
const settings = { leadMs: 1 * H, tailMs: 2 * H };
const v = (version: string, created: number, extra: Partial<VersionTimes> = {}): VersionTimes => ({ version, created, enabled: true, ...extra });
const states = (versions: VersionTimes[], now: number, lastSigned?: Map<string, number>) =>
  computeSchedule(versions, settings, now, lastSigned).versions.map((s) => `${s.version}:${s.state}`);

describe('computeSchedule', () => {
  const v1 = v('v1', 0);
  const v2 = v('v2', 10 * H);

  it('a single version is active at once (nothing older can sign), and stays active', () => {
    expect(computeSchedule([v1], settings, 0).active).toBe('v1');
    expect(computeSchedule([v1], settings, 100 * H).active).toBe('v1');
  });

  it('a new version is pending (published) for the lead time while the previous one signs', () => {
    expect(states([v1, v2], 10 * H)).toEqual(['v1:active', 'v2:pending']);
    expect(states([v1, v2], 11 * H - 1)).toEqual(['v1:active', 'v2:pending']);
    expect(states([v1, v2], 11 * H)).toEqual(['v1:retired', 'v2:active']);
  });

  it('the retired version stays published for the tail after it stopped signing, then is removed', () => {
    const s = computeSchedule([v1, v2], settings, 12 * H).versions[0]!;
    expect(s).toMatchObject({ state: 'retired', stoppedAt: 11 * H, removeAt: 13 * H });
    expect(states([v1, v2], 13 * H - 1)).toEqual(['v1:retired', 'v2:active']);
    expect(states([v1, v2], 13 * H)).toEqual(['v1:removed', 'v2:active']);
  });

  it('a disabled version is never published; disabling the active one brings back the previous one', () => {
    expect(states([v1, { ...v2, enabled: false }], 12 * H)).toEqual(['v1:active', 'v2:disabled']);
    expect(states([{ ...v1, enabled: false }, v2], 10 * H)).toEqual(['v1:disabled', 'v2:active']); // emergency: v2 at once
  });

  it('nbf gates activation even past the lead time; exp ends signing', () => {
    const gated = { ...v2, notBefore: 15 * H };
    expect(states([v1, gated], 12 * H)).toEqual(['v1:active', 'v2:pending']);
    expect(states([v1, gated], 15 * H)).toEqual(['v1:retired', 'v2:active']);
    const expiring = { ...v1, expiresOn: 5 * H };
    expect(computeSchedule([expiring], settings, 5 * H).active).toBeUndefined();
    expect(computeSchedule([expiring], settings, 5 * H).versions[0]).toMatchObject({ state: 'retired', stoppedAt: 5 * H, removeAt: 7 * H });
  });

  it('an older version whose newer one expired early signs again (newest valid wins)', () => {
    expect(states([v1, { ...v2, expiresOn: 12 * H }], 12 * H)).toEqual(['v1:active', 'v2:retired']);
  });

  it('a version this process signed with stays published for the tail after its last signature', () => {
    const last = new Map([['v1', 12 * H]]);
    expect(states([v1, v2], 13 * H, last)).toEqual(['v1:retired', 'v2:active']);
    expect(states([v1, v2], 14 * H, last)).toEqual(['v1:removed', 'v2:active']);
  });

  it('three quick rotations: only the newest ready version signs; superseded ones leave on schedule', () => {
    const v3 = v('v3', 10 * H + 10 * 60_000);
    expect(states([v1, v2, v3], 11 * H)).toEqual(['v1:retired', 'v2:active', 'v3:pending']);
    expect(states([v1, v2, v3], 11 * H + 10 * 60_000)).toEqual(['v1:retired', 'v2:retired', 'v3:active']);
    expect(states([v1, v2, v3], 13 * H + 10 * 60_000)).toEqual(['v1:removed', 'v2:removed', 'v3:active']);
  });

  it('a key rotated within its first lead time keeps signing with the version in use until the new one is ready', () => {
    // Before: nothing was ready, so the NEWEST valid version signed at once (a JWKS client with a
    // 30 s refetch cooldown refused it). Now: the one published longest (earliest readyAt).
    const early = v('v2', 10 * 60_000);
    expect(states([v1, early], 10 * 60_000)).toEqual(['v1:active', 'v2:pending']);
    expect(states([v1, early], 1 * H + 5 * 60_000)).toEqual(['v1:active', 'v2:pending']);
    expect(states([v1, early], 1 * H + 10 * 60_000)).toEqual(['v1:retired', 'v2:active']);
    // An emergency (the signing version disabled) still switches at once: nothing else can sign.
    expect(states([{ ...v1, enabled: false }, early], 10 * 60_000)).toEqual(['v1:disabled', 'v2:active']);
  });

  it('is a function of the versions and the clock only (every instance agrees)', () => {
    const a = computeSchedule([v1, v2], settings, 12 * H);
    const b = computeSchedule([{ ...v1 }, { ...v2 }], settings, 12 * H);
    expect(a).toEqual(b);
  });
});
