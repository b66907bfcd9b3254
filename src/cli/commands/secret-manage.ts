/**
 * `kv-envelope secret show|list|versions|delete|recover|purge`: what is known about secrets
 * without their values, and their soft-delete life cycle.
 */
import type { SecretClient, SecretProperties } from '@azure/keyvault-secrets';
import { CommandError, UsageError } from '../errors.js';
import type { Output } from '../output.js';
import type { VaultContext } from '../vault-context.js';
import { confirmPurge, waitUntilPurged } from './key-helpers.js';
import { describe, missing, notFound, secretClient, summary } from './secret-helpers.js';

interface ManageValues {
  deleted?: boolean;
  yes?: boolean;
}

export async function manageSecret(sub: string, name: string, values: ManageValues, vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  if (sub === 'purge' && values.yes !== true) {
    await confirmPurge('secret purge', name, `Permanently delete the secret ${name}? Every version is lost for good. Type the secret name to confirm: `);
  }
  const client = secretClient(await vault());
  switch (sub) {
    case 'show': {
      const p = await latestProperties(client, name);
      out.result(describe(p), summary(p));
      return 0;
    }
    case 'list': {
      if (values.deleted) {
        const rows = [];
        for await (const d of client.listDeletedSecrets()) rows.push({ name: d.name, deletedOn: d.properties.deletedOn, scheduledPurgeDate: d.properties.scheduledPurgeDate });
        out.result(rows.length === 0 ? 'no deleted secrets' : rows.map((r) => `${r.name} (deleted ${r.deletedOn?.toISOString() ?? ''}, purged ${r.scheduledPurgeDate?.toISOString() ?? 'on request'})`).join('\n'), rows);
        return 0;
      }
      const rows: SecretProperties[] = [];
      for await (const p of client.listPropertiesOfSecrets()) rows.push(p);
      out.result(rows.length === 0 ? 'no secrets' : rows.map(line).join('\n'), rows.map((p) => ({ ...summary(p), version: undefined })));
      return 0;
    }
    case 'versions': {
      const rows: SecretProperties[] = [];
      try {
        for await (const p of client.listPropertiesOfSecretVersions(name)) rows.push(p);
      } catch (err) {
        missing(name)(err);
      }
      if (rows.length === 0) throw new CommandError('SECRET_NOT_FOUND', `secret ${name} not found`);
      rows.sort((a, b) => (b.createdOn?.getTime() ?? 0) - (a.createdOn?.getTime() ?? 0));
      out.result(rows.map((p) => `${p.version} ${line(p).slice(p.name.length + 1)}`).join('\n'), rows.map(summary));
      return 0;
    }
    case 'delete': {
      const poller = await client.beginDeleteSecret(name, { intervalInMs: 250 }).catch(missing(name));
      const { properties: p } = await poller.pollUntilDone();
      out.result(`deleted ${name} (recoverable until ${p.scheduledPurgeDate?.toISOString() ?? 'purged'})`, { name, recoveryId: p.recoveryId, scheduledPurgeDate: p.scheduledPurgeDate });
      return 0;
    }
    case 'recover': {
      if ((await client.getDeletedSecret(name).catch(notFound)) === undefined) {
        const exists = (await first(client.listPropertiesOfSecretVersions(name).byPage({ maxPageSize: 1 })).catch(notFound)) !== undefined;
        throw new CommandError('SECRET_NOT_DELETED', `secret ${name} is not deleted: nothing to recover${exists ? ' (it exists and is in use)' : ' (no secret or deleted secret has that name)'}`);
      }
      const p = await (await client.beginRecoverDeletedSecret(name, { intervalInMs: 250 })).pollUntilDone();
      out.result(`recovered ${describe(p)}`, summary(p));
      return 0;
    }
    default: {
      await client.purgeDeletedSecret(name).catch((err: unknown) => {
        if ((err as { statusCode?: unknown })?.statusCode === 404) throw new CommandError('SECRET_NOT_DELETED', `secret ${name} is not soft-deleted: delete it first (kv-envelope secret delete ${name})`);
        throw err;
      });
      await waitUntilPurged(() => client.getDeletedSecret(name), `secret ${name}`);
      out.result(`purged ${name}`, { name, purged: true });
      return 0;
    }
  }
}

/**
 * The latest version's properties. Read with getSecret (the value is dropped at once); the vault
 * refuses that for a disabled latest version, whose properties then come from the listing (which
 * carries the latest version's attributes, without its version id).
 */
async function latestProperties(client: SecretClient, name: string): Promise<SecretProperties> {
  try {
    return (await client.getSecret(name)).properties;
  } catch (err) {
    if ((err as { statusCode?: unknown })?.statusCode !== 403 || !/disabled/i.test(String((err as { message?: unknown }).message))) return missing(name)(err);
    for await (const p of client.listPropertiesOfSecrets()) if (p.name.toLowerCase() === name.toLowerCase()) return p;
    throw err;
  }
}

async function first<T>(pages: AsyncIterable<T[]>): Promise<T | undefined> {
  for await (const page of pages) return page[0];
  return undefined;
}

function line(p: SecretProperties): string {
  const notes = [p.enabled === false ? 'disabled' : undefined, p.expiresOn === undefined ? undefined : `expires ${p.expiresOn.toISOString()}`].filter(Boolean);
  return `${p.name} ${p.updatedOn?.toISOString() ?? ''}${notes.length === 0 ? '' : ` (${notes.join(', ')})`}`;
}
