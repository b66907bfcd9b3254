/**
 * The embedded vault's home shared by many processes, as a user runs them (issue 9, data-loss
 * item 1): the built CLI (`dist/cli.js`; `npm test` builds it) in parallel with `vault serve`
 * on the same home. Adversaries: N processes that each save their own view of the vault (only
 * the last writer's keys used to survive), SIGKILL at a random point of any of them (including
 * the server, mid-write or holding the state lock), and a disk that refuses the write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RETRY } from '../helpers/local-vault.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
let root: string;
let n = 0;
const freshHome = (): string => join(root, `home-${n++}`);

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  root = mkdtempSync(join(tmpdir(), 'kv-vault-processes-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI on `home`; `shell` wraps it (e.g. a ulimit). */
function start(home: string, args: string[], shell?: string): { child: ChildProcess; done: Promise<Run> } {
  const env = { ...process.env, KV_ENVELOPE_HOME: home, AZURE_KEYVAULT_URL: '' };
  const child = shell
    ? spawn('/bin/sh', ['-c', `${shell}; exec "$0" "$@"`, process.execPath, CLI, ...args], { env })
    : spawn(process.execPath, [CLI, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const cli = (home: string, ...args: string[]): Promise<Run> => start(home, args).done;

interface Served {
  child: ChildProcess;
  url: string;
  tokenRefreshSeconds: number;
  client: KeyClient;
  stop(): Promise<void>;
}

/** Starts `vault serve --json` on `home` and a KeyClient that reads its token file on each use. */
async function serve(home: string, shell?: string, extra: string[] = []): Promise<Served> {
  const { child, done } = start(home, ['vault', 'serve', '--json', ...extra], shell);
  const info = await new Promise<{ url: string; caFile: string; tokenFile: string; tokenRefreshSeconds: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    void done.then((r) => reject(new Error(`vault serve exited: ${r.code} ${r.signal} ${r.stderr}`)));
  });
  const credential = { getToken: async () => ({ token: readFileSync(info.tokenFile, 'utf8'), expiresOnTimestamp: Date.now() + 60_000 }) };
  const client = new KeyClient(info.url, credential, { tlsOptions: { ca: readFileSync(info.caFile, 'utf8') }, disableChallengeResourceVerification: true, ...FAST_RETRY });
  return {
    child,
    url: info.url,
    tokenRefreshSeconds: info.tokenRefreshSeconds,
    client,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await done;
    },
  };
}

async function listNames(c: KeyClient): Promise<string[]> {
  const out: string[] = [];
  for await (const p of c.listPropertiesOfKeys()) out.push(p.name);
  return out.sort();
}

async function versionCount(c: KeyClient, name: string): Promise<number> {
  let count = 0;
  for await (const _ of c.listPropertiesOfKeyVersions(name)) count++;
  return count;
}

describe('CLI processes and vault serve on one home', { timeout: 240_000 }, () => {
  it('8 parallel creates and 8 rotates by CLI processes while the served vault also writes: every key and version present', async () => {
    const home = freshHome();
    const server = await serve(home);
    try {
      for (let i = 0; i < 4; i++) await server.client.createEcKey(`r${i}`);
      const runs = [
        ...Array.from({ length: 8 }, (_, i) => cli(home, 'key', 'create', `p${i}`, '--kty', 'EC')),
        ...Array.from({ length: 8 }, (_, i) => cli(home, 'key', 'rotate', `r${i % 4}`)),
      ];
      const served = (async () => {
        for (let i = 0; i < 8; i++) await server.client.createEcKey(`s${i}`);
        for (let i = 0; i < 4; i++) await server.client.rotateKey(`r${i}`);
      })();
      const results = await Promise.all(runs);
      await served;
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const expected = [...[0, 1, 2, 3].map((i) => `r${i}`), ...[...Array(8).keys()].flatMap((i) => [`p${i}`, `s${i}`])].sort();
      // The server sees what the CLI processes wrote, and a fresh process sees everything.
      expect(await listNames(server.client)).toEqual(expected);
      const listed = await cli(home, 'key', 'list', '--json');
      expect((JSON.parse(listed.stdout) as { name: string }[]).map((k) => k.name).sort()).toEqual(expected);
      for (let i = 0; i < 4; i++) expect(await versionCount(server.client, `r${i}`), `r${i}`).toBe(4); // 1 + 2 CLI + 1 served
    } finally {
      await server.stop();
    }
  });

  it('SIGKILL at random points of CLI writers and of the server: the state loads, no write acknowledged before is lost, the next write succeeds at once', async () => {
    const home = freshHome();
    let server = await serve(home);
    const url = server.url;
    const acknowledged = new Set<string>();
    // Kill points spread around one command's duration on this machine now, so that some
    // processes die before, some during and some after their write.
    const t0 = Date.now();
    const warmUp = await Promise.all([0, 1, 2, 3].map((i) => cli(home, 'key', 'create', `warm-up-${i}`, '--kty', 'EC')));
    for (const r of warmUp) expect(r.code, r.stderr).toBe(0);
    const oneRun = Date.now() - t0; // four at once, as in each round
    try {
      for (let round = 0; round < 6; round++) {
        const runs = Array.from({ length: 4 }, (_, i) => {
          const name = `k${round}-${i}`;
          const run = start(home, ['key', 'create', name, '--kty', 'EC']);
          setTimeout(() => run.child.kill('SIGKILL'), oneRun * (0.3 + Math.random()));
          return run.done.then((r) => (r.code === 0 ? acknowledged.add(name) : undefined));
        });
        const servedWrite = server.client.createEcKey(`s${round}`).then(() => acknowledged.add(`s${round}`), () => undefined);
        if (round % 2 === 1) {
          await new Promise((r) => setTimeout(r, Math.random() * 300));
          server.child.kill('SIGKILL');
        }
        await Promise.all([...runs, servedWrite]);
        if (round % 2 === 1) {
          await server.stop();
          server = await serve(home); // takes the dead server's lock over, if it held it
          expect(server.url).toBe(url); // same recorded port: same kids
        }
      }
      const started = Date.now();
      const next = await cli(home, 'key', 'create', 'after', '--kty', 'EC');
      expect(next.code, next.stderr).toBe(0);
      // Far below the 60 s after which an unverifiable lock would be broken.
      expect(Date.now() - started).toBeLessThan(20_000);
      const names = await listNames(server.client);
      for (const name of acknowledged) expect(names, name).toContain(name);
      expect(names).toContain('after');
      // The live server holds its serve lock; nothing else is left behind.
      expect(readdirSync(home).filter((f) => f.startsWith('.tmp-') || f.endsWith('.lock'))).toEqual(['vault.json.serve.lock']);
      await server.stop();
      expect(readdirSync(home).filter((f) => f.startsWith('.tmp-') || f.endsWith('.lock'))).toEqual([]);
      console.log(`local-vault-processes: ${acknowledged.size} of 30 writes acknowledged before their SIGKILL (four parallel commands: ${oneRun} ms)`);
    } finally {
      await server.stop();
    }
  });

  it('vault serve --port N listens there and records it; the next vault serve reuses it; a bad port is a usage error', async () => {
    const home = freshHome();
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const first = await serve(home, undefined, ['--port', String(port)]);
    expect(first.url).toBe(`https://127.0.0.1:${port}`);
    expect(first.tokenRefreshSeconds).toBe(1800); // the token file is rewritten, not left to expire
    expect(statSync(join(home, 'token')).mode & 0o777).toBe(0o600);
    await first.client.createEcKey('k');
    await first.stop();
    const second = await serve(home);
    try {
      expect(second.url).toBe(first.url);
      expect((await second.client.getKey('k')).id).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${port}/keys/k/`));
    } finally {
      await second.stop();
    }
    for (const bad of ['70000', '0', 'x']) {
      const r = await cli(home, 'vault', 'serve', '--port', bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--port/);
    }
  });

  it('a write the disk refuses fails loudly, and the served vault does not then claim the key', async () => {
    const home = freshHome();
    const seed = await cli(home, 'key', 'create', 'kept', '--kty', 'RSA', '--size', '2048');
    expect(seed.code, seed.stderr).toBe(0);
    await (await serve(home)).stop(); // records the certificate and the port
    const size = readFileSync(join(home, 'vault.json')).length;
    // A file-size limit just above today's state: the next key does not fit.
    const server = await serve(home, `ulimit -f ${Math.ceil((size + 600) / 512)}`);
    try {
      const err = await server.client.createRsaKey('refused', { keySize: 2048 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ statusCode: 500 });
      expect((err as Error).message).toMatch(/could not save its state/);
      await expect(server.client.getKey('refused')).rejects.toMatchObject({ statusCode: 404 });
      expect((await server.client.getKey('kept')).name).toBe('kept');
    } finally {
      await server.stop();
    }
    const listed = await cli(home, 'key', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((k) => k.name)).toEqual(['kept']);
  });
});
