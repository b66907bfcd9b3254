/**
 * Runs the CLI's `main` in-process as one principal of a local vault (the credential is the only
 * difference from the default), capturing stdout and stderr — for tests of what each RBAC role
 * may do through the CLI.
 */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { vaultContext } from '../../src/cli/vault-context.js';
import type { LocalKeyVault } from '../../src/local-vault/index.js';

export interface MainRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kv-envelope ARGV` through `main`, as `principal` of `vault`, with `home` as the CLI's home folder. */
export async function mainAs(vault: LocalKeyVault, home: string, principal: string, argv: string[]): Promise<MainRun> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv, { openVault: async () => vaultContext(vault.url, vault.credential(principal), vault.clientOptions, 'test', home, undefined) });
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}
