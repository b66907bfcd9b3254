/**
 * Which vault the CLI talks to. Default: the embedded local vault (in-process, persisted in the
 * home folder: `--home`, `$KV_ENVELOPE_HOME`, or the nearest `.kv-envelope/` up from the current
 * directory). `--vault-url` or `AZURE_KEYVAULT_URL`: a real vault, with `DefaultAzureCredential`
 * from the optional peer `@azure/identity`.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { KeyClient, type KeyClientOptions } from '@azure/keyvault-keys';
import { KeyVaultKek } from '../azure/index.js';
import { LocalKeyVault } from '../local-vault/index.js';
import { UsageError } from './errors.js';

export interface VaultContext {
  readonly url: string;
  /** Human description: "embedded local vault (…/vault.json)" or the URL. */
  readonly description: string;
  readonly keyClient: KeyClient;
  readonly credential: TokenCredential;
  readonly clientOptions: KeyClientOptions;
  /** The embedded vault, when that is what we talk to (for call counts). */
  readonly local: LocalKeyVault | undefined;
  readonly home: string;
  /** A KEK for a key of this vault. Its unwrap contacts only this vault. */
  kek(keyName: string): KeyVaultKek;
  close(): Promise<void>;
}

export interface VaultSelection {
  vaultUrl?: string;
  home?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the home search starts (default: the current directory). */
  cwd?: string;
  /** Make the home folder when none is found (commands that create keys); otherwise that is an error. */
  create?: boolean;
  /** With a real vault the home only holds job files (re-wrap checkpoints): made only when this is set. */
  createForRemote?: boolean;
}

/** The home folder's name, found like git finds `.git`. */
export const HOME_NAME = '.kv-envelope';

const GITIGNORE = `# kv-envelope home: the embedded vault's state, including PRIVATE KEYS. Never commit it.\n*\n`;

/**
 * The CLI's home folder: `--home`, else `$KV_ENVELOPE_HOME`, else the nearest `.kv-envelope`
 * in the current directory or a parent (as git finds `.git`), else `./.kv-envelope`.
 * `exists` says whether it is there yet.
 */
export function findHome(selection: VaultSelection): { dir: string; exists: boolean } {
  const env = selection.env ?? process.env;
  const cwd = selection.cwd ?? process.cwd();
  const explicit = selection.home || env.KV_ENVELOPE_HOME;
  if (explicit) {
    const dir = resolve(cwd, explicit);
    return { dir, exists: existsSync(dir) };
  }
  for (let at = resolve(cwd); ; at = dirname(at)) {
    const dir = join(at, HOME_NAME);
    if (isDirectory(dir)) return { dir, exists: true };
    if (dirname(at) === at) break;
  }
  return { dir: resolve(cwd, HOME_NAME), exists: false };
}

/**
 * The CLI's home folder (see {@link findHome}), created 0700 with a `.gitignore` (it holds
 * private keys) when missing and `selection.create` is not false.
 * @throws {UsageError} when there is none and `selection.create` is false.
 */
export function homeDir(selection: VaultSelection): string {
  const { dir, exists } = findHome(selection);
  if (!exists && selection.create === false) {
    throw new UsageError(
      `no ${HOME_NAME} folder in ${selection.cwd ?? process.cwd()} or any parent (the embedded vault lives there): ` +
        'create a key or a secret first (kv-envelope key create NAME, kv-envelope secret set NAME …), or give --home DIR / KV_ENVELOPE_HOME',
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(join(dir, '.gitignore'), GITIGNORE, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return dir;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Opens the selected vault. Close it when done (the embedded vault flushes its state file). */
export async function openVault(selection: VaultSelection): Promise<VaultContext> {
  const env = selection.env ?? process.env;
  const vaultUrl = selection.vaultUrl ?? env.AZURE_KEYVAULT_URL;
  if (vaultUrl !== undefined && vaultUrl !== '') {
    return openRemote(vaultUrl, selection.createForRemote ? homeDir({ ...selection, create: true }) : findHome(selection).dir);
  }
  const home = homeDir(selection);
  const stateFile = resolve(home, 'vault.json');
  const local = await LocalKeyVault.start({ stateFile });
  return vaultContext(local.url, local.credential(), local.clientOptions, `embedded local vault (${stateFile})`, home, local);
}

async function openRemote(vaultUrl: string, home: string): Promise<VaultContext> {
  let url: URL;
  try {
    url = new URL(vaultUrl);
  } catch {
    throw new UsageError(`--vault-url is not a URL: ${vaultUrl}`);
  }
  if (url.protocol !== 'https:') throw new UsageError('--vault-url must be https:// (Key Vault refuses anything else)');
  let identity: { DefaultAzureCredential: new () => TokenCredential };
  try {
    identity = (await import(/* optional peer */ '@azure/identity' as string)) as typeof identity;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new UsageError(
      '--vault-url signs in with DefaultAzureCredential from @azure/identity, which is not installed: ' +
        'npm install @azure/identity (with npx: npx -p kv-envelope -p @azure/identity kv-envelope …)',
    );
  }
  return vaultContext(url.origin, new identity.DefaultAzureCredential(), {}, url.origin, home, undefined);
}

/** A context over any vault (exported for tests that need a principal with fewer rights). */
export function vaultContext(url: string, credential: TokenCredential, clientOptions: KeyClientOptions, description: string, home: string, local: LocalKeyVault | undefined): VaultContext {
  const keks = new Map<string, KeyVaultKek>();
  return {
    url,
    description,
    credential,
    clientOptions,
    home,
    local,
    keyClient: new KeyClient(url, credential, clientOptions),
    kek(keyName) {
      let kek = keks.get(keyName);
      if (kek === undefined) {
        kek = new KeyVaultKek({ vaultUrl: url, keyName, credential, clientOptions });
        keks.set(keyName, kek);
      }
      return kek;
    },
    async close() {
      await local?.close();
    },
  };
}
