/**
 * SecretResolver (`kv-envelope/secrets`) against the local vault through the real SecretClient.
 * Adversaries: a rotation mid-run (picked up within refreshInterval on the injected clock, not
 * before), a thundering herd of concurrent resolves, an app given Reader instead of Secrets User,
 * a reference pointing at a vault outside allowedVaults (nothing may be sent), a disabled or
 * expired secret, and anything that prints the resolver, its events or its errors.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { SecretError, SecretResolver, type SecretEvent } from '../../src/secrets/index.js';
import { ManualClock } from '../helpers/local-vault.js';

const FAST = { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 };
const VALUE = 'Server=db;Password=pa55-w0rd-value';

async function rejection(promise: Promise<unknown>): Promise<SecretError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretError);
  return error as SecretError;
}

function printed(...things: unknown[]): string {
  return things.map((t) => `${inspect(t, { depth: 10, showHidden: true })}\n${JSON.stringify(t) ?? ''}\n${String(t)}`).join('\n');
}

describe('SecretResolver against the local vault (in-process)', () => {
  let vault: LocalKeyVault;
  let admin: SecretClient;
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const resolvers: SecretResolver[] = [];

  function resolver(options: Partial<ConstructorParameters<typeof SecretResolver>[0]> = {}): SecretResolver {
    const r = new SecretResolver({ credential: vault.credential(), clientOptions: vault.clientOptions, now: clock.now, retry: FAST, ...options });
    resolvers.push(r);
    return r;
  }

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ clock: clock.now });
    admin = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
    expect(vault.url).toBe('https://local.vault.azure.net');
  });
  afterAll(async () => {
    for (const r of resolvers) r.close();
    await vault.close();
  });

  it('resolves versionless and versioned references in both grammars; a versioned one is read once for good', async () => {
    const v1 = await admin.setSecret('Db-Conn', VALUE);
    const r = resolver();
    expect(await r.resolve('@Microsoft.KeyVault(SecretUri=https://local.vault.azure.net/secrets/Db-Conn/)')).toBe(VALUE);
    expect(await r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=db-conn)')).toBe(VALUE);
    const pinned = `@Microsoft.KeyVault(VaultName=local;SecretName=Db-Conn;SecretVersion=${v1.properties.version})`;
    expect(await r.resolve(pinned)).toBe(VALUE);
    await admin.setSecret('Db-Conn', 'rotated');
    vault.stats.reset();
    clock.ms += 3_600_000;
    expect(await r.resolve(pinned)).toBe(VALUE);
    expect(vault.stats.byOperation.getSecret ?? 0).toBe(0);
  });

  it('picks up a rotation within refreshInterval on the injected clock (not before), emitting rotated without the value', async () => {
    const first = await admin.setSecret('api-key', 'key-one');
    const r = resolver({ refreshInterval: 60_000 });
    const rotated: SecretEvent[] = [];
    r.on('rotated', (e: SecretEvent) => rotated.push(e));
    const ref = '@Microsoft.KeyVault(VaultName=local;SecretName=api-key)';
    expect(await r.resolve(ref)).toBe('key-one');
    const second = await admin.setSecret('api-key', 'key-two');
    vault.stats.reset();
    clock.ms += 50_000; // inside the interval even with -10% jitter: still cached
    expect(await r.resolve(ref)).toBe('key-one');
    expect(vault.stats.byOperation.getSecret ?? 0).toBe(0);
    clock.ms += 17_000; // 67 s: past the interval even with +10% jitter
    expect(await r.resolve(ref)).toBe('key-two');
    expect(vault.stats.byOperation.getSecret).toBe(1);
    expect(rotated).toHaveLength(1);
    expect(rotated[0]).toMatchObject({ name: 'api-key', version: second.properties.version, previousVersion: first.properties.version });
    expect(printed(rotated[0])).not.toMatch(/key-one|key-two/);
  });

  it('concurrent resolves of one secret make one vault call', async () => {
    await admin.setSecret('herd', 'h');
    const r = resolver();
    vault.stats.reset();
    const values = await Promise.all(Array.from({ length: 20 }, () => r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=herd)')));
    expect(new Set(values)).toEqual(new Set(['h']));
    expect(vault.stats.byOperation.getSecret).toBe(1);
  });

  it('references spelling one name in different letter cases share one cache entry and one vault call', async () => {
    await admin.setSecret('Mixed-Name', 'm');
    const r = resolver();
    vault.stats.reset();
    const spellings = ['Mixed-Name', 'mixed-name', 'MIXED-NAME'].map((n) => `@Microsoft.KeyVault(VaultName=local;SecretName=${n})`);
    expect(await Promise.all(spellings.map((ref) => r.resolve(ref)))).toEqual(['m', 'm', 'm']);
    expect(vault.stats.byOperation.getSecret).toBe(1);
  });

  it('a 429 backs off and succeeds; a failed refresh keeps serving the last good value and emits refreshFailed', async () => {
    await admin.setSecret('flaky', 'good');
    const r = resolver({ refreshInterval: 60_000 });
    vault.faults.next(1, { type: '429', operations: ['getSecret'] });
    vault.stats.reset();
    expect(await r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=flaky)')).toBe('good');
    expect(vault.stats.byStatus['429']).toBe(1);
    expect(vault.stats.byOperation.getSecret).toBe(2);

    const failures: SecretEvent[] = [];
    r.on('refreshFailed', (e: SecretEvent) => failures.push(e));
    vault.faults.next(2, { type: '503', operations: ['getSecret'] });
    clock.ms += 70_000;
    expect(await r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=flaky)')).toBe('good');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.error?.code).toBe('ERR_SECRET_UNAVAILABLE');
    expect(printed(failures[0])).not.toContain('good');
    vault.faults.clear();
  });

  it('a principal with Reader gets ERR_SECRET_ACCESS_DENIED naming Key Vault Secrets User; with Secrets User it reads', async () => {
    await admin.setSecret('guarded', VALUE);
    vault.assignRole('reader-app', 'Key Vault Reader');
    vault.assignRole('good-app', 'Key Vault Secrets User');
    const ref = '@Microsoft.KeyVault(VaultName=local;SecretName=guarded)';
    const denied = await rejection(resolver({ credential: vault.credential('reader-app') }).resolve(ref));
    expect(denied.code).toBe('ERR_SECRET_ACCESS_DENIED');
    expect(denied.message).toContain('Key Vault Secrets User');
    expect(denied.secret).toBe('https://local.vault.azure.net/secrets/guarded');
    expect(await resolver({ credential: vault.credential('good-app') }).resolve(ref)).toBe(VALUE);
  });

  it('a vault outside allowedVaults is refused before any request (no challenge, no call)', async () => {
    const r = resolver({ allowedVaults: ['https://prod.vault.azure.net'] });
    vault.stats.reset();
    const error = await rejection(r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=guarded)'));
    expect(error.code).toBe('ERR_SECRET_VAULT_NOT_ALLOWED');
    expect(vault.stats.total).toBe(0);
    expect(vault.stats.challenges).toBe(0);
    expect(await resolver({ allowedVaults: ['local.vault.azure.net'] }).resolve('@Microsoft.KeyVault(VaultName=local;SecretName=guarded)')).toBe(VALUE);
  });

  it('unknown, disabled and expired secrets are typed errors that never carry the value', async () => {
    const r = resolver();
    expect((await rejection(r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=missing)'))).code).toBe('ERR_SECRET_NOT_FOUND');
    await admin.setSecret('off', VALUE, { enabled: false });
    const disabled = await rejection(r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=off)'));
    expect(disabled.code).toBe('ERR_SECRET_DISABLED');
    // The vault returns an expired secret (as the service does); the resolver refuses to hand it out.
    await admin.setSecret('stale', VALUE, { expiresOn: new Date(clock.ms - 1000) });
    const expired: SecretEvent[] = [];
    r.on('expired', (e: SecretEvent) => expired.push(e));
    const stale = await rejection(r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=stale)'));
    expect(stale.code).toBe('ERR_SECRET_EXPIRED');
    expect(expired.map((e) => e.name)).toEqual(['stale']);
    expect(printed(disabled, stale, disabled.cause, stale.cause, expired)).not.toContain('pa55');
  });

  it('resolveEnv replaces references, keeps other values, and names the variable (not the text) on failure', async () => {
    const r = resolver();
    const env = await r.resolveEnv({ DB: '@Microsoft.KeyVault(VaultName=local;SecretName=guarded)', PLAIN: 'x' });
    expect(env).toEqual({ DB: VALUE, PLAIN: 'x' });
    const error = await rejection(r.resolveEnv({ BROKEN: '@Microsoft.KeyVault(VaultName=local;SecretName=not_valid_pa55)' }));
    expect(error.code).toBe('ERR_SECRET_REFERENCE');
    expect(error.variable).toBe('BROKEN');
    expect(error.message).toContain('BROKEN');
    expect(error.message).not.toContain('pa55');
  });

  it('resolveEnv() reads process.env by default and returns a new object, leaving process.env untouched', async () => {
    const r = resolver();
    const ref = '@Microsoft.KeyVault(VaultName=local;SecretName=guarded)';
    process.env.KV_AUDIT_REF = ref;
    try {
      const env = await r.resolveEnv();
      expect(env.KV_AUDIT_REF).toBe(VALUE);
      expect(env).not.toBe(process.env);
      expect(process.env.KV_AUDIT_REF).toBe(ref);
    } finally {
      delete process.env.KV_AUDIT_REF;
    }
  });

  it('dnsSuffixes reach the references it parses (a sovereign cloud); allowedVaults still refuses before any request', async () => {
    const r = resolver({ dnsSuffixes: ['vault.usgovcloudapi.net'], allowedVaults: [vault.url] });
    vault.stats.reset();
    const error = await rejection(r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=guarded)'));
    expect([error.code, error.secret]).toEqual(['ERR_SECRET_VAULT_NOT_ALLOWED', 'https://local.vault.usgovcloudapi.net/secrets/guarded']);
    expect(vault.stats.total + vault.stats.challenges).toBe(0);
    const sovereign = '@Microsoft.KeyVault(SecretUri=https://local.vault.usgovcloudapi.net/secrets/guarded)';
    expect((await rejection(resolver().resolve('@Microsoft.KeyVault(SecretUri=https://local.vault.example.test/secrets/guarded)'))).code).toBe('ERR_SECRET_REFERENCE');
    expect((await rejection(r.resolve(sovereign))).code).toBe('ERR_SECRET_VAULT_NOT_ALLOWED');
  });

  it('util.inspect and JSON.stringify of a resolver holding values show names only', async () => {
    const r = resolver();
    await r.resolve('@Microsoft.KeyVault(VaultName=local;SecretName=guarded)');
    const text = printed(r);
    expect(text).toContain('guarded');
    expect(text).not.toContain('pa55');
  });
});

describe('SecretResolver against the local vault (https, parsed reference)', () => {
  it('resolves a SecretReference naming the https vault; allowedVaults compares the port', async () => {
    const vault = await LocalKeyVault.start({ transport: 'https' });
    try {
      await new SecretClient(vault.url, vault.credential(), vault.clientOptions).setSecret('over-tls', VALUE);
      const ref = { vaultUrl: vault.url, name: 'over-tls', version: undefined };
      const r = new SecretResolver({ credential: vault.credential(), clientOptions: vault.clientOptions, allowedVaults: [vault.url] });
      // The adversary: the same host on another port is another vault, and is refused before any request.
      const elsewhere = new SecretResolver({ credential: vault.credential(), clientOptions: vault.clientOptions, allowedVaults: ['https://127.0.0.1:1'] });
      try {
        expect(await r.resolve(ref)).toBe(VALUE);
        vault.stats.reset();
        expect((await rejection(elsewhere.resolve(ref))).code).toBe('ERR_SECRET_VAULT_NOT_ALLOWED');
        expect(vault.stats.total + vault.stats.challenges).toBe(0);
      } finally {
        r.close();
        elsewhere.close();
      }
    } finally {
      await vault.close();
    }
  });
});
