/**
 * Conformance: names, versions, paging, backup/restore and crypto round trips, through the
 * public clients only (issue 13, items 1, 3 and 7, and behaviours worth pinning).
 * Adversaries: code that relies on name case, on version-list order, on a 404 for a missing
 * key's versions, or on an emulator's own error texts.
 */
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRestError, retryWhileInProgress } from '../helpers/local-vault.js';
import { cleanUp, noticeAzureSkipped, openTarget, TARGET_KINDS, type Target } from './target.js';

noticeAzureSkipped('conformance: objects');

describe.each(TARGET_KINDS)('conformance: objects (%s)', (kind) => {
  let target: Target;
  let keys: KeyClient;
  let secrets: SecretClient;
  beforeAll(async () => {
    target = await openTarget(kind);
    keys = new KeyClient(target.url, target.credential, target.clientOptions);
    secrets = new SecretClient(target.url, target.credential, target.clientOptions);
  });
  afterAll(() => cleanUp(target, { keys, secrets }));

  it('names are case-insensitive: another spelling reads and versions the same key, which keeps its first spelling', async () => {
    const name = target.unique('Conf-MixedCase');
    const first = await keys.createEcKey(name);
    const read = await keys.getKey(name.toLowerCase());
    expect(read.id).toBe(first.id);
    expect(read.name).toBe(name);
    const second = await keys.createEcKey(name.toUpperCase());
    expect(second.name).toBe(name);
    const versions = [];
    for await (const p of keys.listPropertiesOfKeyVersions(name.toLowerCase())) versions.push(p.version);
    expect(versions.sort()).toEqual([first.properties.version, second.properties.version].sort());
  });

  it('the versions of a key or secret that does not exist are an empty list, not a 404', async () => {
    const missing = target.unique('conf-no-such');
    const keyVersions = [];
    for await (const p of keys.listPropertiesOfKeyVersions(missing)) keyVersions.push(p);
    expect(keyVersions).toEqual([]);
    const secretVersions = [];
    for await (const p of secrets.listPropertiesOfSecretVersions(missing)) secretVersions.push(p);
    expect(secretVersions).toEqual([]);
  });

  it('pages version lists with nextLink (maxresults 10) and lists every version exactly once, without values', async () => {
    const name = target.unique('conf-paged');
    const made = new Set<string>();
    for (let i = 0; i < 23; i++) made.add((await secrets.setSecret(name, `value-${i}`)).properties.version!);
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of secrets.listPropertiesOfSecretVersions(name).byPage({ maxPageSize: 10 })) {
      pages.push(page.length);
      for (const p of page) {
        seen.push(p.version!);
        expect(p).not.toHaveProperty('value');
      }
    }
    expect(pages).toEqual([10, 10, 3]);
    expect(new Set(seen)).toEqual(made);
    expect(seen).toHaveLength(23);
  });

  it.skipIf(kind === 'azure')('version lists come in version-id order, not creation order (local only: Azure documents no order)', async () => {
    const name = target.unique('conf-order');
    const created: string[] = [];
    for (let i = 0; i < 8; i++) created.push((await secrets.setSecret(name, `v${i}`)).properties.version!);
    const listed = [];
    for await (const p of secrets.listPropertiesOfSecretVersions(name)) listed.push(p.version!);
    expect(listed).toEqual([...created].sort());
  });

  it('backup and restore bring every version back; a malformed backup answers the service\'s text', async () => {
    const name = target.unique('conf-backup');
    await secrets.setSecret(name, 'one');
    await secrets.setSecret(name, 'two');
    const blob = await secrets.backupSecret(name);
    await expectRestError(secrets.restoreSecretBackup(blob!), 409, 'Conflict');
    await (await secrets.beginDeleteSecret(name, { intervalInMs: 250 })).pollUntilDone();
    await secrets.purgeDeletedSecret(name);
    expect((await retryWhileInProgress(() => secrets.restoreSecretBackup(blob!))).name).toBe(name);
    expect((await secrets.getSecret(name)).value).toBe('two');

    for (const restore of [keys.restoreKeyBackup(new Uint8Array(8693)), secrets.restoreSecretBackup(new Uint8Array(4728))]) {
      const error = await expectRestError(restore, 400, 'BadParameter');
      expect(error.message).toBe('Backup blob contains invalid or corrupt version.');
    }
  });

  it('wraps remotely with RSA-OAEP-256 and unwraps what the public key wrapped; a disabled key answers 403 KeyDisabled', async () => {
    const name = target.unique('conf-kek');
    const kek = await keys.createRsaKey(name, { keySize: 2048 });
    const crypto = new CryptographyClient(kek.id!, target.credential, target.clientOptions);
    const dek = randomBytes(32);
    const wrapped = await crypto.wrapKey('RSA-OAEP-256', dek);
    expect(wrapped.keyID).toBe(kek.id);
    expect(Buffer.from((await crypto.unwrapKey('RSA-OAEP-256', wrapped.result)).result).equals(dek)).toBe(true);
    await keys.updateKeyProperties(name, kek.properties.version!, { enabled: false });
    const disabled = await expectRestError(keys.getKey(name), 403, 'Forbidden');
    expect(disabled.message).toBe('Operation get is not allowed on a disabled key.');
  });
});
