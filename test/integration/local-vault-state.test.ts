/**
 * Time and persistence on both transports: rotation policies executed against the injected
 * clock (catching up missed rotations deterministically), and the state file carrying keys,
 * soft-delete state, role assignments, the token secret and the certificate across restarts.
 */
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, ManualClock, publicKeyObject, TRANSPORTS } from '../helpers/local-vault.js';

const DAY_S = 86_400;

async function versionsOf(client: KeyClient, name: string): Promise<{ version: string; created: number; expires?: number }[]> {
  const out = [];
  for await (const p of client.listPropertiesOfKeyVersions(name)) {
    const expires = p.expiresOn ? p.expiresOn.getTime() / 1000 : undefined;
    out.push({ version: p.version ?? '', created: (p.createdOn?.getTime() ?? 0) / 1000, ...(expires ? { expires } : {}) });
  }
  return out;
}

describe.each(TRANSPORTS)('local vault rotation policy (%s)', (transport) => {
  let vault: LocalKeyVault;
  let client: KeyClient;
  const clock = new ManualClock(Date.UTC(2030, 0, 1));

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport, clock: clock.now });
    client = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  it('reports the default policy until one is set', async () => {
    await client.createEcKey('default');
    const policy = await client.getKeyRotationPolicy('default');
    expect(policy.id).toBe(`${vault.url}/keys/default/rotationpolicy`);
    expect(policy.lifetimeActions).toEqual([{ action: 'Notify', timeBeforeExpiry: 'P30D' }]);
  });

  it('rotates timeAfterCreate after the injected clock passes it, catching up missed rotations', async () => {
    const first = await client.createEcKey('auto');
    const created = clock.seconds;
    const policy = await client.updateKeyRotationPolicy('auto', {
      lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P30D' }],
      expiresIn: 'P90D',
    });
    expect(policy.lifetimeActions).toEqual([{ action: 'Rotate', timeAfterCreate: 'P30D' }]);
    expect(policy.expiresIn).toBe('P90D');

    clock.advanceDays(29);
    expect((await client.getKey('auto')).id).toBe(first.id);
    clock.advanceDays(2);
    const rotated = await client.getKey('auto');
    expect(rotated.id).not.toBe(first.id);
    expect(rotated.properties.createdOn?.getTime()).toBe((created + 30 * DAY_S) * 1000);
    expect(rotated.properties.expiresOn?.getTime()).toBe((created + 120 * DAY_S) * 1000);
    expect(rotated.keyOperations).toEqual(['sign', 'verify']);

    clock.advanceDays(65); // day 96: rotations were due on days 60 and 90
    const versions = await versionsOf(client, 'auto');
    // Version lists are not in creation order (sorted by version id): compare the creation times.
    expect(versions.map((v) => v.created - created).sort((a, b) => a - b)).toEqual([0, 30, 60, 90].map((d) => d * DAY_S));
  });

  it('rotates timeBeforeExpiry relative to the version expiry set by expiresIn', async () => {
    await client.createEcKey('expiring');
    await client.updateKeyRotationPolicy('expiring', {
      lifetimeActions: [{ action: 'Rotate', timeBeforeExpiry: 'P10D' }],
      expiresIn: 'P30D',
    });
    const manual = await client.rotateKey('expiring');
    const rotatedAt = clock.seconds;
    expect(manual.properties.expiresOn?.getTime()).toBe((rotatedAt + 30 * DAY_S) * 1000);
    clock.advanceDays(19);
    expect((await client.getKey('expiring')).id).toBe(manual.id);
    clock.advanceDays(1);
    const next = await client.getKey('expiring');
    expect(next.id).not.toBe(manual.id);
    expect(next.properties.createdOn?.getTime()).toBe((rotatedAt + 20 * DAY_S) * 1000);
  });

  it('refuses policies the service refuses with 400 BadParameter', async () => {
    await client.createEcKey('strict');
    const bad = [
      { lifetimeActions: [{ action: 'Rotate' as const, timeAfterCreate: 'P1D' }] },
      { lifetimeActions: [{ action: 'Rotate' as const, timeAfterCreate: 'P30D' }], expiresIn: 'P7D' },
      { lifetimeActions: [{ action: 'Rotate' as const, timeAfterCreate: 'soon' }] },
      { lifetimeActions: [{ action: 'Rotate' as const, timeBeforeExpiry: 'P60D' }], expiresIn: 'P30D' },
    ];
    for (const policy of bad) await expectRestError(client.updateKeyRotationPolicy('strict', policy), 400, 'BadParameter');
  });
});

describe.each(TRANSPORTS)('local vault state file (%s)', (transport) => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kv-local-vault-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps keys, deleted keys, roles, the token secret and the certificate across close/start', async () => {
    const stateFile = join(dir, 'vault.json');
    const first = await LocalKeyVault.start({ transport, stateFile });
    const client = new KeyClient(first.url, first.credential(), first.clientOptions);
    const kek = await client.createRsaKey('kek', { keySize: 2048 });
    await client.createEcKey('gone');
    await (await client.beginDeleteKey('gone', { intervalInMs: 1 })).pollUntilDone();
    first.assignRole('alice', 'Key Vault Crypto User');
    const dek = randomBytes(32);
    const wrapped = publicEncrypt({ key: publicKeyObject(kek.key ?? {}), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, dek);
    const aliceFromFirstRun = first.credential('alice');
    await first.close();

    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['vault.json']);

    const second = await LocalKeyVault.start({ transport, stateFile });
    try {
      expect(second.caPem).toBe(first.caPem);
      const again = new KeyClient(second.url, second.credential(), second.clientOptions);
      expect((await again.getKey('kek')).properties.version).toBe(kek.properties.version);
      expect((await again.getDeletedKey('gone')).name).toBe('gone');
      // A token minted before the restart is still valid: same secret, same role assignment.
      const kid = `${second.url}/keys/kek/${kek.properties.version}`;
      const unwrapped = await new CryptographyClient(kid, aliceFromFirstRun, second.clientOptions).unwrapKey('RSA-OAEP-256', wrapped);
      expect(Buffer.from(unwrapped.result).equals(dek)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('refuses a corrupt state file', async () => {
    const stateFile = join(dir, 'corrupt.json');
    await writeFile(stateFile, '{"format":"something else"}');
    await expect(LocalKeyVault.start({ transport, stateFile })).rejects.toThrow(/not a local vault state file/);
  });
});
