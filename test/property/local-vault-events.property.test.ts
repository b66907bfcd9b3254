/**
 * The due-event scan as a property (events/due.ts on a bare VaultState): for any expiry, any
 * creation time and any schedule of scans on a clock that only moves forward, each of
 * NearExpiry and Expired is published at most once, exactly when a scan ran at or after its
 * due time, and always with the due time as its event time — never earlier, never twice, never
 * dependent on when the scans happened. Adversary: an arbitrary (fast-check) scan schedule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { publishDueEvents, NEAR_EXPIRY_SECONDS } from '../../src/local-vault/events/due.js';
import { appendVersion, SECRET_OBJECTS } from '../../src/local-vault/service/object-types.js';
import { VaultState } from '../../src/local-vault/service/state.js';

const T0 = 1_900_000_000; // seconds
const DAY = 86_400;

describe('due-event scan (property)', () => {
  it('NearExpiry at max(exp − 30 d, created) and Expired at max(exp, created): once each, iff a scan ran at or after it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -40 * DAY, max: 120 * DAY }), // exp relative to creation
        fc.array(fc.integer({ min: 0, max: 40 * DAY }), { minLength: 1, maxLength: 12 }), // clock steps between scans
        (expOffset, steps) => {
          let now = T0;
          const state = new VaultState({ softDeleteRetentionDays: 90, purgeProtection: false, flavour: 'premium' }, () => now * 1000);
          const exp = T0 + expOffset;
          appendVersion(SECRET_OBJECTS, state, 'p', { value: 'never-in-an-event', attributes: { enabled: true, created: T0, updated: T0, exp } });
          const scans: number[] = [];
          for (const step of steps) {
            now += step;
            publishDueEvents(state);
            scans.push(now);
          }
          const events = state.events.since(0).filter((e) => e.kind !== 'NewVersionCreated');
          const nearAt = Math.max(exp - NEAR_EXPIRY_SECONDS, T0);
          const last = scans.at(-1)!;
          const expected: [string, number][] = [];
          if (exp > T0 && last >= nearAt) expected.push(['NearExpiry', nearAt]);
          if (last >= exp) expected.push(['Expired', Math.max(exp, T0)]); // born expired: at its creation
          expected.sort((a, b) => a[1] - b[1] || (a[0] === 'NearExpiry' ? -1 : 1));
          expect(events.map((e) => [e.kind, e.time])).toEqual(expected);
          expect(JSON.stringify(state.events.snapshot())).not.toContain('never-in-an-event');
        },
      ),
      { numRuns: 300 },
    );
  });
});
