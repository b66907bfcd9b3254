/** `kv-envelope key …`: manage vault keys (create, versions, enable/disable, soft delete, backup). */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { KeyClient, KeyVaultKey } from '@azure/keyvault-keys';
import { escapeUntrusted } from '../../internal/escape.js';
import { intOption, parse, positionals } from '../args.js';
import { writeAtomically } from '../atomic-file.js';
import { CommandError, UsageError } from '../errors.js';
import { type Output, refuseOverwrite } from '../output.js';
import type { VaultContext } from '../vault-context.js';
import { checkCreateOptions, confirmPurge, createKey, describe, notFound, summary, waitUntilPurged } from './key-helpers.js';

export const KEY_HELP = `Usage: kv-envelope key <command> [options]

Commands:
  create NAME [--kty RSA|EC|oct-HSM] [--size BITS] [--curve P-256|P-384|P-521|P-256K] [--new-version]
                      create a key (default RSA 3072: a KEK; EC keys can only sign). An existing
                      NAME is an error unless --new-version (then a new version is added)
  list [--deleted]    list keys (or soft-deleted keys)
  show NAME           show the latest version, its type and attributes
  versions NAME       list every version (newest first by creation time)
  rotate NAME         create a new version (new envelopes use it; old ones still decrypt)
  disable NAME [--version V]
                      disable the latest version (or V): it no longer wraps, unwraps or signs
  enable NAME [--version V]
                      enable it again
  delete NAME         soft-delete (recoverable for the retention period)
  recover NAME        recover a soft-deleted key (an error if NAME is not deleted)
  purge NAME [--yes]  permanently delete a soft-deleted key: asks on a terminal, else needs --yes
  backup NAME -o FILE [--force]
                      write the vault's protected backup blob of NAME (restorable to the same vault
                      or subscription); FILE is kept unless --force
  restore FILE        restore a backup made by "key backup"

Options: --json (machine-readable output), --vault-url URL, --home DIR, -h/--help`;

const OPTIONS = {
  kty: { type: 'string' }, size: { type: 'string' }, curve: { type: 'string' }, 'new-version': { type: 'boolean' },
  deleted: { type: 'boolean' }, version: { type: 'string' }, yes: { type: 'boolean' }, output: { type: 'string', short: 'o' }, force: { type: 'boolean' },
} as const;

