/**
 * App Service Key Vault reference grammar: what App Service accepts, nothing else, and errors
 * that never echo the text (it may be a value pasted into the wrong variable).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretError, isReference, parseReference } from '../../src/secrets/index.js';

const V = '0123456789abcdef0123456789abcdef';

describe('parseReference', () => {
  it.each([
    ['@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/db-password/)', 'https://myvault.vault.azure.net', 'db-password', undefined],
    ['@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/db-password)', 'https://myvault.vault.azure.net', 'db-password', undefined],
    [`@Microsoft.KeyVault(SecretUri=https://MyVault.vault.azure.net/secrets/db-password/${V})`, 'https://myvault.vault.azure.net', 'db-password', V],
    [`@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/db-password/${V.toUpperCase()}/)`, 'https://myvault.vault.azure.net', 'db-password', V],
    ['@Microsoft.KeyVault(VaultName=myvault;SecretName=db-password)', 'https://myvault.vault.azure.net', 'db-password', undefined],
    [`@Microsoft.KeyVault(VaultName=myvault;SecretName=db-password;SecretVersion=${V})`, 'https://myvault.vault.azure.net', 'db-password', V],
    ['  @Microsoft.KeyVault(SecretName=x1;VaultName=MYVAULT)  ', 'https://myvault.vault.azure.net', 'x1', undefined],
    ['@Microsoft.KeyVault(SecretUri=https://gov-vault.vault.usgovcloudapi.net/secrets/a)', 'https://gov-vault.vault.usgovcloudapi.net', 'a', undefined],
    ['@Microsoft.KeyVault(SecretUri=https://cn-vault.vault.azure.cn/secrets/a)', 'https://cn-vault.vault.azure.cn', 'a', undefined],
  ])('accepts %s', (text, vaultUrl, name, version) => {
    expect(parseReference(text)).toEqual({ vaultUrl, name, version });
    expect(isReference(text)).toBe(true);
  });

  it.each([
    ['plain text', 'not-a-reference'],
    ['http', '@Microsoft.KeyVault(SecretUri=http://myvault.vault.azure.net/secrets/a)'],
    ['another host (attacker-chosen)', '@Microsoft.KeyVault(SecretUri=https://evil.example/secrets/a)'],
    ['a look-alike suffix', '@Microsoft.KeyVault(SecretUri=https://x.vault.azure.net.evil.example/secrets/a)'],
    ['a port', '@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net:444/secrets/a)'],
    ['credentials', '@Microsoft.KeyVault(SecretUri=https://u:p@myvault.vault.azure.net/secrets/a)'],
    ['a query', '@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/a?x=1)'],
    ['keys, not secrets', '@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/keys/a)'],
    ['a short version', '@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/a/123)'],
    ['extra path', `@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/a/${V}/x)`],
    ['an underscore in the name', '@Microsoft.KeyVault(VaultName=myvault;SecretName=db_password)'],
    ['a bad vault name', '@Microsoft.KeyVault(VaultName=my.vault;SecretName=a)'],
    ['a missing SecretName', '@Microsoft.KeyVault(VaultName=myvault)'],
    ['SecretUri mixed with VaultName', '@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/a;VaultName=myvault)'],
    ['a duplicate part', '@Microsoft.KeyVault(VaultName=a1b;VaultName=myvault;SecretName=a)'],
    ['an unknown part', '@Microsoft.KeyVault(VaultName=myvault;SecretName=a;Tenant=x)'],
    ['no closing paren', '@Microsoft.KeyVault(VaultName=myvault;SecretName=a'],
  ])('refuses %s with ERR_SECRET_REFERENCE', (_why, text) => {
    const err = (() => {
      try {
        parseReference(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SecretError);
    expect((err as SecretError).code).toBe('ERR_SECRET_REFERENCE');
  });

  it('never echoes the text in an error (fast-check: any string carrying a marker)', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => {
      const text = `@Microsoft.KeyVault(${a}SUPERSECRETVALUE${b})`;
      try {
        parseReference(text);
        return true;
      } catch (e) {
        return e instanceof SecretError && !String((e as Error).message).includes('SUPERSECRETVALUE') && !(e as Error).message.includes(a.length > 3 ? a : '\u0000');
      }
    }), { numRuns: 500 });
  });

  it('accepts configured DNS suffixes (sovereign or private clouds) and only those', () => {
    const text = '@Microsoft.KeyVault(SecretUri=https://local.vault.example.test/secrets/a)';
    expect(() => parseReference(text)).toThrow(SecretError);
    expect(parseReference(text, { dnsSuffixes: ['vault.example.test'] }).vaultUrl).toBe('https://local.vault.example.test');
    expect(parseReference('@Microsoft.KeyVault(VaultName=local;SecretName=a)', { dnsSuffixes: ['vault.example.test'] }).vaultUrl).toBe('https://local.vault.example.test');
  });
});
