/**
 * The local vault's events (Event Grid schema) through the real KeyClient and SecretClient on an
 * injected clock. Adversaries: a clock one second short of the near-expiry or expiry time (no
 * event yet), a clock that keeps passing the same time (no second event), a version superseded
 * or deleted before its expiry (no event for it), an `exp` moved after its event (re-armed), a
 * rotation policy whose Notify action moves the key's near-expiry time, a listener that throws
 * or rejects (the vault and the other listeners carry on), and a consumer that scrapes the
 * events for a secret value (there is none).
 */
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalKeyVault, type KeyVaultEvent, type LocalKeyVaultOptions } from '../../src/local-vault/index.js';
import { ManualClock } from '../helpers/local-vault.js';
import { DAY_MS, EventRecorder, UUID } from '../helpers/vault-events.js';

const POLL = { intervalInMs: 1 };
const T0 = Date.UTC(2030, 0, 1);
const seconds = (ms: number): number => Math.floor(ms / 1000);

let vault: LocalKeyVault | undefined;
afterEach(async () => {
  await vault?.close();
  vault = undefined;
});

async function open(options: LocalKeyVaultOptions = {}) {
  const clock = new ManualClock(T0);
  vault = await LocalKeyVault.start({ clock: clock.now, events: { scanIntervalMs: 0 }, ...options });
  const recorder = new EventRecorder();
  vault.events.subscribe(recorder.listener);
  return {
    vault,
    clock,
    recorder,
    secrets: new SecretClient(vault.url, vault.credential(), vault.clientOptions),
    keys: new KeyClient(vault.url, vault.credential(), vault.clientOptions),
  };
}

describe('local vault events: schema', () => {
  it('setSecret publishes SecretNewVersionCreated in the Event Grid schema, with no value in it', async () => {
    const { clock, recorder, secrets } = await open();
    const expiresOn = new Date(T0 + 90 * DAY_MS);
    const notBefore = new Date(T0 - DAY_MS);
    const set = await secrets.setSecret('Db-Password', 'hunter2-value', { expiresOn, notBefore });
    expect(recorder.events).toHaveLength(1);
    const event = recorder.events[0]!;
    expect(event).toEqual({
      id: expect.stringMatching(UUID),
      topic: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.KeyVault/vaults/local',
      subject: 'Db-Password',
      eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
      eventTime: new Date(clock.seconds * 1000).toISOString(),
      data: {
        Id: set.properties.id,
        VaultName: 'local',
        ObjectType: 'Secret',
        ObjectName: 'Db-Password',
        Version: set.properties.version,
        NBF: seconds(notBefore.getTime()),
        EXP: seconds(expiresOn.getTime()),
      },
      dataVersion: '1',
      metadataVersion: '1',
    });
    expect(Object.keys(event.data)).toEqual(['Id', 'VaultName', 'ObjectType', 'ObjectName', 'Version', 'NBF', 'EXP']);
    await secrets.setSecret('plain', 'another-value');
    expect(recorder.events[1]!.data).toMatchObject({ NBF: null, EXP: null });
    expect(JSON.stringify(recorder.events)).not.toMatch(/hunter2|another-value/);
    expect(Object.isFrozen(event) && Object.isFrozen(event.data)).toBe(true);
  });

  it('names the configured topic and vault; over https the ids name the served address', async () => {
    const { recorder, secrets } = await open({
      transport: 'https',
      events: { scanIntervalMs: 0, vaultName: 'contoso-kv', subscriptionId: '11111111-2222-3333-4444-555555555555', resourceGroup: 'rg-app' },
    });
    const set = await secrets.setSecret('api-key', 'v');
    const event = recorder.events[0]!;
    expect(event.topic).toBe('/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/contoso-kv');
    expect(event.data.VaultName).toBe('contoso-kv');
    expect(event.data.Id).toBe(set.properties.id);
    expect(event.data.Id.startsWith(`${vault!.url}/secrets/api-key/`)).toBe(true);
  });

  it('refuses event options that are not resource names', async () => {
    await expect(LocalKeyVault.start({ events: { vaultName: 'a/b' } })).rejects.toThrow(RangeError);
    await expect(LocalKeyVault.start({ events: { scanIntervalMs: -1 } })).rejects.toThrow(RangeError);
    await expect(LocalKeyVault.start({ events: { resourceGroup: 7 as unknown as string } })).rejects.toThrow(TypeError);
  });
});

