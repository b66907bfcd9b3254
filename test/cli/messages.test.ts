/**
 * What the CLI prints when something is wrong or hostile: required and expected context, an
 * envelope whose kid and context hold newlines and terminal escapes (an attacker who can hand
 * us a file), 403s that name the role to ask for, credential failures, bad durations.
 */
import { writeFileSync, mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EnvelopeClient, LocalAesKek } from '../../src/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { describeError } from '../../src/cli/errors.js';
import { main } from '../../src/cli/main.js';
import { vaultContext } from '../../src/cli/vault-context.js';
import { runCli } from './run-cli.js';

let root: string;
const cli = (args: string[], input?: Buffer) => runCli(args, { cwd: root, input });
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const HOSTILE = 'evil\n[2026-12-01] INFO forged log line\u001b[2J\u001b]0;pwned\u0007';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kv-envelope-messages-'));
  expect((await cli(['key', 'create', 'kek', '--size', '2048'])).code).toBe(0);
  expect((await cli(['key', 'create', 'p384', '--kty', 'EC', '--curve', 'P-384'])).code).toBe(0);
  expect((await cli(['key', 'create', 'rsa-signer', '--size', '2048'])).code).toBe(0);
  writeFileSync(join(root, 'secret.txt'), 'bound to object 42');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('kv-envelope CLI: context', { timeout: 120_000 }, () => {
  it('required context: encrypt --required-context, decrypt needs the same --context (not stored, not shown)', async () => {
    expect((await cli(['encrypt', '--key', 'kek', '--context', 'tenant=acme', '--required-context', 'objectId=42', 'secret.txt'])).code).toBe(0);
    expect(readFileSync(join(root, 'secret.txt.kve')).includes('objectId')).toBe(false);
    const without = await cli(['decrypt', 'secret.txt.kve', '-o', 'out1.txt']);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/ERR_DECRYPTION_FAILED: .*--required-context: then give the same pairs with --context/);
    expect((await cli(['decrypt', 'secret.txt.kve', '-o', 'out2.txt', '--context', 'objectId=43'])).code).toBe(1);
    const ok = await cli(['decrypt', 'secret.txt.kve', '-o', '-', '--context', 'objectId=42']);
    expect(ok.stdout).toBe('bound to object 42');
    expect(existsSync(join(root, 'out1.txt')) || existsSync(join(root, 'out2.txt'))).toBe(false);
  });

  it('--expect-context: a file swapped for another tenant\'s envelope is refused and leaves no output', async () => {
    const wrong = await cli(['decrypt', 'secret.txt.kve', '-o', 'out3.txt', '--context', 'objectId=42', '--expect-context', 'tenant=globex']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/does not match --expect-context tenant=globex \(stored: tenant=acme\)/);
    expect(existsSync(join(root, 'out3.txt'))).toBe(false);
    const right = await cli(['decrypt', 'secret.txt.kve', '-o', 'out3.txt', '--context', 'objectId=42', '--expect-context', 'tenant=acme', '--json']);
    expect(right.code).toBe(0);
    expect(JSON.parse(right.stdout)).toMatchObject({ context: { tenant: 'acme' } });
  });

  it('a repeated --context key is a usage error naming it (one value would be silently dropped)', async () => {
    const r = await cli(['encrypt', '--key', 'kek', '--context', 'tenant=acme', '--context', 'tenant=globex', 'secret.txt', '-o', 'dup.kve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--context tenant is given twice/);
    expect(existsSync(join(root, 'dup.kve'))).toBe(false);
  });

  it('inspect shows kids, algorithms and the stored context without a vault call', async () => {
    const r = await cli(['inspect', 'secret.txt.kve', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { wrappedKeys: { kekId: string; alg: string }[]; context: Record<string, string>; authenticated: boolean };
    expect(info.wrappedKeys).toEqual([{ kekId: expect.stringMatching(/\/keys\/kek\/[0-9a-f]{32}$/), alg: 'RSA-OAEP-256' }]);
    expect(info).toMatchObject({ context: { tenant: 'acme' }, authenticated: false });
  });

  it('an envelope whose kid and context hold newlines and terminal escapes is shown escaped, never raw', async () => {
    // The attacker controls the file: a LocalAesKek lets them put any kid in it.
    const kek = new LocalAesKek({ id: `https://attacker.example/keys/${HOSTILE}`, key: new Uint8Array(32).fill(7) });
    const envelope = await new EnvelopeClient({ keks: kek }).encrypt(new TextEncoder().encode('x'), { context: { [`k${HOSTILE}`]: HOSTILE } });
    writeFileSync(join(root, 'hostile.kve'), envelope);
    const shown = await cli(['inspect', 'hostile.kve']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toMatch(RAW_CONTROL);
    expect(shown.stdout.trim().split('\n')).toHaveLength(3);
    expect(shown.stdout).toContain('evil\\u000a[2026-12-01] INFO forged log line\\u001b[2J');
    const refused = await cli(['decrypt', 'hostile.kve', '-o', 'h.out']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ERR_NO_MATCHING_KEK/);
    expect(refused.stderr).not.toMatch(RAW_CONTROL);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    // A stored context from a real envelope is escaped in the human report too.
    writeFileSync(join(root, 'plain.txt'), 'p');
    expect((await cli(['encrypt', '--key', 'kek', '--context', `note=${HOSTILE.replace('\n', ' ')}`, 'plain.txt'])).code).toBe(0);
    const dec = await cli(['decrypt', 'plain.txt.kve', '-o', 'plain.out']);
    expect(dec.code).toBe(0);
    expect(dec.stdout).not.toMatch(RAW_CONTROL);
    expect(dec.stdout).toContain('\\u001b[2J');
  });
});

describe('kv-envelope CLI: jwt', { timeout: 120_000 }, () => {
  it('jwt sign infers the algorithm from the key: EC P-384 → ES384, RSA → RS256', async () => {
    for (const [key, alg] of [['p384', 'ES384'], ['rsa-signer', 'RS256']] as const) {
      const t = await cli(['jwt', 'sign', '--key', key, '--sub', 'alice', '--aud', 'orders', '--json']);
      expect(t.code, t.stderr).toBe(0);
      const { token } = JSON.parse(t.stdout) as { token: string };
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg });
      const v = await cli(['jwt', 'verify', '--key', key, '--aud', 'orders', token, '--json']);
      expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, payload: { sub: 'alice' } });
      // No audience given: a usage error, not a verifier that accepts tokens meant for anyone.
      expect((await cli(['jwt', 'verify', '--key', key, token])).code).toBe(2);
      expect((await cli(['jwt', 'verify', '--key', key, '--any-audience', token])).code).toBe(0);
    }
  });

  it('--expires-in 10x and --alg XS256 are usage errors (exit 2) naming the flag, before any vault call', async () => {
    const d = await cli(['jwt', 'sign', '--key', 'p384', '--expires-in', '10x']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/^kv-envelope: --expires-in must be seconds or a duration like "90s"/);
    const a = await cli(['jwt', 'sign', '--key', 'p384', '--alg', 'XS256']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--alg is one of ES256/);
  });
});

