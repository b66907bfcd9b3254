/**
 * `kv-envelope run [--env-file F] -- CMD [ARGS…]`: what App Service does with Key Vault
 * references in app settings, for any program: every `@Microsoft.KeyVault(...)` in the
 * environment (and in dotenv files) is replaced by the secret's value, then CMD runs with it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { escapeUntrusted } from '../../internal/escape.js';
import { SecretError, SecretResolver, isReference } from '../../secrets/index.js';
import { parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { parseDotenv } from '../dotenv.js';
import type { VaultContext } from '../vault-context.js';
import { secretClientOptions } from './secret-helpers.js';

export const RUN_HELP = `Usage: kv-envelope run [--env-file FILE]... [--allowed-vault URL]... -- CMD [ARGS…]

Runs CMD (directly, no shell) with every Key Vault reference in its environment replaced by the
secret's value, as App Service does with app settings:
  @Microsoft.KeyVault(SecretUri=https://VAULT.vault.azure.net/secrets/NAME[/VERSION])
  @Microsoft.KeyVault(VaultName=VAULT;SecretName=NAME[;SecretVersion=VERSION])
References come from the environment and from each --env-file (dotenv syntax: NAME=VALUE,
# comments, 'single' "double" \`backtick\` quotes, \\n escapes in double quotes, an optional
"export " prefix, no \${VAR} expansion). The environment wins over the files, a later file over
an earlier one (as node --env-file does).

Every reference is read before CMD starts: a malformed one, or one that cannot be read, is an
error that names the variable (never a value), and CMD does not run. Values are never printed.
References may name only the selected vault — the embedded local vault (VaultName=local), or
--vault-url with DefaultAzureCredential — and each --allowed-vault: one elsewhere fails before
any request (a Key Vault token is good for every vault, so it goes only where you allow).
Reading values needs the "Key Vault Secrets User" role.

stdin, stdout and stderr are CMD's; SIGINT, SIGTERM and SIGHUP are forwarded to it.
Exit code: CMD's own; 128+N when CMD is killed by signal N (as shells report it); 127 when CMD
is not found, 126 when it cannot be executed; 1 or 2 when kv-envelope fails before CMD starts.

Options: --env-file FILE (repeatable), --allowed-vault URL (repeatable; with --vault-url),
--vault-url URL, --home DIR, -h/--help`;

const OPTIONS = { 'env-file': { type: 'string', multiple: true }, 'allowed-vault': { type: 'string', multiple: true } } as const;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function runCommand(argv: string[], vault: () => Promise<VaultContext>, _out: Output): Promise<number> {
  const dash = argv.indexOf('--');
  // Without `--`, kv-envelope's options and CMD's could not be told apart.
  const missing = new UsageError('put the command after --: kv-envelope run [--env-file FILE] -- CMD [ARGS…] (see: kv-envelope run --help)');
  if (dash === -1 && !argv.includes('--help') && !argv.includes('-h')) throw missing;
  const { values, positionals } = parse(dash === -1 ? argv : argv.slice(0, dash), OPTIONS, 'run');
  if (values.help) {
    process.stdout.write(`${RUN_HELP}\n`);
    return 0;
  }
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  if (positionals.length > 0 || command.length === 0) throw missing;
  for (const url of values['allowed-vault'] ?? []) checkVaultUrl(url);
  const fromFile = new Map<string, string>();
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const file of values['env-file'] ?? []) {
    for (const [k, v] of parseDotenv(await readFile(file, 'utf8'), file)) {
      env[k] = v;
      fromFile.set(k, file);
    }
  }
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    env[k] = v;
    fromFile.delete(k);
  }
  const resolved = Object.values(env).some(isReference) ? await resolveReferences(env, fromFile, values['allowed-vault'] ?? [], vault) : env;
  return passthrough(command[0]!, command.slice(1), resolved);
}

/** Reads every reference (before CMD starts); the vault is closed again before CMD runs. */
async function resolveReferences(env: Record<string, string>, fromFile: Map<string, string>, allowed: string[], vault: () => Promise<VaultContext>): Promise<Record<string, string>> {
  const v = await vault();
  if (v.local !== undefined && allowed.length > 0) {
    throw new UsageError(`--allowed-vault needs --vault-url: the embedded local vault answers only for ${v.url} (VaultName=local)`);
  }
  const resolver = new SecretResolver({ credential: v.credential, clientOptions: secretClientOptions(v), allowedVaults: [v.url, ...allowed] });
  try {
    return await resolver.resolveEnv(env);
  } catch (err) {
    if (!(err instanceof SecretError) || err.variable === undefined) throw err;
    const file = fromFile.get(err.variable);
    const hint = err.code !== 'ERR_SECRET_VAULT_NOT_ALLOWED' ? '' : v.local !== undefined ? ` (the embedded local vault is ${v.url}: give --vault-url for a real vault)` : ' (allow it with --allowed-vault URL)';
    const where = file === undefined ? '' : `${file}: `;
    throw new SecretError(err.code, `${where}${err.message}${hint}`, { cause: err.cause, variable: err.variable, ...(err.secret === undefined ? {} : { secret: err.secret }) });
  } finally {
    resolver.close();
    await v.close();
  }
}

/** An --allowed-vault value: an https vault URL without a path (checked before anything runs). */
function checkVaultUrl(text: string): void {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new UsageError(`--allowed-vault expects a vault URL like https://myvault.vault.azure.net, got "${escapeUntrusted(text, 100)}"`);
  }
}

/** Runs CMD with stdio inherited; resolves with its exit code (128+N for signal N). */
function passthrough(command: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const s of FORWARDED) process.on(s, forward);
    let settled = false;
    const done = (code: number) => {
      if (settled) return;
      settled = true;
      for (const s of FORWARDED) process.off(s, forward);
      resolve(code);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      // Only a failure to start: 127 not found, 126 not executable, as shells answer.
      if (child.pid !== undefined) return;
      const code = err.code === 'ENOENT' ? 127 : 126;
      process.stderr.write(`kv-envelope: ${escapeUntrusted(command)}: ${code === 127 ? 'command not found' : `cannot execute (${err.code ?? err.message})`}\n`);
      done(code);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))));
  });
}
