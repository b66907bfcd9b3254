/**
 * `kv-envelope secret …`: Key Vault secrets from the command line. Only `secret get` prints a
 * value; every other command shows properties (name, version, dates, content type, tags).
 */
import { resolveRetryPolicy } from '../../azure/internal/retry.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { fetchSecret } from '../../secrets/internal/fetch.js';
import { keyValues, parse, positionals } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import type { VaultContext } from '../vault-context.js';
import { checkName, checkVersion, dateOption, describe, readValue, referenceTo, secretClient, summary } from './secret-helpers.js';
import { manageSecret } from './secret-manage.js';

export const SECRET_HELP = `Usage: kv-envelope secret <command> [options]

Commands:
  set NAME (--value V | --file F | -) [--content-type T] [--expires DATE] [--not-before DATE]
           [--tags k=v ...] [--disabled]
                      store a value as a new version of NAME (created when new). The value is
                      taken as is (a trailing newline too: printf %s, not echo), UTF-8 text of at
                      most 25 KB; --value is visible in the process list and shell history:
                      prefer --file F or - (stdin). DATE: 2030-01-31 or 2030-01-31T12:00:00Z
  get NAME [--version V]
                      print the value (the latest, or version V) to stdout and nothing else: no
                      newline is added unless stdout is a terminal. With --json: one object with
                      name, version, value, contentType, notBefore, expiresOn (the only command
                      whose JSON holds a value)
  show NAME           the latest version's properties (never the value)
  list [--deleted]    list secrets (or soft-deleted ones) with their properties, no values
  versions NAME       every version, newest first, no values
  delete NAME         soft-delete (recoverable for the retention period)
  recover NAME        recover a soft-deleted secret (an error if NAME is not deleted)
  purge NAME [--yes]  permanently delete a soft-deleted secret: asks on a terminal, else needs --yes

Roles (Azure RBAC): get and show need "Key Vault Secrets User" (what an application gets);
list and versions "Key Vault Reader"; set, delete, recover and purge "Key Vault Secrets Officer"
(what the pipeline that stores secrets gets). A 403 names the role.

Vault: the embedded local vault in the home folder (VaultName=local; "secret set" makes
./.kv-envelope/ when there is none), or Azure with --vault-url URL (or AZURE_KEYVAULT_URL),
signed in with DefaultAzureCredential. See "kv-envelope --help".

Options: --json (machine-readable output), --vault-url URL, --home DIR, -h/--help`;

const OPTIONS = {
  value: { type: 'string' }, file: { type: 'string' }, 'content-type': { type: 'string' }, expires: { type: 'string' },
  'not-before': { type: 'string' }, tags: { type: 'string', multiple: true }, disabled: { type: 'boolean' },
  version: { type: 'string' }, deleted: { type: 'boolean' }, yes: { type: 'boolean' },
} as const;

/** Which options each command takes (anything else is a usage error, not silently ignored). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  set: ['value', 'file', 'content-type', 'expires', 'not-before', 'tags', 'disabled'], get: ['version'], show: [], list: ['deleted'],
  versions: [], delete: [], recover: [], purge: ['yes'],
};
const GLOBAL = new Set(['help', 'json', 'vault-url', 'home']);

export async function secretCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${SECRET_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals: pos } = parse(rest, OPTIONS, `secret ${sub}`);
  if (values.help) {
    process.stdout.write(`${SECRET_HELP}\n`);
    return 0;
  }
  const allowed = ALLOWED[sub];
  if (allowed === undefined) throw new UsageError(`unknown secret command "${escapeUntrusted(sub)}" (see: kv-envelope secret --help)`);
  for (const name of Object.keys(values)) {
    if (!GLOBAL.has(name) && !allowed.includes(name)) throw new UsageError(`--${name} does not apply to "secret ${sub}" (see: kv-envelope secret --help)`);
  }
  if (sub === 'list') {
    positionals(pos, [], 'secret list');
    return manageSecret(sub, '', values, vault, out);
  }
  // `secret set NAME -`: the value comes from stdin.
  const stdin = sub === 'set' && pos.length === 2 && pos[1] === '-';
  const name = checkName(positionals(stdin ? pos.slice(0, 1) : pos, ['name'], `secret ${sub}`)[0]!);
  if (sub === 'set') {
    const tags = keyValues(values.tags, 'tags');
    const expiresOn = dateOption(values.expires, 'expires');
    const notBefore = dateOption(values['not-before'], 'not-before');
    const value = await readValue(values.value, values.file, stdin);
    const client = secretClient(await vault());
    const { properties: p } = await client.setSecret(name, value, {
      enabled: values.disabled !== true,
      ...(values['content-type'] === undefined ? {} : { contentType: values['content-type'] }),
      ...(expiresOn === undefined ? {} : { expiresOn }),
      ...(notBefore === undefined ? {} : { notBefore }),
      ...(tags === undefined ? {} : { tags }),
    });
    out.result(`set ${describe(p)}`, summary(p));
    return 0;
  }
  if (sub === 'get') {
    const version = checkVersion(values.version);
    const v = await vault();
    const s = await fetchSecret(secretClient(v, true), referenceTo(v, name, version), resolveRetryPolicy(undefined), 30_000);
    const now = Date.now();
    if (s.expiresOn !== undefined && s.expiresOn.getTime() <= now) out.info(`note: ${name} version ${s.version} expired at ${s.expiresOn.toISOString()}`);
    if (s.notBefore !== undefined && s.notBefore.getTime() > now) out.info(`note: ${name} version ${s.version} is not valid before ${s.notBefore.toISOString()}`);
    if (out.json) {
      process.stdout.write(`${JSON.stringify({ name, version: s.version, value: s.value, contentType: s.contentType, notBefore: s.notBefore, expiresOn: s.expiresOn })}\n`);
    } else {
      process.stdout.write(process.stdout.isTTY ? `${s.value}\n` : s.value);
    }
    return 0;
  }
  return manageSecret(sub, name, values, vault, out);
}
