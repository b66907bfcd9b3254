/**
 * Conformance: the Azure SDK team's own public live tests for @azure/keyvault-keys that failed
 * against the local vault before issue 13 (items 2, 3 and 7), ported with the same calls and the
 * same assertions, run over both local transports (and Azure when configured).
 * Adversary: an emulator that lists a missing key's versions as a 404, completes delete and
 * recover before the first poll (so a stopped poller is already done), or words a malformed
 * backup its own way — each passes an emulator-only suite and fails the SDK's live tests.
 *
 * Ported from https://github.com/Azure/azure-sdk-for-js (MIT License):
 * - sdk/keyvault/keyvault-keys/test/public/list.spec.ts @ 0ce16619e15bcb8af84d348a61b207d33070c74a
 *   ("list 0 versions of a non-existing key", "… (paged)")
 * - sdk/keyvault/keyvault-keys/test/public/lro.delete.spec.ts @ 05e2bf872a6e845cc4e9a2dc27f0780ca93e6e24
 *   ("can wait until a key is deleted", "can resume from a stopped poller")
 * - sdk/keyvault/keyvault-keys/test/public/lro.recoverDelete.spec.ts @ 060be93718a958feb8184bc35737c755711c1013
 *   ("can wait until a key is recovered", "can resume from a stopped poller")
 * - sdk/keyvault/keyvault-keys/test/public/recoverBackupRestore.spec.ts @ 1ceef9e5f7a60346e0303c87533b3711c98a9984
 *   ("fails to restore a key with a malformed backup")
 * Copyright (c) Microsoft Corporation. Licensed under the MIT License.
 *
 * Differences from the source, none in what is called or asserted: the recorder is replaced by a
 * conformance target; names come from `target.unique` (the SDK's `formatName(prefix-title-suffix)`);
 * `testPollerProperties` is 250 ms (the SDK uses 5 s live, 0 in playback) to keep `npm test` short.
 */
import { type DeletedKey, KeyClient } from '@azure/keyvault-keys';
import { afterAll, assert, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, noticeAzureSkipped, openTarget, TARGET_KINDS, type Target } from './target.js';

noticeAzureSkipped('conformance: Azure SDK keys live tests');

const testPollerProperties = { intervalInMs: 250 };

