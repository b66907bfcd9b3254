/**
 * Conformance: soft delete and the window after delete, recover and purge (issue 13, item 2).
 * Adversary: code that ignores the poller, or re-creates a name right after purging it — it
 * works against an instantaneous emulator and fails in Azure, so the local vault must fail it too.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRestError, innerCode, retryWhileInProgress } from '../helpers/local-vault.js';
import { cleanUp, noticeAzureSkipped, openTarget, recordingPolicy, TARGET_KINDS, withPolicy, type Target } from './target.js';

noticeAzureSkipped('conformance: soft delete');

describe.each(TARGET_KINDS)('conformance: soft delete (%s)', (kind) => {
  let target: Target;
  let keys: KeyClient;
  let secrets: SecretClient;
  const log: string[] = [];
  beforeAll(async () => {
    target = await openTarget(kind);
    const options = withPolicy(target, recordingPolicy(log));
    keys = new KeyClient(target.url, target.credential, options);
    secrets = new SecretClient(target.url, target.credential, options);
  });
  afterAll(() => cleanUp(target, { keys, secrets }));

  const count = (entry: string): number => log.filter((line) => line === entry).length;

  it('beginDeleteKey / beginRecoverDeletedKey with the default interval poll more than once: the first poll sees the operation in progress', async () => {
    const name = target.unique('conf-lro');
    const created = await keys.createEcKey(name);
    const deleted = await (await keys.beginDeleteKey(name)).pollUntilDone();
    expect(deleted.properties.recoveryId).toBe(`${target.url}/deletedkeys/${name}`);
    expect(deleted.properties.scheduledPurgeDate!.getTime()).toBeGreaterThan(deleted.properties.deletedOn!.getTime());
    expect(count(`GET /deletedkeys/${name}`)).toBeGreaterThanOrEqual(2);

    const recovered = await (await keys.beginRecoverDeletedKey(name)).pollUntilDone();
    expect(recovered.id).toBe(created.id);
    // The poller's own first GET (before recovering), then at least two polls after the POST.
    expect(count(`GET /keys/${name}/`)).toBeGreaterThanOrEqual(3);
  });

  it('beginDeleteSecret / beginRecoverDeletedSecret poll more than once too (one machinery for every object type)', async () => {
    const name = target.unique('conf-lro-secret');
    await secrets.setSecret(name, 'v');
    await (await secrets.beginDeleteSecret(name)).pollUntilDone();
    expect(count(`GET /deletedsecrets/${name}`)).toBeGreaterThanOrEqual(2);
    await (await secrets.beginRecoverDeletedSecret(name)).pollUntilDone();
    expect((await secrets.getSecret(name)).value).toBe('v');
  });

  it('a soft-deleted key holds its name: create answers 409 ObjectIsDeletedButRecoverable; gets are 404 KeyNotFound', async () => {
    const name = target.unique('conf-held');
    await keys.createEcKey(name);
    await (await keys.beginDeleteKey(name, { intervalInMs: 250 })).pollUntilDone();
    const held = await expectRestError(keys.createEcKey(name), 409, 'Conflict');
    expect(innerCode(held)).toBe('ObjectIsDeletedButRecoverable');
    const missing = await expectRestError(keys.getKey(name), 404, 'KeyNotFound');
    expect(missing.message).toMatch(new RegExp(`^A key with \\(name/id\\) ${name} was not found in this key vault\\.`));
    const neverDeleted = await expectRestError(keys.getDeletedKey(target.unique('conf-never')), 404, 'KeyNotFound');
    expect(neverDeleted.message).toMatch(/^Deleted Key not found: /);
  });

  it('purge then re-create: 409 ObjectIsBeingDeleted until the purge completes, then the name is free', async () => {
    const name = target.unique('conf-purge');
    await secrets.setSecret(name, 'old');
    await (await secrets.beginDeleteSecret(name, { intervalInMs: 250 })).pollUntilDone();
    await secrets.purgeDeletedSecret(name);
    const early = await expectRestError(secrets.setSecret(name, 'new'), 409, 'Conflict');
    expect(innerCode(early)).toBe('ObjectIsBeingDeleted');
    expect((await retryWhileInProgress(() => secrets.setSecret(name, 'new'))).value).toBe('new');
  });
});