describe('kv-envelope CLI: access and credentials', { timeout: 120_000 }, () => {
  let vault: LocalKeyVault;
  let stderr: string;
  beforeAll(async () => {
    vault = await LocalKeyVault.start();
    const admin = vaultContext(vault.url, vault.credential(), vault.clientOptions, 'test', root, undefined);
    await admin.keyClient.createRsaKey('kek', { keySize: 2048 });
    // A principal that may only read key metadata.
    vault.assignRole('reader', 'Key Vault Reader');
  });
  afterAll(() => vault.close());
  afterEach(() => vi.restoreAllMocks());

  /** `main` in-process as the principal `reader` (the credential is the only difference). */
  async function asReader(argv: string[]): Promise<number> {
    stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    return main(argv, { openVault: async () => vaultContext(vault.url, vault.credential('reader'), vault.clientOptions, 'test', root, undefined) });
  }

  it('a 403 names the role that would allow the call', async () => {
    expect(await asReader(['key', 'show', 'kek'])).toBe(0);
    expect(await asReader(['key', 'rotate', 'kek'])).toBe(1);
    expect(stderr).toMatch(/403.*needs the "Key Vault Crypto Officer" role/);
    // Wrapping is local (RSA-OAEP with the public key), so reading the key is enough to encrypt…
    writeFileSync(join(root, 'r.txt'), 'r');
    expect(await asReader(['encrypt', '--key', 'kek', join(root, 'r.txt'), '-o', join(root, 'r.kve')])).toBe(0);
    // …but unwrapping is a vault call the role does not allow.
    expect(await asReader(['decrypt', join(root, 'r.kve'), '-o', join(root, 'r.out')])).toBe(1);
    expect(stderr).toMatch(/ERR_KEY_ACCESS_DENIED.*needs the "Key Vault Crypto Service Encryption User" role/);
    expect(existsSync(join(root, 'r.out'))).toBe(false);
    expect(await asReader(['jwt', 'sign', '--key', 'kek'])).toBe(1);
    expect(stderr).toMatch(/needs the "Key Vault Crypto User" role/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('no Azure credential: one line with the likely fix (a real CredentialUnavailableError, no network)', async () => {
    const env = { AZURE_TENANT_ID: undefined, AZURE_CLIENT_ID: undefined, AZURE_CLIENT_SECRET: undefined };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    for (const k of Object.keys(env)) delete process.env[k];
    try {
      const err = await new EnvironmentCredential().getToken('https://vault.azure.net/.default').then(() => undefined, (e: unknown) => e);
      expect((err as Error).name).toBe('CredentialUnavailableError');
      const { code, message } = describeError(Object.assign(new Error('wrapped'), { cause: err }));
      expect(code).toBe(1);
      expect(message).toMatch(/^no Azure credential could sign in \(CredentialUnavailableError\): run "az login"/);
      expect(message).not.toMatch(/\n/);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    }
  });
});
