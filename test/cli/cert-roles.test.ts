/**
 * Who may do what with certificates through the CLI, on a local vault with RBAC: the same `main`
 * a user runs, with only the credential changed. Adversaries: a 403 that names no role (or one
 * that would not help), and a Reader who gets a private key.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateClient, type CertificatePolicy } from '@azure/keyvault-certificates';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainAs } from './main-as.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';

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
  root = mkdtempSync(join(tmpdir(), 'kv-envelope-cert-roles-'));
  vault = await LocalKeyVault.start();
  const policy = { issuerName: 'Self', subject: 'CN=roles.example' } as CertificatePolicy;
  await (await new CertificateClient(vault.url, vault.credential(), vault.clientOptions).beginCreateCertificate('web', policy, { intervalInMs: 10 })).pollUntilDone();
  vault.assignRole('reader', 'Key Vault Reader');
  vault.assignRole('app', 'Key Vault Certificate User');
  vault.assignRole('ops', 'Key Vault Certificates Officer');
});
afterAll(async () => {
  await vault.close();
  rmSync(root, { recursive: true, force: true });
});

describe('cert roles through the CLI', { timeout: 60_000 }, () => {
  it('a Reader shows and downloads the public certificate; the private key names "Key Vault Certificate User"', async () => {
    expect(await as('reader', ['cert', 'show', 'web'])).toBe(0);
    expect(stdout).toMatch(/subject: CN=roles\.example/);
    expect(await as('reader', ['cert', 'download', 'web', '--format', 'cer', '-o', join(root, 'web.cer')])).toBe(0);
    expect(await as('reader', ['cert', 'download', 'web', '-o', join(root, 'reader.pem')])).toBe(1);
    expect(stderr).toMatch(/403.*needs the "Key Vault Certificate User" role/);
    expect(existsSync(join(root, 'reader.pem'))).toBe(false);
  });

  it('an application (Certificate User) downloads the key, but renewing names "Key Vault Certificates Officer"', async () => {
    expect(await as('app', ['cert', 'download', 'web', '-o', join(root, 'app.pem')])).toBe(0);
    expect(existsSync(join(root, 'app.pem'))).toBe(true);
    expect(await as('app', ['cert', 'renew', 'web'])).toBe(1);
    expect(stderr).toMatch(/403.*needs the "Key Vault Certificates Officer" role/);
    expect(await as('ops', ['cert', 'renew', 'web'])).toBe(0);
  });
});
