/**
 * `kv-envelope vault serve` with the fidelity options, as another language's test suite would
 * drive it: the built CLI (`dist/cli.js`; `npm test` builds it) serving a Managed HSM with
 * any-bearer auth, a client holding its own hand-made token, and `vault time advance` from a
 * second process moving the served vault's clock so that a rotation policy fires.
 *
 * Adversaries: a restart without `--flavour` (the vault must stay a Managed HSM, its key ids and
 * keys intact); the admin endpoint reached with a token that is not HOME/token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../cli/run-cli.js';
import { FAST_RETRY } from '../helpers/local-vault.js';

let root: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  root = mkdtempSync(join(tmpdir(), 'kv-serve-options-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Served {
  url: string;
  caFile: string;
  tokenFile: string;
  stop(): Promise<void>;
}

async function serve(home: string, args: string[]): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'vault', 'serve', '--json', ...args], {
    env: { ...process.env, KV_ENVELOPE_HOME: home, AZURE_KEYVAULT_URL: '' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const info = await new Promise<{ url: string; caFile: string; tokenFile: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    void exited.then(() => reject(new Error(`vault serve exited: ${stderr}`)));
  });
  return {
    ...info,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function getJson(served: Served, path: string, token: string): Promise<{ status: number; json: any; challenge?: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const req = request(new URL(path, served.url), { headers, ca: readFileSync(served.caFile) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, challenge: res.headers['www-authenticate'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

const handMade = (oid: string): string => {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ oid, aud: 'https://managedhsm.azure.net' })}.`;
};

describe('vault serve --flavour managed-hsm --auth any-bearer, vault time advance, vault role assign', { timeout: 120_000 }, () => {
  it('serves another credential, moves its clock from another process, and keeps its flavour across a restart', async () => {
    const home = join(root, 'home');
    let served = await serve(home, ['--flavour', 'managed-hsm', '--auth', 'any-bearer']);
    try {
      const credential = { getToken: async () => ({ token: handMade('python-tests'), expiresOnTimestamp: Date.now() + 3_600_000 }) };
      const options = { tlsOptions: { ca: readFileSync(served.caFile, 'utf8') }, disableChallengeResourceVerification: true, ...FAST_RETRY };
      const client = new KeyClient(served.url, credential, options);
      const aes = await client.createOctKey('aes', { hsm: true, keySize: 256 });
      expect(aes.keyType).toBe('oct-HSM');
      await client.updateKeyRotationPolicy('aes', { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P30D' }], expiresIn: 'P90D' });

      const advanced = await runCli(['vault', 'time', 'advance', 'P31D', '--json'], { cwd: root, env: { KV_ENVELOPE_HOME: home } });
      expect(advanced.code, advanced.stderr).toBe(0);
      expect(JSON.parse(advanced.stdout).offsetMs).toBe(31 * 86_400_000);
      // The server reloads the home before each request: it sees the clock and the rotation.
      const versions = [];
      for await (const v of client.listPropertiesOfKeyVersions('aes')) versions.push(v);
      expect(versions).toHaveLength(2);
      const admin = readFileSync(served.tokenFile, 'utf8');
      expect((await getJson(served, '/admin/clock', admin)).json.offsetMs).toBe(31 * 86_400_000);
      expect((await getJson(served, '/admin/clock', handMade('local-vault-admin'))).status).toBe(401);

      const bad = await runCli(['vault', 'time', 'advance', 'soon'], { cwd: root, env: { KV_ENVELOPE_HOME: home } });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('ISO 8601');
      const shown = await runCli(['vault', 'time', 'show', '--json'], { cwd: root, env: { KV_ENVELOPE_HOME: home } });
      expect(JSON.parse(shown.stdout).offsetMs).toBe(31 * 86_400_000);

      // A role assigned from another process turns RBAC on for the any-bearer principals.
      const assigned = await runCli(['vault', 'role', 'assign', 'python-tests', 'Key Vault Reader'], { cwd: root, env: { KV_ENVELOPE_HOME: home } });
      expect(assigned.code, assigned.stderr).toBe(0);
      expect((await client.getKey('aes')).name).toBe('aes');
      await expect(client.createOctKey('denied', { hsm: true })).rejects.toMatchObject({ statusCode: 403 });
      const unknown = await runCli(['vault', 'role', 'assign', 'x', 'Key Vault Superuser'], { cwd: root, env: { KV_ENVELOPE_HOME: home } });
      expect(unknown.code).toBe(2);

      await served.stop();
      served = await serve(home, []);
      // Still a Managed HSM (recorded in the home) with strict auth again: the challenge names
      // Managed HSM's resource and the hand-made token is refused.
      const challenge = await getJson(served, '/keys?api-version=2025-07-01', '');
      expect(challenge.challenge).toContain('resource="https://managedhsm.azure.net"');
      expect((await getJson(served, '/keys?api-version=2025-07-01', handMade('python-tests'))).status).toBe(401);
      const listed = await getJson(served, '/keys?api-version=2025-07-01', readFileSync(served.tokenFile, 'utf8'));
      expect(listed.status).toBe(200);
      expect(listed.json.value).toHaveLength(1);
    } finally {
      await served.stop();
    }
  });

  it('a custom role from --role-definitions FILE: assigned by the CLI, enforced by the served vault with its notDataActions', async () => {
    // Adversary: a principal given a custom "read keys but never unwrap" role that tries to unwrap
    // and to create; a role name the file does not define.
    const home = join(root, 'custom-roles');
    const file = join(root, 'roles.json');
    writeFileSync(file, JSON.stringify({
      roleName: 'Key Reader No Unwrap',
      permissions: [{ dataActions: ['Microsoft.KeyVault/vaults/keys/*'], notDataActions: ['Microsoft.KeyVault/vaults/keys/unwrap/action', 'Microsoft.KeyVault/vaults/keys/create/action'] }],
    }));
    const served = await serve(home, ['--auth', 'any-bearer', '--role-definitions', file]);
    try {
      const setup = new KeyClient(served.url, { getToken: async () => ({ token: readFileSync(served.tokenFile, 'utf8'), expiresOnTimestamp: Date.now() + 3_600_000 }) }, { tlsOptions: { ca: readFileSync(served.caFile, 'utf8') }, disableChallengeResourceVerification: true, ...FAST_RETRY });
      await setup.createRsaKey('kek');
      const assigned = await runCli(['vault', 'role', 'assign', 'reader-app', 'Key Reader No Unwrap', '--role-definitions', file, '--json'], { cwd: root, env: { KV_ENVELOPE_HOME: home } });
      expect(assigned.code, assigned.stderr).toBe(0);
      expect(JSON.parse(assigned.stdout)).toMatchObject({ principal: 'reader-app', role: 'Key Reader No Unwrap' });
      const undefinedRole = await runCli(['vault', 'role', 'assign', 'x', 'Key Writer', '--role-definitions', file], { cwd: root, env: { KV_ENVELOPE_HOME: home } });
      expect(undefinedRole.code).toBe(2);

      const app = { getToken: async () => ({ token: handMade('reader-app'), expiresOnTimestamp: Date.now() + 3_600_000 }) };
      const client = new KeyClient(served.url, app, { tlsOptions: { ca: readFileSync(served.caFile, 'utf8') }, disableChallengeResourceVerification: true, ...FAST_RETRY });
      const key = await client.getKey('kek');
      expect(key.name).toBe('kek');
      await expect(client.createRsaKey('mine')).rejects.toMatchObject({ statusCode: 403 });
      const crypto = client.getCryptographyClient('kek');
      const wrapped = await crypto.wrapKey('RSA-OAEP-256', new Uint8Array(32).fill(7));
      await expect(crypto.unwrapKey('RSA-OAEP-256', wrapped.result)).rejects.toMatchObject({ statusCode: 403, message: expect.stringContaining('keys/unwrap/action') });
    } finally {
      await served.stop();
    }
  });

  it('refuses unknown option values as usage errors', async () => {
    for (const args of [['--flavour', 'gold'], ['--auth', 'none'], ['--role-definitions', join(root, 'missing.json')]]) {
      const run = await runCli(['vault', 'serve', ...args], { cwd: root, env: { KV_ENVELOPE_HOME: join(root, 'usage') } });
      expect(run.code, args.join(' ')).toBe(2);
    }
  });
});
