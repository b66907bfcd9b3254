/**
 * Object names are case-insensitive, as in Azure Key Vault, for keys through the real KeyClient
 * and CryptographyClient on both transports. The adversary: code (or a second team) that spells
 * a key `mixedcase` where it was created as `MixedCase` — locally that used to be a second key or
 * a 404, while Azure answers with the one key, under the name as created.
 */
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, rawRequest, retryWhileInProgress, TRANSPORTS } from '../helpers/local-vault.js';

describe.each(TRANSPORTS)('local vault: case-insensitive key names (%s)', (transport) => {
  let vault: LocalKeyVault;
  let client: KeyClient;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    client = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  it('MixedCase and mixedcase are one key; responses keep the name as created', async () => {
    const created = await client.createEcKey('MixedCase');
    const got = await client.getKey('mixedcase');
    expect(got.name).toBe('MixedCase');
    expect(got.id).toBe(created.id);
    expect((await rawRequest(vault, 'GET', '/keys/MIXEDCASE?api-version=7.5')).status).toBe(200);

    const second = await client.createEcKey('mixedcase');
    expect(second.name).toBe('MixedCase');
    const versions = [];
    for await (const p of client.listPropertiesOfKeyVersions('MIXEDCASE')) versions.push(p.version);
    expect(versions).toHaveLength(2);
    const names = [];
    for await (const p of client.listPropertiesOfKeys()) names.push(p.name);
    expect(names.filter((n) => n.toLowerCase() === 'mixedcase')).toEqual(['MixedCase']);

    const lower = `${vault.url}/keys/mixedcase/${second.properties.version}`;
    const signed = await new CryptographyClient(lower, vault.credential(), vault.clientOptions).sign('ES256', randomBytes(32));
    expect(signed.keyID).toBe(second.id);
  });

  it('delete, recover, purge and restore match names in any case', async () => {
    await client.createEcKey('Held-Name');
    const backup = await client.backupKey('held-name');
    await (await client.beginDeleteKey('HELD-NAME', { intervalInMs: 1 })).pollUntilDone();
    const held = await expectRestError(client.createEcKey('held-name'), 409, 'Conflict');
    expect(held.message).toContain('Held-Name');
    expect((await client.getDeletedKey('held-name')).name).toBe('Held-Name');
    await (await client.beginRecoverDeletedKey('held-NAME', { intervalInMs: 1 })).pollUntilDone();
    await expectRestError(client.restoreKeyBackup(backup!), 409, 'Conflict');
    await (await client.beginDeleteKey('held-name', { intervalInMs: 1 })).pollUntilDone();
    await client.purgeDeletedKey('HELD-name');
    expect((await retryWhileInProgress(() => client.restoreKeyBackup(backup!))).name).toBe('Held-Name');
  });

  it('a key-scoped role assignment matches the key in any case', async () => {
    const key = await client.createEcKey('Scoped-Key');
    vault.assignRole('scoped-signer', 'Key Vault Crypto User', 'scoped-key');
    const kid = `${vault.url}/keys/SCOPED-KEY/${key.properties.version}`;
    const signed = await new CryptographyClient(kid, vault.credential('scoped-signer'), vault.clientOptions).sign('ES256', randomBytes(32));
    expect(signed.result).toHaveLength(64);
  });
});