describe('local vault events: new versions', () => {
  it('create, import, rotate and policy auto-rotation each publish KeyNewVersionCreated for the version made', async () => {
    const { clock, recorder, keys } = await open();
    const created = await keys.createEcKey('signer', { curve: 'P-256' });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = privateKey.export({ format: 'jwk' });
    const b = (s: string | undefined): Uint8Array => Buffer.from(s ?? '', 'base64url');
    const imported = await keys.importKey('imported', { kty: 'EC', crv: 'P-256', x: b(jwk.x), y: b(jwk.y), d: b(jwk.d) });
    const rotated = await keys.rotateKey('signer');
    await keys.updateKeyRotationPolicy('signer', { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P30D' }] });
    clock.advanceDays(31);
    await vault!.events.processDue();
    const made = recorder.of('Microsoft.KeyVault.KeyNewVersionCreated');
    expect(made.map((e) => e.data.Id)).toEqual([created.id, imported.id, rotated.id, expect.stringContaining('/keys/signer/')]);
    const auto = made[3]!;
    // Made by the policy at the time it was due (30 days after the last version), not when seen.
    expect(auto.eventTime).toBe(new Date(T0 + 30 * DAY_MS).toISOString());
    const versions = [];
    for await (const p of keys.listPropertiesOfKeyVersions('signer')) versions.push(p.version);
    expect(versions).toContain(auto.data.Version);
    expect(made.every((e) => e.data.ObjectType === 'Key')).toBe(true);
  });
});

describe('local vault events: expiry', () => {
  it('SecretNearExpiry fires when the clock reaches exp − 30 days, once; SecretExpired at exp, once', async () => {
    const { clock, recorder, secrets } = await open();
    const exp = T0 + 45 * DAY_MS;
    const set = await secrets.setSecret('cert-pass', 'v', { expiresOn: new Date(exp) });
    const near = (): KeyVaultEvent[] => recorder.of('Microsoft.KeyVault.SecretNearExpiry');
    const expired = (): KeyVaultEvent[] => recorder.of('Microsoft.KeyVault.SecretExpired');

    clock.ms = exp - 30 * DAY_MS - 1000;
    await vault!.events.processDue();
    await secrets.getSecret('cert-pass');
    expect(near()).toHaveLength(0);
    clock.ms = exp - 30 * DAY_MS;
    await vault!.events.processDue();
    expect(near()).toHaveLength(1);
    expect(near()[0]!).toMatchObject({ eventTime: new Date(exp - 30 * DAY_MS).toISOString(), data: { Version: set.properties.version, EXP: seconds(exp) } });
    clock.advanceDays(10);
    await vault!.events.processDue();
    await secrets.getSecret('cert-pass');
    expect(near()).toHaveLength(1);

    clock.ms = exp - 1000;
    await vault!.events.processDue();
    expect(expired()).toHaveLength(0);
    clock.ms = exp;
    await secrets.getSecret('cert-pass'); // the request's maintenance step finds it too
    expect(expired()).toHaveLength(1);
    expect(expired()[0]!.eventTime).toBe(new Date(exp).toISOString());
    clock.advanceDays(400);
    await vault!.events.processDue();
    await secrets.getSecret('cert-pass');
    expect(near()).toHaveLength(1);
    expect(expired()).toHaveLength(1);
  });

  it('a clock that jumps past both times publishes both, in order, at the times they fell due', async () => {
    const { clock, recorder, secrets } = await open();
    const exp = T0 + 40 * DAY_MS;
    await secrets.setSecret('jumped', 'v', { expiresOn: new Date(exp) });
    clock.advanceDays(100);
    await vault!.events.processDue();
    expect(recorder.types()).toEqual(['SecretNewVersionCreated', 'SecretNearExpiry', 'SecretExpired']);
    expect(recorder.events.slice(1).map((e) => e.eventTime)).toEqual([new Date(exp - 30 * DAY_MS).toISOString(), new Date(exp).toISOString()]);
  });

  it('only the current version of an active object: a superseded or deleted one gets no expiry event', async () => {
    const { clock, recorder, secrets } = await open();
    await secrets.setSecret('rotating', 'old', { expiresOn: new Date(T0 + 35 * DAY_MS) });
    await secrets.setSecret('rotating', 'new');
    await secrets.setSecret('gone', 'v', { expiresOn: new Date(T0 + 35 * DAY_MS) });
    await (await secrets.beginDeleteSecret('gone', POLL)).pollUntilDone();
    clock.advanceDays(60);
    await vault!.events.processDue();
    expect(recorder.types().filter((t) => !t.endsWith('NewVersionCreated'))).toEqual([]);
  });

  it('a version born inside the window has NearExpiry at its creation; one born expired only Expired', async () => {
    const { recorder, secrets } = await open();
    await secrets.setSecret('short', 'v', { expiresOn: new Date(T0 + 5 * DAY_MS) });
    await secrets.setSecret('stale', 'v', { expiresOn: new Date(T0 - DAY_MS) });
    await vault!.events.processDue();
    expect(recorder.of('Microsoft.KeyVault.SecretNearExpiry').map((e) => [e.subject, e.eventTime])).toEqual([['short', new Date(T0).toISOString()]]);
    expect(recorder.of('Microsoft.KeyVault.SecretExpired').map((e) => [e.subject, e.eventTime])).toEqual([['stale', new Date(T0).toISOString()]]);
  });

  it('moving exp after NearExpiry re-arms it for the new date', async () => {
    const { clock, recorder, secrets } = await open();
    const set = await secrets.setSecret('extended', 'v', { expiresOn: new Date(T0 + 31 * DAY_MS) });
    clock.advanceDays(2);
    await vault!.events.processDue();
    const later = T0 + 90 * DAY_MS;
    await secrets.updateSecretProperties('extended', set.properties.version!, { expiresOn: new Date(later) });
    clock.ms = later - 30 * DAY_MS;
    await vault!.events.processDue();
    expect(recorder.of('Microsoft.KeyVault.SecretNearExpiry').map((e) => e.data.EXP)).toEqual([seconds(T0 + 31 * DAY_MS), seconds(later)]);
  });

  it("keys: KeyNearExpiry 30 days before by default, at the rotation policy's Notify timeBeforeExpiry when it has one", async () => {
    const { clock, recorder, keys } = await open();
    const exp = T0 + 60 * DAY_MS;
    await keys.createRsaKey('default-notify', { keySize: 2048, expiresOn: new Date(exp) });
    await keys.createRsaKey('policy-notify', { keySize: 2048, expiresOn: new Date(exp) });
    await keys.updateKeyRotationPolicy('policy-notify', { lifetimeActions: [{ action: 'Notify', timeBeforeExpiry: 'P10D' }] });
    const near = (name: string): KeyVaultEvent[] => recorder.of('Microsoft.KeyVault.KeyNearExpiry', name);
    clock.ms = exp - 30 * DAY_MS;
    await vault!.events.processDue();
    expect(near('default-notify')).toHaveLength(1);
    expect(near('policy-notify')).toHaveLength(0);
    clock.ms = exp - 10 * DAY_MS - 1000;
    await vault!.events.processDue();
    expect(near('policy-notify')).toHaveLength(0);
    clock.ms = exp - 10 * DAY_MS;
    await keys.getKey('policy-notify');
    expect(near('policy-notify').map((e) => e.eventTime)).toEqual([new Date(exp - 10 * DAY_MS).toISOString()]);
    clock.ms = exp;
    await vault!.events.processDue();
    expect(recorder.of('Microsoft.KeyVault.KeyExpired').map((e) => e.subject).sort()).toEqual(['default-notify', 'policy-notify']);
  });

  it('the timer finds due events without any request (real-time interval, injected clock)', async () => {
    const { clock, recorder, secrets } = await open({ events: { scanIntervalMs: 10 } });
    await secrets.setSecret('timed', 'v', { expiresOn: new Date(T0 + 40 * DAY_MS) });
    clock.advanceDays(15);
    await vi.waitFor(() => expect(recorder.of('Microsoft.KeyVault.SecretNearExpiry')).toHaveLength(1), { timeout: 5000, interval: 10 });
  });
});

describe('local vault events: subscribers', () => {
  it('a listener that throws or rejects breaks neither the vault nor the other listeners', async () => {
    const { recorder, secrets } = await open();
    const errors: unknown[] = [];
    vault!.events.subscribe(() => {
      throw new Error('listener bug');
    }, { onError: (e) => errors.push(e) });
    vault!.events.subscribe(async () => Promise.reject(new Error('async bug')), { onError: (e) => errors.push(e) });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      vault!.events.subscribe(() => {
        throw new Error('unhandled listener bug');
      });
      const late = new EventRecorder();
      vault!.events.subscribe(late.listener);
      await secrets.setSecret('a', '1');
      await secrets.setSecret('b', '2');
      expect((await secrets.getSecret('a')).value).toBe('1');
      expect(recorder.events).toHaveLength(2);
      expect(late.events).toHaveLength(2);
      await vi.waitFor(() => expect(errors.map((e) => (e as Error).message).sort()).toEqual(['async bug', 'async bug', 'listener bug', 'listener bug']));
      expect(warn).toHaveBeenCalledTimes(1); // once per listener, not per event
      expect(String(warn.mock.calls[0]![0])).toContain('unhandled listener bug');
    } finally {
      warn.mockRestore();
    }
  });

  it('eventTypes filters; unsubscribe stops delivery', async () => {
    const { secrets, keys } = await open();
    const onlySecrets = new EventRecorder();
    const stop = vault!.events.subscribe(onlySecrets.listener, { eventTypes: ['Microsoft.KeyVault.SecretNewVersionCreated'] });
    await keys.createEcKey('k');
    await secrets.setSecret('s', 'v');
    expect(onlySecrets.types()).toEqual(['SecretNewVersionCreated']);
    stop();
    await secrets.setSecret('s', 'v2');
    expect(onlySecrets.events).toHaveLength(1);
    expect(() => vault!.events.subscribe('nope' as never)).toThrow(TypeError);
  });
});
