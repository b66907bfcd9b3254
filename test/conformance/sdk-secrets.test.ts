/**
 * Conformance: the Azure SDK team's public live tests for @azure/keyvault-secrets that exercise
 * the same service behaviours as the keys ones of issue 13 (items 2, 3 and 7), ported with the
 * same calls and the same assertions, run over both local transports (and Azure when configured).
 * Adversary: an emulator that lists a missing secret's versions as a 404, completes delete and
 * recover before the first poll, or words a malformed backup its own way.
 *
 * Ported from https://github.com/Azure/azure-sdk-for-js (MIT License):
 * - sdk/keyvault/keyvault-secrets/test/public/list.spec.ts @ 155bb5b870186a381ab5c043a4e2b1416d7316ce
 *   ("can list secret versions (non existing)", "can list secret versions by page (non existing)")
 * - sdk/keyvault/keyvault-secrets/test/public/lro.delete.spec.ts @ 05dbcae4934b4e31a34fc96e31fe7573da845aa8
 *   ("can wait until a secret is deleted", "can resume from a stopped poller")
 * - sdk/keyvault/keyvault-secrets/test/public/lro.recover.spec.ts @ 05dbcae4934b4e31a34fc96e31fe7573da845aa8
 *   ("can wait until a secret is recovered", "can resume from a stopped poller")
 * - sdk/keyvault/keyvault-secrets/test/public/recoverBackupRestore.spec.ts @ 0385b3f2de2b08c5821b6b05f218486c0354d3f0
 *   ("can restore a secret (Malformed Backup Bytes)")
 * Copyright (c) Microsoft Corporation. Licensed under the MIT License.
 *
 * Differences from the source, none in what is called or asserted: the recorder is replaced by a
 * conformance target; names come from `target.unique`; `testPollerProperties` is 250 ms (the SDK
 * uses 5 s live, 0 in playback); `PollerStoppedError` is recognised by name (the SDK's @azure/core-lro
 * class is not a dependency here).
 */
import { type DeletedSecret, SecretClient, type SecretProperties } from '@azure/keyvault-secrets';
import { afterAll, assert, beforeAll, describe, it } from 'vitest';
import { cleanUp, noticeAzureSkipped, openTarget, TARGET_KINDS, type Target } from './target.js';

noticeAzureSkipped('conformance: Azure SDK secrets live tests');

const testPollerProperties = { intervalInMs: 250 };

