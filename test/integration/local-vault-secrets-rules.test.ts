/**
 * More of the service's secret rules through the real SecretClient on both transports.
 * Adversaries: a value one byte over the limit (the answer must be the service's own: 400
 * BadParameter, "Secret is beyond the maximum permitted length of 25600 characters.", inner
 * code SecretTooLarge — what `az keyvault secret set` users see), a caller who pages through
 * versions and deleted secrets a few at a time (nothing skipped, nothing repeated, no value), and
 * the Key Vault Administrator role doing every secret operation.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, retryWhileInProgress, TRANSPORTS } from '../helpers/local-vault.js';

const POLL = { intervalInMs: 1 };

function innerCode(error: { details?: unknown }): string | undefined {
  return (error.details as { error?: { innerError?: { code?: string } } } | undefined)?.error?.innerError?.code;
}

describe.each(TRANSPORTS)('local vault secret rules (%s)', (transport) => {
  let vault: LocalKeyVault;
  let client: SecretClient;
  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    client = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  it('a value over 25 KB gets the service answer: 400 BadParameter, its message and inner code SecretTooLarge, value not echoed', async () => {
    const error = await expectRestError(client.setSecret('too-big', `${'x'.repeat(25_600)}Y`), 400, 'BadParameter');
    expect(error.message).toBe('Secret is beyond the maximum permitted length of 25600 characters.');
    expect(innerCode(error)).toBe('SecretTooLarge');
    expect(JSON.stringify(error.details)).not.toContain('xxxx');
    await expectRestError(client.getSecret('too-big'), 404, 'SecretNotFound');
  });

  it('versions and deleted secrets page a few at a time: every item once, no value', async () => {
    const made = new Set<string>();
    for (let i = 0; i < 7; i++) made.add((await client.setSecret('paged', `paged-value-${i}`)).properties.version ?? '');
    const seen: string[] = [];
    let pages = 0;
    for await (const page of client.listPropertiesOfSecretVersions('PAGED').byPage({ maxPageSize: 3 })) {
      pages++;
      expect(page.length).toBeLessThanOrEqual(3);
      for (const p of page) seen.push(p.version ?? '');
      expect(JSON.stringify(page)).not.toContain('paged-value');
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...made].sort());

    const names = Array.from({ length: 5 }, (_, i) => `gone-${i}`);
    for (const name of names) {
      await client.setSecret(name, `gone-value-${name}`);
      await (await client.beginDeleteSecret(name, POLL)).pollUntilDone();
    }
    const deleted: string[] = [];
    pages = 0;
    for await (const page of client.listDeletedSecrets().byPage({ maxPageSize: 2 })) {
      pages++;
      for (const d of page) {
        deleted.push(d.name);
        expect(d.value).toBeUndefined();
      }
    }
    expect(pages).toBe(3);
    expect(deleted.sort()).toEqual(names);
  });

  it('Key Vault Administrator sets, reads, updates, lists, deletes, recovers, backs up and purges secrets', async () => {
    vault.assignRole('admin-person', 'Key Vault Administrator');
    const admin = new SecretClient(vault.url, vault.credential('admin-person'), vault.clientOptions);
    const set = await admin.setSecret('admin-made', 'a');
    expect((await admin.getSecret('admin-made')).value).toBe('a');
    expect((await admin.updateSecretProperties('admin-made', set.properties.version ?? '', { tags: { t: '1' } })).tags).toEqual({ t: '1' });
    expect((await admin.listPropertiesOfSecrets().next()).done).toBe(false);
    const blob = await admin.backupSecret('admin-made');
    await (await admin.beginDeleteSecret('admin-made', POLL)).pollUntilDone();
    await (await admin.beginRecoverDeletedSecret('admin-made', POLL)).pollUntilDone();
    await (await admin.beginDeleteSecret('admin-made', POLL)).pollUntilDone();
    await admin.purgeDeletedSecret('admin-made');
    expect((await retryWhileInProgress(() => admin.restoreSecretBackup(blob!))).name).toBe('admin-made'); // Azure purges in the background
    // The adversary for the role table: a principal with no role gets nothing.
    await expectRestError(new SecretClient(vault.url, vault.credential('nobody'), vault.clientOptions).getSecret('admin-made'), 403, 'Forbidden');
  });
});
