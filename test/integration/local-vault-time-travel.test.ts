/**
 * Time travel: the vault's clock moved forward by an ISO 8601 duration, from the API and over
 * the authenticated admin endpoint, with the maintenance the service runs on its timers
 * (rotation policies, automatic purge, due expiry events) done at once and persisted, and the offset kept across
 * restarts of a persisted vault.
 *
 * Adversaries: a test in another language that can only reach the vault over HTTPS and must
 * see a rotation policy fire and a soft-deleted key purge without waiting 30 days; a caller
 * with a data-plane role (or no token) that tries to move the clock; a duration that is not one.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, rawRequest } from '../helpers/local-vault.js';

const DAY_MS = 86_400_000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kv-time-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function persisted(stateFile: string): Promise<{ clockOffsetMs: number; objects: { keys: { name: string; versions: unknown[] }[] } }> {
  return JSON.parse(await readFile(stateFile, 'utf8')) as never;
}

/** A real HTTPS request as another language's test would send it (no Azure pipeline). */
function https(vault: LocalKeyVault, method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, vault.url);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = request(url, { method, headers, ca: vault.caPem }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function tokenOf(vault: LocalKeyVault, principal?: string): Promise<string> {
  return (await vault.credential(principal).getToken(`${vault.resource}/.default`))?.token ?? '';
}

describe('time travel', () => {
  it('advanceTime runs due rotations and purges at once and persists them; a restart keeps the offset', async () => {
    const stateFile = join(dir, 'vault.json');
    const vault = await LocalKeyVault.start({ stateFile, softDeleteRetentionDays: 7 });
    const client = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    const first = await client.createEcKey('rotating');
    await client.updateKeyRotationPolicy('rotating', { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P30D' }], expiresIn: 'P90D' });
    await client.createEcKey('doomed');
    await (await client.beginDeleteKey('doomed', { intervalInMs: 1 })).pollUntilDone();

    const before = Date.now();
    const reading = await vault.advanceTime('P31D');
    expect(reading.offsetMs).toBe(31 * DAY_MS);
    expect(reading.nowMs - before).toBeGreaterThanOrEqual(31 * DAY_MS);
    // No request since: the file already holds the rotation and lacks the purged key.
    const file = await persisted(stateFile);
    expect(file.clockOffsetMs).toBe(31 * DAY_MS);
    expect(file.objects.keys.find((k) => k.name === 'rotating')?.versions).toHaveLength(2);
    expect(file.objects.keys.some((k) => k.name === 'doomed')).toBe(false);
    const rotated = await client.getKey('rotating');
    expect(rotated.properties.version).not.toBe(first.properties.version);
    // The new version was created when it was due, 30 days after the first.
    expect(rotated.properties.createdOn!.getTime() - first.properties.createdOn!.getTime()).toBe(30 * DAY_MS);
    await expectRestError(client.getDeletedKey('doomed'), 404, 'KeyNotFound');
    await vault.close();

    const again = await LocalKeyVault.start({ stateFile });
    try {
      expect((await again.readClock()).offsetMs).toBe(31 * DAY_MS);
      expect((await again.advanceTime('PT1H')).offsetMs).toBe(31 * DAY_MS + 3_600_000);
    } finally {
      await again.close();
    }
  });

  it('publishes the expiry events that became due, dated when they fell due, before advanceTime resolves', async () => {
    const vault = await LocalKeyVault.start({ events: { scanIntervalMs: 0 } });
    try {
      const secrets = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
      const expiresOn = new Date(Date.now() + 40 * DAY_MS);
      await secrets.setSecret('api-key', 'v1', { expiresOn });
      const seen: { type: string; time: string }[] = [];
      vault.events.subscribe((e) => void seen.push({ type: e.eventType, time: e.eventTime }), {
        eventTypes: ['Microsoft.KeyVault.SecretNearExpiry', 'Microsoft.KeyVault.SecretExpired'],
      });
      await vault.advanceTime('P11D');
      expect(seen.map((e) => e.type)).toEqual(['Microsoft.KeyVault.SecretNearExpiry']);
      // 30 days before expiry, not the time of the jump.
      expect(Date.parse(seen[0]!.time)).toBe(Math.floor(expiresOn.getTime() / 1000) * 1000 - 30 * DAY_MS);
      await vault.advanceTime('P30D');
      expect(seen.map((e) => e.type)).toEqual(['Microsoft.KeyVault.SecretNearExpiry', 'Microsoft.KeyVault.SecretExpired']);
    } finally {
      await vault.close();
    }
  });

  it('refuses what is not an ISO 8601 duration', async () => {
    const vault = await LocalKeyVault.start();
    try {
      for (const bad of ['30 days', 'P', '-P1D', 'PT', '']) await expect(vault.advanceTime(bad), bad).rejects.toMatchObject({ status: 400, code: 'BadParameter' });
      expect((await vault.readClock()).offsetMs).toBe(0);
    } finally {
      await vault.close();
    }
  });

  it('over HTTPS: POST /admin/clock with the admin token advances; GET reads; others are refused', async () => {
    const vault = await LocalKeyVault.start({ transport: 'https', softDeleteRetentionDays: 7 });
    try {
      const admin = await tokenOf(vault);
      const client = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
      await client.createRsaKey('kek');
      await client.updateKeyRotationPolicy('kek', { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P30D' }], expiresIn: 'P90D' });
      await client.createEcKey('gone');
      await (await client.beginDeleteKey('gone', { intervalInMs: 1 })).pollUntilDone();

      expect((await https(vault, 'POST', '/admin/clock', undefined, { advance: 'P30D' })).status).toBe(401);
      vault.assignRole('officer', 'Key Vault Administrator');
      const denied = await https(vault, 'POST', '/admin/clock', await tokenOf(vault, 'officer'), { advance: 'P30D' });
      expect(denied.status).toBe(403);
      const bad = await https(vault, 'POST', '/admin/clock', admin, { advance: 'thirty days' });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('BadParameter');
      expect((await https(vault, 'GET', '/admin/clock', admin)).json.offsetMs).toBe(0);

      const moved = await https(vault, 'POST', '/admin/clock', admin, { advance: 'P31D' });
      expect(moved.status).toBe(200);
      expect(moved.json.offsetMs).toBe(31 * DAY_MS);
      expect(Date.parse(moved.json.now)).toBe(moved.json.nowMs);
      const read = await https(vault, 'GET', '/admin/clock', admin);
      expect(read.json.offsetMs).toBe(31 * DAY_MS);
      // The rotation policy fired and the soft-deleted key was purged.
      const versions = [];
      for await (const v of client.listPropertiesOfKeyVersions('kek')) versions.push(v);
      expect(versions).toHaveLength(2);
      await expectRestError(client.getDeletedKey('gone'), 404, 'KeyNotFound');
      // Unknown admin paths and methods.
      expect((await https(vault, 'GET', '/admin/nothing', admin)).status).toBe(404);
      expect((await https(vault, 'DELETE', '/admin/clock', admin)).status).toBe(405);
    } finally {
      await vault.close();
    }
  });

  it('the in-process transport serves the admin endpoint too (the same handler)', async () => {
    const vault = await LocalKeyVault.start();
    try {
      const response = await rawRequest(vault, 'POST', '/admin/clock', { body: { advance: 'P1D' } });
      expect(response.status).toBe(200);
      expect(response.json.offsetMs).toBe(DAY_MS);
    } finally {
      await vault.close();
    }
  });
});
