/**
 * The secrets data plane of the local vault through the real, unmodified SecretClient on both
 * transports. Adversaries: a caller who sets a secret as `Db-Password` and reads `db-password`
 * (names are case-insensitive), an oversized value, a disabled version, a listing scraped for
 * values, a name held by a soft-deleted secret, a key's backup replayed as a secret's, principals
 * with the wrong role (Secrets User writing, Reader and Crypto Officer reading values), and a
 * second vault process on the same state file.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, ManualClock, rawRequest, retryWhileInProgress, TRANSPORTS } from '../helpers/local-vault.js';

const API = 'api-version=7.5';
const POLL = { intervalInMs: 1 };
const VERSION = /^[0-9a-f]{32}$/;

function innerCode(error: { details?: unknown }): string | undefined {
  return (error.details as { error?: { innerError?: { code?: string } } } | undefined)?.error?.innerError?.code;
}

describe.each(TRANSPORTS)('local vault secrets (%s)', (transport) => {
  let vault: LocalKeyVault;
  let client: SecretClient;
  const clock = new ManualClock(Date.UTC(2030, 0, 1));

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport, clock: clock.now });
    client = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  it('sets, gets (latest and by version), lists versions and updates properties; names are case-insensitive', async () => {
    const notBefore = new Date(Date.UTC(2029, 0, 1));
    const expiresOn = new Date(Date.UTC(2031, 0, 1));
    const first = await client.setSecret('Db-Password', 'one', { contentType: 'text/plain', tags: { app: 'api' }, notBefore, expiresOn });
    expect(first.value).toBe('one');
    expect(first.properties.version).toMatch(VERSION);
    expect(first.properties.contentType).toBe('text/plain');
    expect(first.properties.tags).toEqual({ app: 'api' });
    expect(first.properties.notBefore).toEqual(notBefore);
    expect(first.properties.expiresOn).toEqual(expiresOn);
    expect(first.properties.recoveryLevel).toBe('Recoverable+Purgeable');
    // The attacker (or a typo) writes the other spelling: it is a new version of the same secret.
    const second = await client.setSecret('DB-PASSWORD', 'two');
    const latest = await client.getSecret('db-password');
    expect(latest.value).toBe('two');
    expect(latest.name).toBe('Db-Password');
    expect(latest.properties.id).toBe(`${vault.url}/secrets/Db-Password/${second.properties.version}`);
    expect((await client.getSecret('db-password', { version: first.properties.version ?? '' })).value).toBe('one');
    const versions = [];
    for await (const p of client.listPropertiesOfSecretVersions('db-PASSWORD')) versions.push(p.version);
    expect(versions.sort()).toEqual([first.properties.version, second.properties.version].sort());

    const updated = await client.updateSecretProperties('db-password', first.properties.version ?? '', { enabled: false, tags: { app: 'old' } });
    expect(updated.enabled).toBe(false);
    expect(updated.tags).toEqual({ app: 'old' });
    const names = [];
    for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
    expect(names.filter((n) => n.toLowerCase() === 'db-password')).toEqual(['Db-Password']);
  });

  it('a disabled version answers 403 SecretDisabled as the service does; re-enabled, it answers again', async () => {
    const set = await client.setSecret('disabled', 'hidden', { enabled: false });
    const error = await expectRestError(client.getSecret('disabled'), 403, 'Forbidden');
    expect(error.message).toBe('Operation get is not allowed on a disabled secret.');
    expect(innerCode(error)).toBe('SecretDisabled');
    expect(error.message).not.toContain('hidden');
    await client.updateSecretProperties('disabled', set.properties.version ?? '', { enabled: true });
    expect((await client.getSecret('disabled')).value).toBe('hidden');
  });

  it('an expired or not-yet-valid secret is still returned (the service documents get outside the nbf/exp window)', async () => {
    const past = new Date(clock.ms - 86_400_000);
    const future = new Date(clock.ms + 86_400_000);
    await client.setSecret('expired', 'old', { expiresOn: past });
    await client.setSecret('not-yet', 'new', { notBefore: future });
    expect((await client.getSecret('expired')).value).toBe('old');
    expect((await client.getSecret('not-yet')).value).toBe('new');
  });

  it('a value over 25 KB is refused with 400 BadParameter; 25,600 bytes are accepted', async () => {
    await expect(client.setSecret('big', 'x'.repeat(25_600))).resolves.toBeDefined();
    const error = await expectRestError(client.setSecret('big', 'x'.repeat(25_601)), 400, 'BadParameter');
    expect(error.message).toContain('maximum permitted length of 25600');
    // Multi-byte characters count as bytes: 12,801 two-byte characters are 25,602 bytes.
    await expectRestError(client.setSecret('big', 'é'.repeat(12_801)), 400, 'BadParameter');
    const versions = [];
    for await (const p of client.listPropertiesOfSecretVersions('big')) versions.push(p.version);
    expect(versions).toHaveLength(1);
  });

  it('lists page with nextLink and maxresults, and never carry a value (raw JSON)', async () => {
    for (let i = 0; i < 12; i++) await client.setSecret(`page-${String(i).padStart(2, '0')}`, `value-${i}`);
    const pages = [];
    for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 5 })) pages.push(page.length);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.slice(0, -1).every((n) => n === 5)).toBe(true);

    let path: string | null = `/secrets?${API}&maxresults=5`;
    let seen = 0;
    while (path) {
      const response = await rawRequest(vault, 'GET', path);
      expect(response.status).toBe(200);
      for (const item of response.json.value) {
        expect(item).not.toHaveProperty('value');
        expect(item.id).not.toMatch(/\/secrets\/[^/]+\/[0-9a-f]{32}$/);
      }
      expect(JSON.stringify(response.json)).not.toMatch(/value-\d/);
      seen += response.json.value.length;
      path = response.json.nextLink ? response.json.nextLink.slice(vault.url.length) : null;
    }
    expect(seen).toBeGreaterThanOrEqual(12);
    const versions = await rawRequest(vault, 'GET', `/secrets/PAGE-01/versions?${API}`);
    expect(versions.json.value).toHaveLength(1);
    expect(JSON.stringify(versions.json)).not.toContain('value-1');
    await client.beginDeleteSecret('page-01', POLL).then((p) => p.pollUntilDone());
    const deleted = await rawRequest(vault, 'GET', `/deletedsecrets?${API}`);
    expect(deleted.json.value.map((i: { recoveryId: string }) => i.recoveryId)).toContain(`${vault.url}/deletedsecrets/page-01`);
    expect(JSON.stringify(deleted.json)).not.toContain('value-1');
  });

  it('deletes softly, holds the name (any case), recovers every version, and purges', async () => {
    const v1 = await client.setSecret('Api-Key', 'k1');
    await client.setSecret('api-key', 'k2');
    const deleted = await (await client.beginDeleteSecret('API-KEY', POLL)).pollUntilDone();
    expect(deleted.name).toBe('Api-Key');
    expect(deleted.recoveryId).toBe(`${vault.url}/deletedsecrets/Api-Key`);
    expect(deleted.scheduledPurgeDate?.getTime()).toBe(deleted.deletedOn!.getTime() + 90 * 86_400_000);
    expect(deleted.value).toBeUndefined();
    await expectRestError(client.getSecret('api-key'), 404, 'SecretNotFound');
    expect((await client.getDeletedSecret('api-key')).name).toBe('Api-Key');
    const listed = [];
    for await (const d of client.listDeletedSecrets()) listed.push(d.name);
    expect(listed).toContain('Api-Key');
    const held = await expectRestError(client.setSecret('API-key', 'k3'), 409, 'Conflict');
    expect(innerCode(held)).toBe('ObjectIsDeletedButRecoverable');

    const recovered = await (await client.beginRecoverDeletedSecret('api-key', POLL)).pollUntilDone();
    expect(recovered.name).toBe('Api-Key');
    expect((await client.getSecret('api-key')).value).toBe('k2');
    expect((await client.getSecret('api-key', { version: v1.properties.version ?? '' })).value).toBe('k1');

    await (await client.beginDeleteSecret('api-key', POLL)).pollUntilDone();
    await client.purgeDeletedSecret('API-KEY');
    // The purge takes a moment, as in Azure: re-creating retries on 409 ObjectIsBeingDeleted.
    expect((await retryWhileInProgress(() => client.setSecret('api-key', 'fresh'))).name).toBe('api-key');
    await expectRestError(client.getDeletedSecret('api-key'), 404, 'SecretNotFound');
  });

  it('a deleted secret is purged by itself once the retention period has passed on the vault clock', async () => {
    await client.setSecret('retained', 'r');
    await (await client.beginDeleteSecret('retained', POLL)).pollUntilDone();
    clock.advanceDays(91);
    await expectRestError(client.getDeletedSecret('retained'), 404, 'SecretNotFound');
  });

  it('backs up and restores every version; a key backup is not a secret backup', async () => {
    const v1 = await client.setSecret('Backed-Up', 'b1', { contentType: 'application/json' });
    await client.setSecret('backed-up', 'b2');
    const blob = await client.backupSecret('backed-up');
    expect(blob).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(blob!).toString('latin1')).not.toContain('b2');
    const conflict = await expectRestError(client.restoreSecretBackup(blob!), 409, 'Conflict');
    expect(conflict.message).toContain('Backed-Up');
    await (await client.beginDeleteSecret('backed-up', POLL)).pollUntilDone();
    await client.purgeDeletedSecret('backed-up');
    const restored = await retryWhileInProgress(() => client.restoreSecretBackup(blob!));
    expect(restored.name).toBe('Backed-Up');
    expect((await client.getSecret('BACKED-UP')).value).toBe('b2');
    const old = await client.getSecret('backed-up', { version: v1.properties.version ?? '' });
    expect(old.value).toBe('b1');
    expect(old.properties.contentType).toBe('application/json');

    const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    await keys.createEcKey('not-a-secret');
    const keyBlob = await keys.backupKey('not-a-secret');
    await expectRestError(client.restoreSecretBackup(keyBlob!), 400, 'BadParameter');
  });

  it('RBAC: Secrets User reads values but cannot set; Reader lists but cannot read values; a Crypto Officer gets no value', async () => {
    await client.setSecret('conn', 'Server=db;Password=p');
    vault.assignRole('app', 'Key Vault Secrets User');
    vault.assignRole('auditor', 'Key Vault Reader');
    vault.assignRole('crypto', 'Key Vault Crypto Officer');
    vault.assignRole('ops', 'Key Vault Secrets Officer');
    const app = new SecretClient(vault.url, vault.credential('app'), vault.clientOptions);
    const auditor = new SecretClient(vault.url, vault.credential('auditor'), vault.clientOptions);
    const crypto = new SecretClient(vault.url, vault.credential('crypto'), vault.clientOptions);
    const ops = new SecretClient(vault.url, vault.credential('ops'), vault.clientOptions);

    expect((await app.getSecret('conn')).value).toBe('Server=db;Password=p');
    const denied = await expectRestError(app.setSecret('conn', 'attacker'), 403, 'Forbidden');
    expect(innerCode(denied)).toBe('ForbiddenByRbac');
    expect(denied.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'");
    expect(denied.message).toMatch(/^Resource: '\/subscriptions\/.*\/vaults\/[^/]*\/secrets\/conn'$/m);
    await expectRestError(app.beginDeleteSecret('conn', POLL).then((p) => p.pollUntilDone()), 403, 'Forbidden');

    const names = [];
    for await (const p of auditor.listPropertiesOfSecrets()) names.push(p.name);
    expect(names).toContain('conn');
    const readerError = await expectRestError(auditor.getSecret('conn'), 403, 'Forbidden');
    expect(readerError.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
    expect(readerError.message).not.toContain('Password=p');

    await expectRestError(crypto.getSecret('conn'), 403, 'Forbidden');
    await expectRestError(crypto.listPropertiesOfSecrets().next(), 403, 'Forbidden');

    await ops.setSecret('conn', 'rotated');
    expect((await ops.getSecret('conn')).value).toBe('rotated');
    expect((await client.getSecret('conn')).value).toBe('rotated');
  });
  it('a secret-scoped Secrets User reads that secret (any case) and nothing else; the scope does not reach a key of the same name', async () => {
    await client.setSecret('Scoped-Secret', 'mine');
    await client.setSecret('other-secret', 'not mine');
    const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    await keys.createEcKey('scoped-secret');
    vault.assignRole('one-secret-app', 'Key Vault Secrets User', 'secrets/scoped-secret');
    vault.assignRole('one-key-app', 'Key Vault Crypto User', 'keys/Scoped-Secret');
    const app = new SecretClient(vault.url, vault.credential('one-secret-app'), vault.clientOptions);
    expect((await app.getSecret('SCOPED-SECRET')).value).toBe('mine');
    const denied = await expectRestError(app.getSecret('other-secret'), 403, 'Forbidden');
    expect(denied.message).toMatch(/^Resource: '\/subscriptions\/.*\/vaults\/[^/]*\/secrets\/other-secret'$/m);
    await expectRestError(app.listPropertiesOfSecrets().next(), 403, 'Forbidden');
    await expectRestError(new KeyClient(vault.url, vault.credential('one-secret-app'), vault.clientOptions).getKey('scoped-secret'), 403, 'Forbidden');
    expect((await new KeyClient(vault.url, vault.credential('one-key-app'), vault.clientOptions).getKey('scoped-secret')).name).toBe('scoped-secret');
    await expectRestError(new SecretClient(vault.url, vault.credential('one-key-app'), vault.clientOptions).getSecret('scoped-secret'), 403, 'Forbidden');
    expect(() => vault.assignRole('x', 'Key Vault Secrets User', 'storage/x')).toThrow(RangeError); // certificates/<name> is a scope since certificates exist
  });
});

describe('local vault secrets: purge protection', () => {
  it('purge is refused with 403 while purge protection is on; the secret stays recoverable', async () => {
    const vault = await LocalKeyVault.start({ purgeProtection: true, softDeleteRetentionDays: 7 });
    try {
      const client = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
      await client.setSecret('kept', 'v');
      const deleted = await (await client.beginDeleteSecret('kept', POLL)).pollUntilDone();
      expect(deleted.properties.recoveryLevel).toBe('CustomizedRecoverable');
      await expectRestError(client.purgeDeletedSecret('kept'), 403, 'Forbidden');
      await (await client.beginRecoverDeletedSecret('kept', POLL)).pollUntilDone();
      expect((await client.getSecret('kept')).value).toBe('v');
    } finally {
      await vault.close();
    }
  });
});

describe.each(TRANSPORTS)('local vault secrets: persistence (%s)', (transport) => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kv-local-vault-secrets-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a secret set by one vault on a state file is seen by another vault on the same file, and after a restart', async () => {
    const stateFile = join(dir, 'shared.json');
    const first = await LocalKeyVault.start({ transport, stateFile });
    const second = await LocalKeyVault.start({ transport: 'in-process', stateFile });
    try {
      const writer = new SecretClient(first.url, first.credential(), first.clientOptions);
      const reader = new SecretClient(second.url, second.credential(), second.clientOptions);
      const set = await writer.setSecret('Shared-Secret', 's1', { tags: { owner: 'first' } });
      const seen = await reader.getSecret('shared-secret');
      expect(seen.value).toBe('s1');
      expect(seen.name).toBe('Shared-Secret');
      expect(seen.properties.version).toBe(set.properties.version);
      await (await reader.beginDeleteSecret('shared-secret', POLL)).pollUntilDone();
      await expectRestError(writer.getSecret('Shared-Secret'), 404, 'SecretNotFound');
      await (await writer.beginRecoverDeletedSecret('Shared-Secret', POLL)).pollUntilDone();
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
    const third = await LocalKeyVault.start({ transport, stateFile });
    try {
      const again = new SecretClient(third.url, third.credential(), third.clientOptions);
      expect((await again.getSecret('SHARED-SECRET')).value).toBe('s1');
    } finally {
      await third.close();
    }
  });

  it('a state file written before secrets existed (no secrets collection) still loads, keys intact', async () => {
    const stateFile = join(dir, 'old.json');
    const first = await LocalKeyVault.start({ transport, stateFile });
    const key = await new KeyClient(first.url, first.credential(), first.clientOptions).createEcKey('old-key');
    await first.close();
    const parsed = JSON.parse(await readFile(stateFile, 'utf8'));
    delete parsed.objects.secrets;
    await writeFile(stateFile, JSON.stringify(parsed), { mode: 0o600 });

    const second = await LocalKeyVault.start({ transport, stateFile });
    try {
      const keys = new KeyClient(second.url, second.credential(), second.clientOptions);
      expect((await keys.getKey('old-key')).properties.version).toBe(key.properties.version);
      const secrets = new SecretClient(second.url, second.credential(), second.clientOptions);
      await secrets.setSecret('new-secret', 'n');
      expect(JSON.parse(await readFile(stateFile, 'utf8')).objects.secrets).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
