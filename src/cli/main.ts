/**
 * The `kv-envelope` command line: a thin consumer of the public API. Exit codes: 0 ok,
 * 1 the operation (or some items) failed, 2 usage or input error.
 */
import { createRequire } from 'node:module';
import { globalValues } from './args.js';
import { decryptCommand, encryptCommand } from './commands/crypt.js';
import { demoCommand } from './commands/demo.js';
import { jwtCommand } from './commands/jwt.js';
import { keyCommand } from './commands/key.js';
import { rewrapCommand } from './commands/rewrap.js';
import { vaultCommand } from './commands/vault.js';
import { ExitCode, UsageError, describeError } from './errors.js';
import { createOutput } from './output.js';
import { type VaultContext, openVault } from './vault-context.js';

export const MAIN_HELP = `Usage: kv-envelope <command> [options]

Client-side envelope encryption with Azure Key Vault keys. By default every command uses the
embedded local vault, persisted in ./.kv-envelope/ (or $KV_ENVELOPE_HOME, or --home DIR).
--vault-url URL (or AZURE_KEYVAULT_URL) selects a real vault, signed in with
DefaultAzureCredential (npm install @azure/identity).

Commands:
  demo                          the tour: keys, envelopes, fields, rotation, vault calls
  key create|list|show|rotate|delete|recover|purge
                                manage vault keys
  encrypt --key NAME FILE|-     encrypt a file (or stdin) into an envelope
  decrypt FILE|-                decrypt an envelope
  rewrap --key NAME FILES|DIRS  re-wrap envelopes after a key rotation (resumable; --jsonl too)
  jwt sign|verify|jwks --key NAME
                                sign JWTs with a vault key, verify them locally, print the JWKS
  vault serve                   serve the local vault over HTTPS for other processes

Global options: --json (JSON output for scripts), --vault-url URL, --home DIR, -h/--help, --version
Run "kv-envelope <command> --help" for a command's options.

Exit codes: 0 ok · 1 the operation (or some items) failed · 2 usage or input error
(bad arguments, missing file, not an envelope). Outputs are written to a temporary file and
renamed only on success: a failed command never leaves a partial output file.`;

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json') || command === '--json';
  const out = createOutput(json);
  let vault: VaultContext | undefined;
  const openSelected = async () => {
    vault ??= await openVault(globalValues(rest));
    return vault;
  };
  try {
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
      case 'jwt':
        return await jwtCommand(rest, openSelected, out);
      case 'rewrap':
        return await rewrapCommand(rest, openSelected, out);
      case 'vault':
        return await vaultCommand(rest, out, globalValues(rest).home);
      default:
        throw new UsageError(`unknown command "${command}" (see: kv-envelope --help)`);
    }
  } catch (err) {
    const { code, message } = describeError(err);
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: (err as { code?: unknown }).code ?? (code === 2 ? 'USAGE' : 'FAILED'), message } })}\n`);
    process.stderr.write(`kv-envelope: ${message}\n`);
    return code;
  } finally {
    await vault?.close();
  }
}
