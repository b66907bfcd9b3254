/**
 * Who may do what with secrets through the CLI, on a local vault with RBAC: the same `main` a
 * user runs, with only the credential changed. Adversaries: a 403 that does not say which role to
 * ask for (or names one that would not help), a Reader who gets a value, an application
 * identity (Secrets User) that can change secrets, and `run` / `secrets sync` starting or writing
 * anything without read access.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { mainAs } from './main-as.js';

const VALUE = 'roles-test-secret-value';
let root: string;
let vault: LocalKeyVault;
let stdout: string;
let stderr: string;

/** `main` in-process as `principal`; stdout and stderr captured. */
async function as(principal: string, argv: string[]): Promise<number> {
  const run = await mainAs(vault, root, principal, argv);
  stdout = run.stdout;
  stderr = run.stderr;
  return run.code;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kv-envelope-secret-roles-'));
  vault = await LocalKeyVault.start();
  await new SecretClient(vault.url, vault.credential(), vault.clientOptions).setSecret('db', VALUE);
  vault.assignRole('reader', 'Key Vault Reader');
  vault.assignRole('app', 'Key Vault Secrets User');
  vault.assignRole('ci', 'Key Vault Secrets Officer');
  vault.assignRole('crypto', 'Key Vault Crypto Officer');
});
afterAll(async () => {
  await vault.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => vi.unstubAllEnvs());

describe('secret roles through the CLI', { timeout: 60_000 }, () => {
  it('a Reader lists and sees versions, but reading a value names "Key Vault Secrets User"', async () => {
    expect(await as('reader', ['secret', 'list'])).toBe(0);
    expect(stdout).toMatch(/^db /);
    expect(await as('reader', ['secret', 'versions', 'db'])).toBe(0);
    expect(await as('reader', ['secret', 'get', 'db'])).toBe(1);
    expect(stderr).toMatch(/^kv-envelope: ERR_SECRET_ACCESS_DENIED: .*reading secret values needs Key Vault Secrets User/);
    expect(stdout).toBe('');
    expect(await as('reader', ['secret', 'show', 'db'])).toBe(1);
    expect(stderr).toMatch(/403.*needs the "Key Vault Secrets User" role/);
    expect(await as('crypto', ['secret', 'get', 'db'])).toBe(1);
    expect(stderr).toMatch(/Key Vault Secrets User/);
  });

  it('an application (Secrets User) reads values but changing a secret names "Key Vault Secrets Officer"', async () => {
    expect(await as('app', ['secret', 'get', 'db'])).toBe(0);
    expect(stdout).toBe(VALUE);
    for (const argv of [['secret', 'set', 'db', '--value', 'x'], ['secret', 'delete', 'db']]) {
      expect(await as('app', argv), argv.join(' ')).toBe(1);
      expect(stderr).toMatch(/403.*needs the "Key Vault Secrets Officer" role/);
    }
    expect(await as('ci', ['secret', 'set', 'db', '--value', `${VALUE}-2`])).toBe(0);
    expect(`${stdout}${stderr}`).not.toContain(VALUE);
  });

  it('run and secrets sync without read access: the error names the role and the variable; CMD never starts, no file is written', async () => {
    vi.stubEnv('DATABASE_URL', '@Microsoft.KeyVault(VaultName=local;SecretName=db)');
    const marker = join(root, 'started');
    expect(await as('reader', ['run', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`])).toBe(1);
    expect(stderr).toMatch(/ERR_SECRET_ACCESS_DENIED: environment variable DATABASE_URL: .*Key Vault Secrets User/);
    expect(existsSync(marker)).toBe(false);
    const to = join(root, 'mnt');
    expect(await as('reader', ['secrets', 'sync', '--once', '--to', to, 'db'])).toBe(1);
    expect(stderr).toMatch(/nothing written: db: ERR_SECRET_ACCESS_DENIED: .*Key Vault Secrets User/);
    expect(existsSync(to)).toBe(false);
    expect(await as('app', ['secrets', 'sync', '--once', '--to', to, 'db'])).toBe(0);
    expect(existsSync(join(to, 'db'))).toBe(true);
  });
});