describe.each(TARGET_KINDS)('conformance: Azure SDK keys live tests (%s)', (kind) => {
  let target: Target;
  let client: KeyClient;
  beforeAll(async () => {
    target = await openTarget(kind);
    client = new KeyClient(target.url, target.credential, target.clientOptions);
  });
  afterAll(() => cleanUp(target, { keys: client }));

  // The SDK's TestClient helpers (test/public/utils/testClient.ts).
  const purgeKey = (keyName: string): Promise<void> => client.purgeDeletedKey(keyName);
  const flushKey = async (keyName: string): Promise<void> => {
    await (await client.beginDeleteKey(keyName, testPollerProperties)).pollUntilDone();
    await purgeKey(keyName);
  };

  describe('list.spec.ts', () => {
    it('list 0 versions of a non-existing key', async () => {
      const keyName = target.unique('listKeyName-list0');
      let totalVersions = 0;
      for await (const version of client.listPropertiesOfKeyVersions(keyName)) {
        assert.equal(version.name, keyName, 'Unexpected key name in result from listPropertiesOfKeyVersions().');
        totalVersions += 1;
      }
      assert.equal(totalVersions, 0, `Unexpected total versions for key ${keyName}`);
    });

    it('list 0 versions of a non-existing key (paged)', async () => {
      const keyName = target.unique('listKeyName-list0paged');
      let totalVersions = 0;
      for await (const page of client.listPropertiesOfKeyVersions(keyName).byPage()) {
        for (const version of page) {
          assert.equal(version.name, keyName, 'Unexpected key name in result from listPropertiesOfKeyVersions().');
          totalVersions += 1;
        }
      }
      assert.equal(totalVersions, 0, `Unexpected total versions for key ${keyName}`);
    });
  });

  describe('lro.delete.spec.ts', () => {
    it('can wait until a key is deleted', async () => {
      const keyName = target.unique('lroDeleteKeyName-wait');
      await client.createKey(keyName, 'RSA');
      const poller = await client.beginDeleteKey(keyName, testPollerProperties);
      assert.isTrue(poller.getOperationState().isStarted);
      assert.equal(poller.getOperationState().result!.name, keyName);
      const deletedKey: DeletedKey = await poller.pollUntilDone();
      assert.equal(deletedKey.name, keyName);
      assert.isTrue(poller.getOperationState().isCompleted);
      assert.equal(poller.getOperationState().result!.name, keyName);
      await purgeKey(keyName);
    });

    it('can resume from a stopped poller', async () => {
      const keyName = target.unique('lroDeleteKeyName-resume');
      await client.createKey(keyName, 'RSA');
      const poller = await client.beginDeleteKey(keyName, testPollerProperties);
      assert.isTrue(poller.getOperationState().isStarted);
      poller.pollUntilDone().catch((e) => {
        assert.equal(e.name, 'PollerStoppedError');
        assert.equal(e.message, 'This poller is already stopped');
      });
      await poller.poll(); // Making sure it has some data
      poller.stopPolling();
      assert.isTrue(poller.isStopped());
      expect(poller.getOperationState().isCompleted).toBeFalsy();
      const serialized = poller.toString();
      const resumePoller = await client.beginDeleteKey(keyName, { resumeFrom: serialized, ...testPollerProperties });
      assert.isTrue(resumePoller.getOperationState().isStarted);
      const deletedKey: DeletedKey = await resumePoller.pollUntilDone();
      assert.equal(deletedKey.name, keyName);
      assert.isTrue(resumePoller.getOperationState().isCompleted);
      await purgeKey(keyName);
    });
  });

  describe('lro.recoverDelete.spec.ts', () => {
    it('can wait until a key is recovered', async () => {
      const keyName = target.unique('lroRecoverDeleteKeyName-wait');
      await client.createKey(keyName, 'RSA');
      await (await client.beginDeleteKey(keyName, testPollerProperties)).pollUntilDone();
      const poller = await client.beginRecoverDeletedKey(keyName, testPollerProperties);
      assert.ok(poller.getOperationState().isStarted);
      assert.equal(poller.getOperationState().result!.name, keyName);
      const deletedKey: DeletedKey = await poller.pollUntilDone();
      assert.equal(deletedKey.name, keyName);
      assert.ok(poller.getOperationState().isCompleted);
      assert.equal(poller.getOperationState().result!.name, keyName);
      await flushKey(keyName);
    });

    it('can resume from a stopped poller', async () => {
      const keyName = target.unique('lroRecoverDeleteKeyName-resume');
      await client.createKey(keyName, 'RSA');
      await (await client.beginDeleteKey(keyName, testPollerProperties)).pollUntilDone();
      const poller = await client.beginRecoverDeletedKey(keyName, testPollerProperties);
      assert.ok(poller.getOperationState().isStarted);
      poller.pollUntilDone().catch((e) => {
        assert.ok(e.name === 'PollerStoppedError');
        assert.equal(e.message, 'This poller is already stopped');
      });
      await poller.poll(); // Making sure it has some data
      poller.stopPolling();
      assert.ok(poller.isStopped());
      assert.ok(!poller.getOperationState().isCompleted);
      const serialized = poller.toString();
      const resumePoller = await client.beginRecoverDeletedKey(keyName, { resumeFrom: serialized, ...testPollerProperties });
      assert.ok(poller.getOperationState().isStarted);
      const deletedKey: DeletedKey = await resumePoller.pollUntilDone();
      assert.equal(deletedKey.name, keyName);
      assert.ok(resumePoller.getOperationState().isCompleted);
      await flushKey(keyName);
    });
  });

  describe('recoverBackupRestore.spec.ts', () => {
    it('fails to restore a key with a malformed backup', async () => {
      const backup = new Uint8Array(8693);
      let error;
      try {
        await client.restoreKeyBackup(backup);
        throw Error('Expecting an error but not catching one.');
      } catch (e) {
        error = e as Error;
      }
      assert.equal(error.message, 'Backup blob contains invalid or corrupt version.', 'Unexpected error from restoreKeyBackup()');
    });
  });
});
