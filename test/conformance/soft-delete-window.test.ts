/**
 * Conformance (local only: these drive the vault clock and `operationDelayMs`): what the service
 * answers while a delete, recover or purge is in progress, step by step, for keys and secrets.
 * Adversary: code that acts on a name in the seconds after deleting, recovering or purging it.
 * Against Azure the same window exists but lasts an unknown 1–5 s, so these run locally only.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRestError, innerCode, ManualClock } from '../helpers/local-vault.js';
import { openTarget, rawRequest, type Target } from './target.js';

const API = 'api-version=2025-07-01';
const WINDOW_MS = 60_000;

describe.each(['in-process', 'https'] as const)('conformance: the delete / recover / purge window (local only, %s)', (kind) => {
  const clock = new ManualClock();
  let target: Target;
  let keys: KeyClient;
  let secrets: SecretClient;
  beforeAll(async () => {
    // A long window on a clock the test moves: every step below is deterministic.
    target = await openTarget(kind, { clock: clock.now, operationDelayMs: WINDOW_MS });
    keys = new KeyClient(target.url, target.credential, target.clientOptions);
    secrets = new SecretClient(target.url, target.credential, target.clientOptions);
  });
  afterAll(() => target.close());

  const settle = (): void => {
    clock.ms += WINDOW_MS;
  };

  it('delete in progress: the deleted key is a 404 (what beginDeleteKey polls), the name answers 409 ObjectIsBeingDeleted', async () => {
    await keys.createEcKey('deleting');
    expect((await rawRequest(target, 'DELETE', `/keys/deleting?${API}`)).status).toBe(200);
    await expectRestError(keys.getDeletedKey('deleting'), 404, 'KeyNotFound');
    await expectRestError(keys.getKey('deleting'), 404, 'KeyNotFound');
    for (const attempt of [keys.createEcKey('deleting'), keys.purgeDeletedKey('deleting'), keys.beginRecoverDeletedKey('deleting')]) {
      const error = await expectRestError(attempt, 409, 'Conflict');
      expect(innerCode(error)).toBe('ObjectIsBeingDeleted');
      expect(error.message).toBe('Key is currently being deleted.');
    }
    const listed = [];
    for await (const d of keys.listDeletedKeys()) listed.push(d.name);
    expect(listed).not.toContain('deleting');
    settle();
    expect((await keys.getDeletedKey('deleting')).name).toBe('deleting');
    expect(innerCode(await expectRestError(keys.createEcKey('deleting'), 409, 'Conflict'))).toBe('ObjectIsDeletedButRecoverable');
  });

  it('recover in progress: the key is a 404 (what beginRecoverDeletedKey polls), the name answers 409 ObjectIsBeingRecovered', async () => {
    const created = await keys.createEcKey('recovering');
    await rawRequest(target, 'DELETE', `/keys/recovering?${API}`);
    settle();
    expect((await rawRequest(target, 'POST', `/deletedkeys/recovering/recover?${API}`)).status).toBe(200);
    await expectRestError(keys.getKey('recovering'), 404, 'KeyNotFound');
    await expectRestError(keys.getDeletedKey('recovering'), 404, 'KeyNotFound');
    for (const attempt of [keys.createEcKey('recovering'), keys.beginDeleteKey('recovering'), keys.purgeDeletedKey('recovering')]) {
      const error = await expectRestError(attempt, 409, 'Conflict');
      expect(innerCode(error)).toBe('ObjectIsBeingRecovered');
    }
    settle();
    expect((await keys.getKey('recovering')).id).toBe(created.id);
  });

  it('purge in progress: the deleted secret is still listed, re-create and restore answer 409 ObjectIsBeingDeleted; then the name is free', async () => {
    await secrets.setSecret('purging', 'v1');
    const backup = await secrets.backupSecret('purging');
    await rawRequest(target, 'DELETE', `/secrets/purging?${API}`);
    settle();
    await secrets.purgeDeletedSecret('purging');
    expect((await secrets.getDeletedSecret('purging')).name).toBe('purging');
    for (const attempt of [secrets.setSecret('purging', 'v2'), secrets.restoreSecretBackup(backup!), secrets.purgeDeletedSecret('purging')]) {
      const error = await expectRestError(attempt, 409, 'Conflict');
      expect(innerCode(error)).toBe('ObjectIsBeingDeleted');
      expect(error.message).toBe('Secret is currently being deleted.');
    }
    settle();
    await expectRestError(secrets.getDeletedSecret('purging'), 404, 'SecretNotFound');
    expect((await secrets.restoreSecretBackup(backup!)).name).toBe('purging');
  });

  it('a poller never hangs on a frozen test clock: the window also ends on the real clock', async () => {
    const frozen = await openTarget(kind, { clock: () => Date.UTC(2030, 0, 1), operationDelayMs: 200 });
    try {
      const client = new KeyClient(frozen.url, frozen.credential, frozen.clientOptions);
      await client.createEcKey('frozen');
      const deleted = await (await client.beginDeleteKey('frozen', { intervalInMs: 50 })).pollUntilDone();
      expect(deleted.properties.deletedOn?.getTime()).toBe(Date.UTC(2030, 0, 1));
    } finally {
      await frozen.close();
    }
  });

  it('operationDelayMs: 0 turns the window off: purge then re-create succeeds at once', async () => {
    const instant = await openTarget(kind, { operationDelayMs: 0 });
    try {
      const client = new SecretClient(instant.url, instant.credential, instant.clientOptions);
      await client.setSecret('instant', 'a');
      const poller = await client.beginDeleteSecret('instant');
      expect(poller.isDone()).toBe(true);
      await client.purgeDeletedSecret('instant');
      expect((await client.setSecret('instant', 'b')).value).toBe('b');
    } finally {
      await instant.close();
    }
  });
});
