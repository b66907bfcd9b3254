/**
 * Which vault the CLI talks to. Default: the embedded local vault (in-process, persisted in
 * `$KV_ENVELOPE_HOME` or `./.kv-envelope/vault.json`). `--vault-url` or `AZURE_KEYVAULT_URL`:
 * a real vault, with `DefaultAzureCredential` from the optional peer `@azure/identity`.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
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
}

/** The CLI's home folder (created 0700 on first use). */
export function homeDir(selection: VaultSelection): string {
  const env = selection.env ?? process.env;
  const home = resolve(selection.home || env.KV_ENVELOPE_HOME || '.kv-envelope');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}

/** Opens the selected vault. Close it when done (the embedded vault flushes its state file). */
export async function openVault(selection: VaultSelection): Promise<VaultContext> {
  const env = selection.env ?? process.env;
  const vaultUrl = selection.vaultUrl ?? env.AZURE_KEYVAULT_URL;
  const home = homeDir(selection);
  if (vaultUrl !== undefined && vaultUrl !== '') return openRemote(vaultUrl, home);
  const stateFile = resolve(home, 'vault.json');
  const local = await LocalKeyVault.start({ stateFile });
  return context(local.url, local.credential(), local.clientOptions, `embedded local vault (${stateFile})`, home, local);
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
  } catch {
    throw new UsageError('a real vault needs @azure/identity for DefaultAzureCredential: npm install @azure/identity');
  }
  return context(url.origin, new identity.DefaultAzureCredential(), {}, url.origin, home, undefined);
}

function context(url: string, credential: TokenCredential, clientOptions: KeyClientOptions, description: string, home: string, local: LocalKeyVault | undefined): VaultContext {
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