/** Which options each command takes (anything else is a usage error, not silently ignored). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  create: ['kty', 'size', 'curve', 'new-version'], list: ['deleted'], show: [], versions: [], rotate: [], disable: ['version'], enable: ['version'],
  delete: [], recover: [], purge: ['yes'], backup: ['output', 'force'], restore: [],
};
const GLOBAL = new Set(['help', 'json', 'vault-url', 'home']);

export async function keyCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${KEY_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals: pos } = parse(rest, OPTIONS, `key ${sub}`);
  if (values.help) {
    process.stdout.write(`${KEY_HELP}\n`);
    return 0;
  }
  const allowed = ALLOWED[sub];
  if (allowed === undefined) throw new UsageError(`unknown key command "${escapeUntrusted(sub)}" (see: kv-envelope key --help)`);
  for (const name of Object.keys(values)) {
    if (!GLOBAL.has(name) && !allowed.includes(name)) throw new UsageError(`--${name} does not apply to "key ${sub}" (see: kv-envelope key --help)`);
  }
  const names = sub === 'list' ? [] : sub === 'restore' ? ['file'] : ['name'];
  const [arg] = positionals(pos, names, `key ${sub}`);
  const name = arg!;
  if (sub === 'backup' && values.output === undefined) throw new UsageError('key backup needs -o FILE');
  if (sub === 'backup') refuseOverwrite(values.output!, values.force);
  if (sub === 'create') checkCreateOptions(values.kty, values.size);
  if (sub === 'purge' && values.yes !== true) {
    await confirmPurge('key purge', name, `Permanently delete ${name}? It cannot be recovered, and envelopes under it can never be decrypted. Type the key name to confirm: `);
  }
  const v = await vault();
  const keys = v.keyClient;
  switch (sub) {
    case 'create': {
      const existing = await keys.getKey(name).catch(notFound);
      if (existing !== undefined && values['new-version'] !== true) {
        throw new CommandError('KEY_EXISTS', `key ${name} already exists (version ${existing.properties.version}): give --new-version to add a version, or "key rotate ${name}"`);
      }
      const key = await createKey(keys, name, values.kty ?? 'RSA', intOption(values.size, 'size'), values.curve);
      out.result(`created ${describe(key)}`, summary(key));
      return 0;
    }
    case 'list': {
      const rows = [];
      if (values.deleted) {
        for await (const d of keys.listDeletedKeys()) rows.push({ name: d.name, deletedOn: d.properties.deletedOn, scheduledPurgeDate: d.properties.scheduledPurgeDate });
        out.result(rows.length === 0 ? 'no deleted keys' : rows.map((r) => `${r.name} (deleted ${r.deletedOn?.toISOString() ?? ''}, purged ${r.scheduledPurgeDate?.toISOString() ?? 'on request'})`).join('\n'), rows);
        return 0;
      }
      for await (const p of keys.listPropertiesOfKeys()) rows.push({ name: p.name, enabled: p.enabled, updatedOn: p.updatedOn });
      out.result(rows.length === 0 ? 'no keys' : rows.map((r) => `${r.name}${r.enabled === false ? ' (disabled)' : ''}`).join('\n'), rows);
      return 0;
    }
    case 'show': {
      const key = await keys.getKey(name);
      out.result(describe(key), summary(key));
      return 0;
    }
    case 'versions': {
      const rows = [];
      for await (const p of keys.listPropertiesOfKeyVersions(name)) rows.push({ version: p.version, enabled: p.enabled, createdOn: p.createdOn, expiresOn: p.expiresOn });
      if (rows.length === 0) throw new CommandError('KEY_NOT_FOUND', `key ${name} not found`);
      rows.sort((a, b) => (b.createdOn?.getTime() ?? 0) - (a.createdOn?.getTime() ?? 0));
      out.result(rows.map((r) => `${r.version} ${r.createdOn?.toISOString() ?? ''}${r.enabled === false ? ' (disabled)' : ''}`).join('\n'), rows);
      return 0;
    }
    case 'rotate': {
      const key = await keys.rotateKey(name);
      out.result(`rotated: ${describe(key)}`, summary(key));
      return 0;
    }
    case 'disable':
    case 'enable': {
      // Not getKey: the vault answers 403 for a disabled latest version.
      const version = values.version ?? (await latestVersion(keys, name));
      const { properties: p } = await keys.updateKeyProperties(name, version, { enabled: sub === 'enable' });
      out.result(`${sub}d ${name} version ${p.version}${values.version === undefined ? ' (the latest; others unchanged)' : ''}`, { name, version: p.version, enabled: p.enabled });
      return 0;
    }
    case 'delete': {
      const poller = await keys.beginDeleteKey(name, { intervalInMs: 250 });
      const deleted = await poller.pollUntilDone();
      out.result(`deleted ${name} (recoverable until ${deleted.properties.scheduledPurgeDate?.toISOString() ?? 'purged'})`, { name, recoveryId: deleted.properties.recoveryId, scheduledPurgeDate: deleted.properties.scheduledPurgeDate });
      return 0;
    }
    case 'recover': {
      if ((await keys.getDeletedKey(name).catch(notFound)) === undefined) {
        throw new CommandError('KEY_NOT_DELETED', `key ${name} is not deleted: nothing to recover${(await exists(keys, name)) ? ' (it exists and is in use)' : ' (no key or deleted key has that name)'}`);
      }
      const key = await (await keys.beginRecoverDeletedKey(name, { intervalInMs: 250 })).pollUntilDone();
      out.result(`recovered ${describe(key)}`, summary(key));
      return 0;
    }
    case 'purge': {
      await keys.purgeDeletedKey(name);
      await waitUntilPurged(() => keys.getDeletedKey(name), `key ${name}`);
      out.result(`purged ${name}`, { name, purged: true });
      return 0;
    }
    case 'backup': {
      const blob = await keys.backupKey(name);
      if (blob === undefined) throw new CommandError('BACKUP_EMPTY', `the vault returned no backup for ${name}`);
      await writeAtomically(values.output!, Readable.from([Buffer.from(blob)]));
      out.result(`backed up ${name} → ${values.output} (${blob.length} bytes, protected by the vault)`, { name, output: values.output, bytes: blob.length });
      return 0;
    }
    default: {
      const key = await keys.restoreKeyBackup(await readFile(name));
      out.result(`restored ${describe(key)}`, summary(key));
      return 0;
    }
  }
}

async function latestVersion(keys: KeyClient, name: string): Promise<string> {
  // The service's own "latest" when it answers; a disabled latest version is a 403, and then the
  // newest by creation time (version lists come in no particular order; ties within a second
  // cannot be told apart from the list alone).
  const current = await keys.getKey(name).catch((err: unknown) => {
    const status = (err as { statusCode?: unknown })?.statusCode;
    if (status === 403 || status === 404) return undefined;
    throw err;
  });
  if (current?.properties.version) return current.properties.version;
  let latest: { version?: string; createdOn?: Date } | undefined;
  for await (const p of keys.listPropertiesOfKeyVersions(name)) {
    if (latest === undefined || (p.createdOn?.getTime() ?? 0) >= (latest.createdOn?.getTime() ?? 0)) latest = p;
  }
  if (latest?.version === undefined) throw new CommandError('KEY_NOT_FOUND', `key ${name} not found`);
  return latest.version;
}

async function exists(keys: KeyClient, name: string): Promise<boolean> {
  return (await keys.getKey(name).catch(notFound)) !== undefined;
}
