import { describe, expect, it } from 'vitest';
import { AllowList, parseKeyId, parseVaultUrl, versionedId, versionlessId } from '../../src/azure/internal/key-id.js';

describe('parseKeyId', () => {
  it('parses versioned and versionless ids into normal form', () => {
    expect(parseKeyId('https://MyVault.Vault.Azure.NET:443/keys/Kek/0123abcd')).toEqual({
      origin: 'https://myvault.vault.azure.net', name: 'Kek', version: '0123abcd',
    });
    expect(parseKeyId('https://localhost:8443/keys/kek')).toEqual({ origin: 'https://localhost:8443', name: 'kek' });
    expect(parseKeyId('https://localhost:8443/keys/kek/')).toEqual({ origin: 'https://localhost:8443', name: 'kek' });
  });

  it.each([
    ['http, not https', 'http://v.vault.azure.net/keys/k/1'],
    ['a path-prefixed vault', 'https://host/vaultA/keys/k/1'],
    ['a secret id', 'https://host/secrets/k/1'],
    ['an extra segment', 'https://host/keys/k/1/wrapkey'],
    ['credentials', 'https://user:pw@host/keys/k/1'],
    ['a query', 'https://host/keys/k/1?x=1'],
    ['a fragment', 'https://host/keys/k/1#x'],
    ['a percent-encoded name', 'https://host/keys/%6Bek/1'],
    ['an empty name', 'https://host/keys//1'],
    ['not a URL', 'keys/k/1'],
    ['too long', `https://host/keys/k/${'a'.repeat(1100)}`],
    ['a non-string', 42],
  ])('refuses %s', (_why, text) => {
    expect(parseKeyId(text)).toBeUndefined();
  });

  it('builds canonical ids back', () => {
    const id = parseKeyId('https://HOST:443/keys/kek/v1')!;
    expect(versionedId(id)).toBe('https://host/keys/kek/v1');
    expect(versionlessId(id)).toBe('https://host/keys/kek');
    expect(versionedId(id, 'v2')).toBe('https://host/keys/kek/v2');
  });
});

describe('parseVaultUrl', () => {
  it('normalizes host case, default port and trailing slash', () => {
    expect(parseVaultUrl('https://MyVault.vault.azure.net/', 'vaultUrl')).toBe('https://myvault.vault.azure.net');
    expect(parseVaultUrl('https://localhost:443', 'vaultUrl')).toBe('https://localhost');
    expect(parseVaultUrl('https://127.0.0.1:8443', 'vaultUrl')).toBe('https://127.0.0.1:8443');
  });
  it('refuses http, paths and non-strings, naming the option', () => {
    expect(() => parseVaultUrl('http://v', 'options.vaultUrl')).toThrow(/options\.vaultUrl/);
    expect(() => parseVaultUrl('https://v/keys', 'options.vaultUrl')).toThrow(RangeError);
    expect(() => parseVaultUrl(1, 'options.vaultUrl')).toThrow(TypeError);
  });
});

describe('AllowList', () => {
  const kid = (s: string) => parseKeyId(s)!;

  it('allows every version of a listed key, compared in normal form', () => {
    const list = new AllowList(['https://Vault.example:443/keys/KEK/'], 'allowedKeys');
    expect(list.allows(kid('https://vault.example/keys/kek/v1'))).toBe(true);
    expect(list.allows(kid('https://VAULT.example/keys/Kek/v2'))).toBe(true);
    expect(list.allows(kid('https://vault.example/keys/other/v1'))).toBe(false);
    expect(list.allows(kid('https://vault.example:8443/keys/kek/v1'))).toBe(false);
    expect(list.allows(kid('https://evil.example/keys/kek/v1'))).toBe(false);
    expect(list.allows(kid('https://vault.example.evil.example/keys/kek/v1'))).toBe(false);
  });

  it('allows every key of a listed vault URL', () => {
    const list = new AllowList(['https://dr.example/'], 'allowedKeys');
    expect(list.allows(kid('https://dr.example/keys/a/1'))).toBe(true);
    expect(list.allows(kid('https://dr.example:443/keys/b/2'))).toBe(true);
    expect(list.allows(kid('https://dr.example:444/keys/b/2'))).toBe(false);
  });

  it('adds the configured key', () => {
    const list = new AllowList([], 'allowedKeys');
    expect(list.allows(kid('https://v/keys/k/1'))).toBe(false);
    list.addKey(kid('https://v/keys/k'));
    expect(list.allows(kid('https://v/keys/k/1'))).toBe(true);
    expect(list.entries()).toEqual(['https://v/keys/k']);
  });

  it('refuses versioned ids and other URLs, naming the entry', () => {
    expect(() => new AllowList(['https://v/keys/k/1'], 'options.allowedKeys')).toThrow(/options\.allowedKeys\[0\] must be versionless/);
    expect(() => new AllowList(['https://v', 'http://v'], 'options.allowedKeys')).toThrow(/options\.allowedKeys\[1\]/);
    expect(() => new AllowList(['https://v/secrets/s'], 'options.allowedKeys')).toThrow(RangeError);
    expect(() => new AllowList([1], 'options.allowedKeys')).toThrow(TypeError);
    expect(() => new AllowList('https://v' as unknown as string[], 'options.allowedKeys')).toThrow(TypeError);
  });
});

describe('non-canonical kids are refused, not normalized (the URL parser would strip or rewrite them)', () => {
  // The adversary writes the kid into a ciphertext: a second spelling of one key must not exist.
  it.each([
    ['a trailing newline', 'https://v.vault.azure.net/keys/k/1\n'],
    ['a tab inside', 'https://v.vault.azure.net/keys/k\t/1'],
    ['a carriage return inside', 'https://v.vault.azure.net/ke\rys/k/1'],
    ['a leading space', ' https://v.vault.azure.net/keys/k/1'],
    ['a trailing NUL', 'https://v.vault.azure.net/keys/k/1\u0000'],
    ['a no-break space', 'https://v.vault.azure.net/keys/k/1\u00a0'],
    ['backslashes', 'https://v.vault.azure.net\\keys\\k\\1'],
    ['a dot segment', 'https://v.vault.azure.net/keys/x/../k/1'],
    ['a single-dot segment', 'https://v.vault.azure.net/keys/./k/1'],
    ['a percent-encoded name', 'https://v.vault.azure.net/keys/%6b/1'],
  ])('%s', (_what, kid) => {
    expect(new URL(kid.trim()).href.length).toBeGreaterThan(0); // the WHATWG parser alone would accept it
    expect(parseKeyId(kid)).toBeUndefined();
  });
});
