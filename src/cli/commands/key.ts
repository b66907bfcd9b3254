/** `kv-envelope key create|list|show|rotate|delete|recover|purge`. */
import type { KeyVaultKey } from '@azure/keyvault-keys';
import { intOption, parse, positionals } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import type { VaultContext } from '../vault-context.js';

export const KEY_HELP = `Usage: kv-envelope key <command> [options]

Commands:
  create NAME [--kty RSA|EC|oct-HSM] [--size BITS] [--curve P-256|P-384|P-521|P-256K]
                      create a key (default RSA 3072: a KEK; EC keys can only sign)
  list                list keys
  show NAME           show the latest version, its type and attributes
  rotate NAME         create a new version (new envelopes use it; old ones still decrypt)
  delete NAME         soft-delete (recoverable for the retention period)
  recover NAME        recover a soft-deleted key
  purge NAME          permanently delete a soft-deleted key

Options: --json (machine-readable output), --vault-url URL, --home DIR, -h/--help`;

const CREATE_OPTIONS = { kty: { type: 'string' }, size: { type: 'string' }, curve: { type: 'string' } } as const;

export async function keyCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${KEY_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals: pos } = parse(rest, CREATE_OPTIONS, `key ${sub}`);
  if (values.help) {
    process.stdout.write(`${KEY_HELP}\n`);
    return 0;
  }
  if (sub !== 'create' && (values.kty ?? values.size ?? values.curve) !== undefined) {
    throw new UsageError(`--kty/--size/--curve only apply to "key create"`);
  }
  const v = await vault();
  const keys = v.keyClient;
  switch (sub) {
    case 'create': {
      const [name] = positionals(pos, ['name'], 'key create');
      const key = await create(v, name!, values.kty ?? 'RSA', intOption(values.size, 'size'), values.curve);
      out.result(`created ${describe(key)}`, summary(key));
      return 0;
    }
    case 'list': {
      positionals(pos, [], 'key list');
      const rows = [];
      for await (const p of keys.listPropertiesOfKeys()) rows.push({ name: p.name, enabled: p.enabled, updatedOn: p.updatedOn });
      out.result(rows.length === 0 ? 'no keys' : rows.map((r) => `${r.name}${r.enabled === false ? ' (disabled)' : ''}`).join('\n'), rows);
      return 0;
    }
    case 'show': {
      const [name] = positionals(pos, ['name'], 'key show');
      const key = await keys.getKey(name!);
      out.result(describe(key), summary(key));
      return 0;
    }
    case 'rotate': {
      const [name] = positionals(pos, ['name'], 'key rotate');
      const key = await keys.rotateKey(name!);
      out.result(`rotated: ${describe(key)}`, summary(key));
      return 0;
    }
    case 'delete': {
      const [name] = positionals(pos, ['name'], 'key delete');
      const poller = await keys.beginDeleteKey(name!, { intervalInMs: 250 });
      const deleted = await poller.pollUntilDone();
      out.result(`deleted ${name} (recoverable until ${deleted.properties.scheduledPurgeDate?.toISOString() ?? 'purged'})`, { name, recoveryId: deleted.properties.recoveryId, scheduledPurgeDate: deleted.properties.scheduledPurgeDate });
      return 0;
    }
    case 'recover': {
      const [name] = positionals(pos, ['name'], 'key recover');
      const key = await (await keys.beginRecoverDeletedKey(name!, { intervalInMs: 250 })).pollUntilDone();
      out.result(`recovered ${describe(key)}`, summary(key));
      return 0;
    }
    case 'purge': {
      const [name] = positionals(pos, ['name'], 'key purge');
      await keys.purgeDeletedKey(name!);
      out.result(`purged ${name}`, { name, purged: true });
      return 0;
    }
    default:
      throw new UsageError(`unknown key command "${sub}" (see: kv-envelope key --help)`);
  }
}

async function create(v: VaultContext, name: string, kty: string, size: number | undefined, curve: string | undefined): Promise<KeyVaultKey> {
  switch (kty) {
    case 'RSA':
    case 'RSA-HSM':
      if (curve !== undefined) throw new UsageError('--curve applies to EC keys');
      if (size !== undefined && ![2048, 3072, 4096].includes(size)) throw new UsageError('--size for RSA is 2048, 3072 or 4096');
      return v.keyClient.createRsaKey(name, { keySize: size ?? 3072, hsm: kty === 'RSA-HSM' });
    case 'EC':
    case 'EC-HSM': {
      if (size !== undefined) throw new UsageError('--size applies to RSA and oct-HSM keys; use --curve for EC');
      const crv = curve ?? 'P-256';
      if (!['P-256', 'P-384', 'P-521', 'P-256K'].includes(crv)) throw new UsageError('--curve is P-256, P-384, P-521 or P-256K');
      return v.keyClient.createEcKey(name, { curve: crv, hsm: kty === 'EC-HSM' });
    }
    case 'oct-HSM':
      if (size !== undefined && ![128, 192, 256].includes(size)) throw new UsageError('--size for oct-HSM is 128, 192 or 256');
      return v.keyClient.createOctKey(name, { keySize: size ?? 256, hsm: true });
    default:
      throw new UsageError(`--kty is RSA, RSA-HSM, EC, EC-HSM or oct-HSM, got "${kty}"`);
  }
}

function summary(key: KeyVaultKey) {
  return {
    name: key.name,
    id: key.id,
    version: key.properties.version,
    kty: key.keyType,
    curve: key.key?.crv,
    size: key.key?.n === undefined ? undefined : key.key.n.length * 8,
    keyOps: key.keyOperations,
    enabled: key.properties.enabled,
    createdOn: key.properties.createdOn,
  };
}

function describe(key: KeyVaultKey): string {
  const s = summary(key);
  const shape = s.curve ?? (s.size === undefined ? '' : `${s.size}`);
  return `${s.name} ${s.kty} ${shape} version ${s.version}${s.enabled === false ? ' (disabled)' : ''}\n  id: ${s.id}\n  ops: ${(s.keyOps ?? []).join(', ')}`;
}