describe.each(TARGET_KINDS)('conformance: Azure SDK secrets live tests (%s)', (kind) => {
  let target: Target;
  let client: SecretClient;
  beforeAll(async () => {
    target = await openTarget(kind);
    client = new SecretClient(target.url, target.credential, target.clientOptions);
  });
  afterAll(() => cleanUp(target, { secrets: client }));

  describe('list.spec.ts', () => {
    it('can list secret versions (non existing)', async () => {
      const secretName = target.unique('listSecretName-versions0');
      let totalVersions = 0;
      for await (const secretProperties of client.listPropertiesOfSecretVersions(secretName)) {
        assert.equal(secretProperties.name, secretName, 'Unexpected key name in result from listKeyVersions().');
        totalVersions += 1;
      }
      assert.equal(totalVersions, 0, `Unexpected total versions for secret ${secretName}`);
    });

    it('can list secret versions by page (non existing)', async () => {
      const secretName = target.unique('listSecretName-versions0paged');
      let totalVersions = 0;
      for await (const page of client.listPropertiesOfSecretVersions(secretName).byPage()) {
        for (const secretProperties of page) {
          assert.equal(secretProperties.name, secretName, 'Unexpected key name in result from listKeyVersions().');
          totalVersions += 1;
        }
      }
      assert.equal(totalVersions, 0, `Unexpected total versions for secret ${secretName}`);
    });
  });

  describe('lro.delete.spec.ts', () => {
    it('can wait until a secret is deleted', async () => {
      const secretName = target.unique('lroDeleteSecretName-wait');
      await client.setSecret(secretName, 'value');
      const poller = await client.beginDeleteSecret(secretName, testPollerProperties);
      assert.ok(poller.getOperationState().isStarted);
      assert.equal(poller.getOperationState().result!.name, secretName);
      const deletedSecret: DeletedSecret = await poller.pollUntilDone();
      assert.equal(deletedSecret.name, secretName);
      assert.ok(poller.getOperationState().isCompleted);
      assert.equal(poller.getOperationState().result!.name, secretName);
    });

    it('can resume from a stopped poller', async () => {
      const secretName = target.unique('lroDeleteSecretName-resume');
      await client.setSecret(secretName, 'value');
      const poller = await client.beginDeleteSecret(secretName, testPollerProperties);
      assert.ok(poller.getOperationState().isStarted);
      poller.pollUntilDone().catch((e) => {
        assert.equal(e.name, 'PollerStoppedError');
        assert.equal(e.message, 'This poller is already stopped');
      });
      poller.stopPolling();
      assert.ok(poller.isStopped());
      assert.ok(!poller.getOperationState().isCompleted);
      const serialized = poller.toString();
      const resumePoller = await client.beginDeleteSecret(secretName, { resumeFrom: serialized, ...testPollerProperties });
      assert.ok(resumePoller.getOperationState().isStarted);
      const deletedSecret: DeletedSecret = await resumePoller.pollUntilDone();
      assert.equal(deletedSecret.name, secretName);
      assert.ok(resumePoller.getOperationState().isCompleted);
    });
  });

  describe('lro.recover.spec.ts', () => {
    it('can wait until a secret is recovered', async () => {
      const secretName = target.unique('lroRecoverSecretName-wait');
      await client.setSecret(secretName, 'value');
      await (await client.beginDeleteSecret(secretName, testPollerProperties)).pollUntilDone();
      const poller = await client.beginRecoverDeletedSecret(secretName, testPollerProperties);
      assert.ok(poller.getOperationState().isStarted);
      assert.equal(poller.getOperationState().result!.name, secretName);
      const secretProperties: SecretProperties = await poller.pollUntilDone();
      assert.equal(secretProperties.name, secretName);
      assert.ok(poller.getOperationState().isCompleted);
      assert.equal(poller.getOperationState().result!.name, secretName);
    });

    it('can resume from a stopped poller', async () => {
      const secretName = target.unique('lroRecoverSecretName-resume');
      await client.setSecret(secretName, 'value');
      await (await client.beginDeleteSecret(secretName, testPollerProperties)).pollUntilDone();
      const poller = await client.beginRecoverDeletedSecret(secretName, testPollerProperties);
      assert.ok(poller.getOperationState().isStarted);
      poller.pollUntilDone().catch((e: Error) => {
        assert.equal(e.name, 'PollerStoppedError');
        assert.equal(e.message, 'This poller is already stopped');
      });
      await poller.poll(); // Making sure it has some data
      poller.stopPolling();
      assert.ok(poller.isStopped());
      assert.ok(!poller.getOperationState().isCompleted);
      const serialized = poller.toString();
      const resumePoller = await client.beginRecoverDeletedSecret(secretName, { resumeFrom: serialized, ...testPollerProperties });
      assert.ok(poller.getOperationState().isStarted);
      const secretProperties: SecretProperties = await resumePoller.pollUntilDone();
      assert.equal(secretProperties.name, secretName);
      assert.ok(resumePoller.getOperationState().isCompleted);
    });
  });

  describe('recoverBackupRestore.spec.ts', () => {
    it('can restore a secret (Malformed Backup Bytes)', async () => {
      const backup = new Uint8Array(4728);
      let error;
      try {
        await client.restoreSecretBackup(backup);
        throw Error('Expecting an error but not catching one.');
      } catch (e) {
        error = e as Error;
      }
      assert.equal(error.message, 'Backup blob contains invalid or corrupt version.', 'Unexpected error from restoreSecretBackup()');
    });
  });
});
