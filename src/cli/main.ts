/**
 * The `kv-envelope` command line: a thin consumer of the public API. Exit codes: 0 ok,
 * 1 the operation (or some items) failed, 2 usage or input error.
 */
import { createRequire } from 'node:module';
import { globalValues, ownArguments, splitCommand } from './args.js';
import { certCommand, certRole } from './commands/cert.js';
import { decryptCommand, encryptCommand } from './commands/crypt.js';
import { inspectCommand } from './commands/inspect.js';
import { demoCommand } from './commands/demo.js';
import { jwtCommand } from './commands/jwt.js';
import { keyCommand } from './commands/key.js';
import { rewrapCommand } from './commands/rewrap.js';
import { runCommand } from './commands/run.js';
import { secretCommand } from './commands/secret.js';
import { secretsCommand } from './commands/secrets-sync.js';
import { vaultCommand } from './commands/vault.js';
import { ExitCode, UsageError, describeError } from './errors.js';
import { createOutput } from './output.js';
import { escapeUntrusted } from '../internal/escape.js';
import { type VaultContext, type VaultSelection, openVault } from './vault-context.js';

export const MAIN_HELP = `Usage: kv-envelope <command> [options]

Client-side envelope encryption with Azure Key Vault keys, and Key Vault secrets for any
program. By default every command uses the embedded local vault, kept in the home folder:
--home DIR, else $KV_ENVELOPE_HOME, else the nearest .kv-envelope/ in this directory or a parent
(as git finds .git); "key create" and "secret set" make ./.kv-envelope/ when there is none. It
holds private keys: it gets a .gitignore, never commit it.
--vault-url URL (or AZURE_KEYVAULT_URL) selects a real vault, signed in with
DefaultAzureCredential (npm install @azure/identity).

Commands:
  demo                          the tour: keys, envelopes, fields, rotation, vault calls
  key create|list|show|versions|rotate|enable|disable|delete|recover|purge|backup|restore
                                manage vault keys
  encrypt --key NAME FILE|-     encrypt a file (or stdin) into an envelope
  decrypt FILE|-                decrypt an envelope
  inspect FILE|-                show an envelope's key ids, algorithms and stored context
                                (unauthenticated: no vault call, nothing decrypted)
  rewrap --key NAME FILES|DIRS  re-wrap envelopes after a key rotation (resumable; --jsonl too)
  jwt sign|verify|jwks --key NAME
                                sign JWTs with a vault key, verify them locally, print the JWKS
  cert create|list|show|versions|download|import|renew|delete|recover|purge
                                manage vault certificates (self-signed; PEM/PFX/CER download)
  vault serve                   serve the local vault over HTTPS for other processes
  vault time show|advance DUR   the local vault's clock (time travel for rotation and expiry)
  vault role assign P ROLE      give a principal a role on the local vault (RBAC)
  secret set|get|show|list|versions|delete|recover|purge
                                manage vault secrets; only "get" prints a value
  run [--env-file F] -- CMD     run CMD with @Microsoft.KeyVault(...) references in its
                                environment replaced by the secrets' values
  secrets sync --to DIR NAME... write secrets to files (0600) and rewrite them when a new
                                version appears (--once: write and exit)

Global options, before or after the command: --json (JSON output for scripts),
--vault-url URL, --home DIR, -h/--help, --version
Run "kv-envelope <command> --help" for a command's options.

Exit codes: 0 ok · 1 the operation (or some items) failed · 2 usage or input error
(bad arguments, missing file, not an envelope). "run" exits with CMD's code (128+N when CMD is
killed by signal N, 127 when it is not found). Outputs are written to a temporary file and
renamed only on success: a failed command never leaves a partial output file.`;

/** What `main` runs against; tests pass another vault opener (e.g. a principal with fewer rights). */
export interface MainOptions {
  openVault?: (selection: VaultSelection) => Promise<VaultContext>;
}

/**
 * The Azure RBAC role that allows a command (named in a 403's message). Reading key metadata
 * alone is "Key Vault Reader"; encrypt/decrypt need wrap/unwrap; signing needs "Crypto User".
 */
export function roleFor(command: string | undefined, sub: string | undefined): string | undefined {
  switch (command) {
    case 'key':
      return sub === 'list' || sub === 'show' || sub === 'versions' ? 'Key Vault Reader' : 'Key Vault Crypto Officer';
    case 'encrypt':
    case 'decrypt':
    case 'rewrap':
      return 'Key Vault Crypto Service Encryption User';
    case 'jwt':
      return sub === 'sign' ? 'Key Vault Crypto User' : 'Key Vault Reader';
    case 'secret':
      return sub === 'list' || sub === 'versions' ? 'Key Vault Reader' : sub === 'get' || sub === 'show' ? 'Key Vault Secrets User' : 'Key Vault Secrets Officer';
    case 'run':
    case 'secrets':
      return 'Key Vault Secrets User';
    case 'cert':
      return certRole(sub);
    default:
      return undefined;
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  let command: string | undefined;
  let rest: string[] = [];
  let json = ownArguments(argv).includes('--json');
  let vault: VaultContext | undefined;
  try {
    ({ command, rest } = splitCommand(argv));
    json = ownArguments(rest).includes('--json');
    const out = createOutput(json);
    // Only commands that make keys may make the home folder; the rest must find one.
    const create = (command === 'key' && (rest[0] === 'create' || rest[0] === 'restore')) || (command === 'secret' && rest[0] === 'set')
      || (command === 'cert' && (rest[0] === 'create' || rest[0] === 'import'));
    const openSelected = async () => {
      vault ??= await (options.openVault ?? openVault)({ ...globalValues(rest), create, createForRemote: command === 'rewrap' });
      return vault;
    };
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${MAIN_HELP}\n`);
        return command === undefined ? ExitCode.USAGE : ExitCode.OK;
      case '--version':
        process.stdout.write(`${(createRequire(import.meta.url)('../package.json') as { version: string }).version}\n`);
        return ExitCode.OK;
      case 'demo':
        return await demoCommand(rest, out);
      case 'key':
        return await keyCommand(rest, openSelected, out);
      case 'encrypt':
        return await encryptCommand(rest, openSelected, out);
      case 'decrypt':
        return await decryptCommand(rest, openSelected, out);
      case 'inspect':
        return await inspectCommand(rest, out);
      case 'jwt':
        return await jwtCommand(rest, openSelected, out);
      case 'cert':
        return await certCommand(rest, openSelected, out);
      case 'rewrap':
        return await rewrapCommand(rest, openSelected, out);
      case 'vault':
        return await vaultCommand(rest, out, globalValues(rest).home);
      case 'secret':
        return await secretCommand(rest, openSelected, out);
      case 'secrets':
        return await secretsCommand(rest, openSelected, out);
      case 'run':
        return await runCommand(rest, openSelected, out);
      default:
        throw new UsageError(`unknown command "${escapeUntrusted(command)}" (see: kv-envelope --help)`);
    }
  } catch (err) {
    const vaultUrl = globalValues(rest).vaultUrl ?? process.env.AZURE_KEYVAULT_URL;
    const { code, message } = describeError(err, { role: roleFor(command, rest[0]), vaultUrl: vaultUrl || undefined });
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: errorCode(err, code), message } })}\n`);
    process.stderr.write(`kv-envelope: ${message}\n`);
    return code;
  } finally {
    await vault?.close();
  }
}

function errorCode(err: unknown, exit: number): string {
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(c) ? c : exit === ExitCode.USAGE ? 'USAGE' : 'FAILED';
}
