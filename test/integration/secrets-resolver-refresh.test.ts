/**
 * SecretResolver's refresh rules, against the local vault through the real SecretClient on both
 * transports. Adversaries: a fleet of resolvers that would all refresh at the same instant
 * without jitter, a vault that starts failing (503) after a good read — the last good value must
 * be served, with refreshFailed each time, and only until it expires —, a throttling vault (429
 * without Retry-After), a thundering herd, and the vault's own near-expiry / expired events fed
 * to the resolver: every event names the secret and its version, never its value.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { SecretError, type SecretEvent, SecretResolver } from '../../src/secrets/index.js';
import { ManualClock, TRANSPORTS } from '../helpers/local-vault.js';
import { DAY_MS } from '../helpers/vault-events.js';

const FAST = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 };
const MINUTE = 60_000;
const VALUE = 'v4lue-that-must-never-print';

function printed(...things: unknown[]): string {
  return things.map((t) => `${inspect(t, { depth: 10, showHidden: true })}\n${JSON.stringify(t) ?? ''}`).join('\n');
}

const open: { vault: LocalKeyVault; resolvers: SecretResolver[] }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const o of open.splice(0)) {
    for (const r of o.resolvers) r.close();
    await o.vault.close();
  }
});

async function setup(transport: (typeof TRANSPORTS)[number] = 'in-process', events = false) {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const vault = await LocalKeyVault.start({ transport, clock: clock.now, ...(events ? { events: { scanIntervalMs: 0 } } : {}) });
  const resolvers: SecretResolver[] = [];
  open.push({ vault, resolvers });
  const admin = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
  const resolver = (refreshInterval = MINUTE) => {
    const r = new SecretResolver({ credential: vault.credential(), clientOptions: vault.clientOptions, now: clock.now, retry: FAST, refreshInterval, allowedVaults: [vault.url] });
    resolvers.push(r);
    return r;
  };
  // The App Service grammar has no port: over https the reference is given parsed.
  const ref = (name: string) => ({ vaultUrl: vault.url, name, version: undefined });
  return { clock, vault, admin, resolver, ref };
}

describe.each(TRANSPORTS)('SecretResolver refresh (%s)', (transport) => {
  it('picks up a rotation within refreshInterval; a herd of resolves during a 429 makes one logical read that backs off', async () => {
    const { clock, vault, admin, resolver, ref } = await setup(transport);
    await admin.setSecret('api-key', 'one');
    const r = resolver();
    expect(await r.resolve(ref('api-key'))).toBe('one');
    const second = await admin.setSecret('api-key', 'two');
    clock.ms += 0.85 * MINUTE; // below the interval minus the largest jitter
    expect(await r.resolve(ref('api-key'))).toBe('one');
    vault.faults.next(1, { type: '429', operations: ['getSecret'] });
    vault.stats.reset();
    clock.ms += 0.3 * MINUTE; // 1.15 intervals: past the largest jitter
    const values = await Promise.all(Array.from({ length: 10 }, () => r.resolve(ref('api-key'))));
    expect(new Set(values)).toEqual(new Set(['two']));
    expect(vault.stats.byStatus['429']).toBe(1);
    expect(vault.stats.byOperation.getSecret).toBe(2); // the throttled call and its one retry, for ten callers
    expect(r.toJSON()).toEqual({ secrets: [`${vault.url}/secrets/api-key`] });
    expect(second.properties.version).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('SecretResolver refresh timing', () => {
  it('jitters refreshInterval by ±10%: the lowest draw refreshes at 0.9×, the highest not before 1.1×', async () => {
    const { clock, vault, admin, resolver, ref } = await setup();
    await admin.setSecret('jittered', 'a');
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    const early = resolver();
    await early.resolve(ref('jittered'));
    random.mockReturnValue(0.999_999);
    const late = resolver();
    await late.resolve(ref('jittered'));
    vault.stats.reset();
    clock.ms += 0.91 * MINUTE;
    await early.resolve(ref('jittered'));
    await late.resolve(ref('jittered'));
    expect(vault.stats.byOperation.getSecret).toBe(1); // only the early one
    clock.ms += 0.18 * MINUTE; // 1.09 intervals
    await late.resolve(ref('jittered'));
    expect(vault.stats.byOperation.getSecret).toBe(1);
    clock.ms += 0.02 * MINUTE; // 1.11
    await late.resolve(ref('jittered'));
    expect(vault.stats.byOperation.getSecret).toBe(2);
  });

  it('a refreshInterval beyond what a timer holds (24.8 days) is not turned into a 1 ms refresh loop', async () => {
    const { vault, admin, resolver, ref } = await setup();
    await admin.setSecret('yearly', 'y');
    const r = resolver(365 * DAY_MS);
    await r.resolve(ref('yearly'));
    vault.stats.reset();
    await new Promise((resolve) => setTimeout(resolve, 100)); // Node fires an overflowing setTimeout after 1 ms
    expect(vault.stats.byOperation.getSecret ?? 0).toBe(0);
  });

  it('close() stops refreshes, forgets the values, and makes later resolves and events no-ops that send nothing', async () => {
    const { vault, admin, resolver, ref } = await setup();
    await admin.setSecret('closing', VALUE);
    const r = resolver();
    await r.resolve(ref('closing'));
    r.close();
    vault.stats.reset();
    await expect(r.resolve(ref('closing'))).rejects.toThrow('the resolver is closed');
    r.handleEvent({ eventType: 'Microsoft.KeyVault.SecretNewVersionCreated', data: { Id: `${vault.url}/secrets/closing/${'0'.repeat(32)}`, ObjectName: 'closing' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(vault.stats.total).toBe(0);
    expect(r.toJSON()).toEqual({ secrets: [] });
  });

  it('a failed refresh serves the last good value and emits refreshFailed each time, until the value expires; then it fails', async () => {
    const { clock, vault, admin, resolver, ref } = await setup();
    const set = await admin.setSecret('flaky', VALUE, { expiresOn: new Date(clock.ms + 5 * MINUTE) });
    const r = resolver();
    const failed: SecretEvent[] = [];
    r.on('refreshFailed', (e: SecretEvent) => failed.push(e));
    expect(await r.resolve(ref('flaky'))).toBe(VALUE);
    vault.faults.rate(1, { type: '503', operations: ['getSecret'] });
    clock.ms += 2 * MINUTE;
    expect(await r.resolve(ref('flaky'))).toBe(VALUE);
    clock.ms += 2 * MINUTE;
    expect(await r.resolve(ref('flaky'))).toBe(VALUE);
    expect(failed.map((e) => [e.name, e.version, e.error?.code])).toEqual([
      ['flaky', set.properties.version, 'ERR_SECRET_UNAVAILABLE'],
      ['flaky', set.properties.version, 'ERR_SECRET_UNAVAILABLE'],
    ]);
    const expired: SecretEvent[] = [];
    r.on('expired', (e: SecretEvent) => expired.push(e));
    clock.ms += 2 * MINUTE; // past expiresOn: the last good value is no longer served
    const error = await r.resolve(ref('flaky')).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    // As docs/secrets.md says: ERR_SECRET_EXPIRED, with the refresh failure as its cause.
    expect((error as SecretError).code).toBe('ERR_SECRET_EXPIRED');
    expect(((error as SecretError).cause as SecretError).code).toBe('ERR_SECRET_UNAVAILABLE');
    expect(expired.map((e) => [e.name, e.version])).toEqual([['flaky', set.properties.version]]);
    vault.faults.clear();
    expect(printed(failed, expired, error, (error as SecretError).cause)).not.toContain(VALUE);
  });

  it("emits nearExpiry once per version as the resolver's clock enters the window, and expired once it passes", async () => {
    const { clock, admin, resolver, ref } = await setup();
    const set = await admin.setSecret('expiring', VALUE, { expiresOn: new Date(clock.ms + 31 * DAY_MS) });
    const r = resolver(365 * DAY_MS); // never refreshed during the test: the clock alone decides
    const seen: [string, SecretEvent][] = [];
    for (const type of ['nearExpiry', 'expired', 'rotated']) r.on(type, (e: SecretEvent) => seen.push([type, e]));
    await r.resolve(ref('expiring'));
    expect(seen).toEqual([]);
    clock.advanceDays(1.5);
    await r.resolve(ref('expiring'));
    await r.resolve(ref('expiring'));
    expect(seen.map(([t, e]) => [t, e.name, e.version])).toEqual([['nearExpiry', 'expiring', set.properties.version]]);
    clock.advanceDays(30);
    await expect(r.resolve(ref('expiring'))).rejects.toMatchObject({ code: 'ERR_SECRET_EXPIRED' });
    await expect(r.resolve(ref('expiring'))).rejects.toMatchObject({ code: 'ERR_SECRET_EXPIRED' });
    expect(seen.map(([t]) => t)).toEqual(['nearExpiry', 'expired']);
    expect(printed(seen)).not.toContain(VALUE);
  });

  it("re-emits the vault's SecretNearExpiry and SecretExpired events for the secrets it serves, with name and version only", async () => {
    const { clock, vault, admin, resolver, ref } = await setup('in-process', true);
    const r = resolver(365 * DAY_MS);
    vault.events.subscribe((event) => r.handleEvent(event));
    const set = await admin.setSecret('served', VALUE, { expiresOn: new Date(clock.ms + 40 * DAY_MS) });
    await admin.setSecret('not-served', 'other', { expiresOn: new Date(clock.ms + 40 * DAY_MS) });
    await r.resolve(ref('served'));
    const seen: [string, SecretEvent][] = [];
    for (const type of ['nearExpiry', 'expired']) r.on(type, (e: SecretEvent) => seen.push([type, e]));
    clock.advanceDays(11);
    await vault.events.processDue();
    expect(seen.map(([t, e]) => [t, e.name, e.version])).toEqual([['nearExpiry', 'served', set.properties.version]]);
    clock.advanceDays(30);
    await vault.events.processDue();
    expect(seen.map(([t, e]) => [t, e.name, e.version])).toEqual([
      ['nearExpiry', 'served', set.properties.version],
      ['expired', 'served', set.properties.version],
    ]);
    expect(printed(seen)).not.toContain(VALUE);
  });
});
