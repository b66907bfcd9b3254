/**
 * One state file, several vaults (issue 9, data-loss item 1 and `vault serve`), in one process
 * for speed; test/integration/local-vault-processes.test.ts does the same across processes.
 * Adversaries: a second vault on the same file that saves its own view (used to delete the
 * other's keys), a restart that changes the https port (used to strand every kid issued before
 * it), and a token file read an hour later.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultKek } from '../../src/azure/index.js';
import { keepTokenFile } from '../../src/local-vault/auth/token-file.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { FAST_RETRY, rawRequest } from '../helpers/local-vault.js';

let dir: string;
let n = 0;
const stateFile = (): string => join(dir, `vault-${n++}.json`);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kv-shared-state-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const client = (vault: LocalKeyVault): KeyClient => new KeyClient(vault.url, vault.credential(), { ...vault.clientOptions, ...FAST_RETRY });

async function names(c: KeyClient): Promise<string[]> {
  const out: string[] = [];
  for await (const p of c.listPropertiesOfKeys()) out.push(p.name);
  return out.sort();
}

describe('vaults sharing one state file never lose a write', () => {
  it('an in-process vault and a served vault on one file see and keep each other\'s keys, versions and roles', async () => {
    const file = stateFile();
    const a = await LocalKeyVault.start({ stateFile: file });
    const b = await LocalKeyVault.start({ stateFile: file, transport: 'https' });
    try {
      const [ca, cb] = [client(a), client(b)];
      await ca.createEcKey('from-a');
      await cb.createEcKey('from-b'); // used to save b's view, without from-a
      await ca.rotateKey('from-b');
      await cb.rotateKey('from-a');
      expect(await names(ca)).toEqual(['from-a', 'from-b']);
      expect(await names(cb)).toEqual(['from-a', 'from-b']);
      // A role given through one vault is honoured by the other (RBAC runs after the reload).
      const token = (await b.credential('carol').getToken('https://vault.azure.net/.default'))!.token;
      expect((await rawRequest(b, 'GET', '/keys/from-a?api-version=7.5', { token })).status).toBe(403);
      a.assignRole('carol', 'Key Vault Crypto User');
      await a.close();
      expect((await rawRequest(b, 'GET', '/keys/from-a?api-version=7.5', { token })).status).toBe(200);
    } finally {
      await a.close();
      await b.close();
    }
    const again = await LocalKeyVault.start({ stateFile: file });
    try {
      for (const name of ['from-a', 'from-b']) {
        const versions = [];
        for await (const v of client(again).listPropertiesOfKeyVersions(name)) versions.push(v.version);
        expect(versions, name).toHaveLength(2);
      }
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { version: number; generation: number };
      expect(parsed.version).toBe(2);
      expect(parsed.generation).toBeGreaterThanOrEqual(6); // create, create, rotate, rotate, port, role, ...
    } finally {
      await again.close();
    }
  });

  it('16 concurrent creates and rotates through 4 vaults on one file: every key and version present', async () => {
    const file = stateFile();
    const vaults = await Promise.all([0, 1, 2, 3].map((i) => LocalKeyVault.start({ stateFile: file, ...(i === 0 ? { transport: 'https' as const } : {}) })));
    try {
      const clients = vaults.map(client);
      await clients[0]!.createEcKey('shared');
      await Promise.all(
        clients.flatMap((c, i) => [
          c.createEcKey(`k${i}-0`),
          c.createEcKey(`k${i}-1`),
          c.rotateKey('shared'),
          c.createEcKey(`k${i}-2`),
        ]),
      );
      const expected = ['shared', ...[0, 1, 2, 3].flatMap((i) => [0, 1, 2].map((j) => `k${i}-${j}`))].sort();
      for (const c of clients) expect(await names(c)).toEqual(expected);
      const versions = [];
      for await (const v of clients[3]!.listPropertiesOfKeyVersions('shared')) versions.push(v.version);
      expect(versions).toHaveLength(5);
    } finally {
      await Promise.all(vaults.map((v) => v.close()));
    }
  });
});

describe('vault serve key ids survive a restart', () => {
  it('a persisted https vault listens on its recorded port again, so kids issued before the restart still unwrap', async () => {
    const file = stateFile();
    const first = await LocalKeyVault.start({ stateFile: file, transport: 'https' });
    const kek1 = new KeyVaultKek({ vaultUrl: first.url, keyName: 'kek', credential: first.credential(), clientOptions: first.clientOptions });
    await client(first).createRsaKey('kek', { keySize: 2048 });
    const dek = randomBytes(32);
    const wrapped = await kek1.wrap(dek);
    await first.close();
    const second = await LocalKeyVault.start({ stateFile: file, transport: 'https' });
    try {
      expect(second.url).toBe(first.url);
      // The KEK a restarted app builds from the (same) URL accepts the old kid: no ERR_KEY_NOT_ALLOWED.
      const kek2 = new KeyVaultKek({ vaultUrl: second.url, keyName: 'kek', credential: second.credential(), clientOptions: second.clientOptions });
      expect(Buffer.from(await kek2.unwrap(wrapped)).equals(dek)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('one server per state file: a second is refused naming the first; a recorded port taken by another program is a clear error, not a silent new port', async () => {
    const file = stateFile();
    const first = await LocalKeyVault.start({ stateFile: file, transport: 'https' });
    const port = Number(new URL(first.url).port);
    try {
      await expect(LocalKeyVault.start({ stateFile: file, transport: 'https' })).rejects.toThrow(
        new RegExp(`Another vault \\(pid ${process.pid} on .*\\) is already serving`),
      );
    } finally {
      await first.close();
    }
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      await expect(LocalKeyVault.start({ stateFile: file, transport: 'https' })).rejects.toThrow(new RegExp(`Port ${port}.*in use by another program`));
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    const again = await LocalKeyVault.start({ stateFile: file, transport: 'https' }); // the guard was released
    expect(again.url).toBe(first.url);
    await again.close();
    expect((await readdir(dir)).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});

describe('the admin token file is refreshed, not left to expire', () => {
  it('is rewritten every refreshMs with a later expiry, atomically, and the new token is accepted', async () => {
    const vault = await LocalKeyVault.start({ transport: 'https' });
    const file = join(dir, `token-${n++}`);
    const handle = await keepTokenFile(vault.credential(), file, { refreshMs: 1_100 });
    try {
      const first = await readFile(file, 'utf8');
      const firstExpiry = handle.expiresOnTimestamp;
      await new Promise((r) => setTimeout(r, 1_500));
      const second = await readFile(file, 'utf8');
      expect(second).not.toBe(first);
      expect(handle.expiresOnTimestamp).toBeGreaterThan(firstExpiry);
      expect((await rawRequest(vault, 'GET', '/keys?api-version=7.5', { token: second })).status).toBe(200);
      expect((await readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    } finally {
      handle.stop();
      await vault.close();
    }
    await expect(keepTokenFile(vault.credential(), file, { refreshMs: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});
