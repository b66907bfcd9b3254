/**
 * `kv-envelope run` end to end, as a user types it: the built CLI runs a child node script on the
 * embedded local vault. The child prints SHA-256 hashes of what it received, never a value.
 * Adversaries: a reference left unresolved or resolved to the wrong version; the environment and
 * a dotenv file disagreeing; CMD's exit code or signal lost (a supervisor would think a crash was
 * a success); a signal to kv-envelope not reaching CMD; a malformed, unknown, disabled, expired or
 * foreign-vault reference that starts CMD anyway or prints the value; a missing command.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from './cli-process.js';
import { type Run, runCli } from './run-cli.js';

let dir: string;
const cli = (args: string[], env?: NodeJS.ProcessEnv, input?: Buffer) => runCli(args, { cwd: dir, ...(env === undefined ? {} : { env }), ...(input === undefined ? {} : { input }) });
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const DB = 'Host=db;Password=pa55-run-test-value';
const API = 'api-key-run-test-value';
const ref = (name: string, version?: string) => `@Microsoft.KeyVault(VaultName=local;SecretName=${name}${version === undefined ? '' : `;SecretVersion=${version}`})`;
let dbVersion1: string;

/** What the child saw: hashes of the variables and of stdin, plus its arguments. */
const CHILD = `
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
const sha = (s) => s === undefined ? null : createHash('sha256').update(s).digest('hex');
writeFileSync('started', '');
let input = '';
for await (const chunk of process.stdin) input += chunk;
console.log(JSON.stringify({ db: sha(process.env.DB), api: sha(process.env.API_KEY), plain: process.env.PLAIN ?? null, stdin: sha(input), args: process.argv.slice(2) }));
process.exitCode = Number(process.argv[2] ?? 0);
`;

function seen(r: Run): { db: string | null; api: string | null; plain: string | null; stdin: string; args: string[] } {
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kv-envelope-run-'));
  writeFileSync(join(dir, 'child.mjs'), CHILD);
  writeFileSync(join(dir, '.env'), `# app settings\nexport DB="${ref('db')}"\nAPI_KEY='@Microsoft.KeyVault(SecretUri=https://local.vault.azure.net/secrets/API-KEY/)'\nPLAIN=plain value # a comment\n`);
  dbVersion1 = JSON.parse((await cli(['secret', 'set', 'db', '--value', DB, '--json'])).stdout).version;
  expect((await cli(['secret', 'set', 'api-key', '--value', API])).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function noValues(r: Run): void {
  for (const v of [DB, API]) expect(`${r.stdout}${r.stderr}`).not.toContain(v);
}

describe('kv-envelope run', { timeout: 120_000 }, () => {
  it('resolves references from a dotenv file, passes stdin, arguments and the exit code through', async () => {
    const r = await cli(['run', '--env-file', '.env', '--', 'node', 'child.mjs', '7', '--json', '--home', 'x'], {}, Buffer.from('piped input'));
    expect(r.code, r.stderr).toBe(7);
    expect(seen(r)).toEqual({ db: sha(DB), api: sha(API), plain: 'plain value', stdin: sha('piped input'), args: ['7', '--json', '--home', 'x'] });
    expect(r.stderr).toBe('');
    noValues(r);
  });

  it('the environment wins over the file; a pinned version stays pinned after a rotation', async () => {
    expect((await cli(['secret', 'set', 'db', '--value', `${DB}-rotated`])).code).toBe(0);
    const r = await cli(['run', '--env-file', '.env', '--', 'node', 'child.mjs'], { DB: ref('db', dbVersion1), API_KEY: 'literal' });
    expect(r.code, r.stderr).toBe(0);
    expect(seen(r)).toMatchObject({ db: sha(DB), api: sha('literal') });
    const latest = await cli(['run', '--', 'node', 'child.mjs'], { DB: ref('db') });
    expect(seen(latest).db).toBe(sha(`${DB}-rotated`));
  });

  it('a CMD killed by a signal exits 128+N, as shells report it', async () => {
    const r = await cli(['run', '--', 'node', '-e', 'process.kill(process.pid, "SIGTERM")']);
    expect(r.code).toBe(128 + 15);
  });

  it('forwards SIGTERM to CMD and exits with the code CMD chose', async () => {
    const trap = 'process.on("SIGTERM", () => { console.log("got SIGTERM"); process.exit(42); }); console.log("ready"); setInterval(() => {}, 1000);';
    const p = startCli(['run', '--', 'node', '-e', trap], { cwd: dir, env: { DB: ref('db') } });
    await p.waitForLine((l) => l === 'ready');
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 42, signal: null });
    expect(p.lines).toEqual(['ready', 'got SIGTERM']);
  });

  it('a malformed reference fails before CMD starts, naming the variable and not the text', async () => {
    rmSync(join(dir, 'started'), { force: true });
    const bad = '@Microsoft.KeyVault(VaultName=local;SecretNme=db)';
    const r = await cli(['run', '--', 'node', 'child.mjs'], { MY_BAD_VAR: bad });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kv-envelope: ERR_SECRET_REFERENCE: environment variable MY_BAD_VAR: invalid Key Vault reference/);
    expect(r.stderr).not.toContain('SecretNme');
    expect(existsSync(join(dir, 'started'))).toBe(false);
    writeFileSync(join(dir, 'bad.env'), `OK=1\nFROM_FILE="@Microsoft.KeyVault(SecretUri=http://local.vault.azure.net/secrets/db)"\n`);
    const f = await cli(['run', '--env-file', 'bad.env', '--', 'node', 'child.mjs']);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/bad\.env: environment variable FROM_FILE: invalid Key Vault reference: SecretUri must be https/);
    writeFileSync(join(dir, 'broken.env'), 'OK=1\nthis line has no equals sign\n');
    expect((await cli(['run', '--env-file', 'broken.env', '--', 'node', 'child.mjs'])).stderr).toMatch(/broken\.env:2: expected NAME=VALUE/);
    expect(existsSync(join(dir, 'started'))).toBe(false);
  });

  it('an unknown, disabled or expired secret, or a vault not allowed, fails before CMD starts', async () => {
    rmSync(join(dir, 'started'), { force: true });
    expect((await cli(['secret', 'set', 'off', '--value', DB, '--disabled'])).code).toBe(0);
    expect((await cli(['secret', 'set', 'old', '--value', DB, '--expires', '2020-01-01'])).code).toBe(0);
    const cases: [string, RegExp][] = [
      [ref('missing'), /ERR_SECRET_NOT_FOUND: environment variable X: https:\/\/local\.vault\.azure\.net\/secrets\/missing: no such secret/],
      [ref('off'), /ERR_SECRET_DISABLED: environment variable X: .*disabled/],
      [ref('old'), /ERR_SECRET_EXPIRED: environment variable X: .*expired at 2020-01-01T00:00:00\.000Z/],
      ['@Microsoft.KeyVault(VaultName=prod-vault;SecretName=db)', /ERR_SECRET_VAULT_NOT_ALLOWED: environment variable X: https:\/\/prod-vault\.vault\.azure\.net\/secrets\/db: .*nothing was sent \(the embedded local vault is https:\/\/local\.vault\.azure\.net/],
    ];
    for (const [value, message] of cases) {
      const r = await cli(['run', '--', 'node', 'child.mjs'], { X: value });
      expect([r.code, r.stderr], value).toEqual([1, expect.stringMatching(message)]);
      noValues(r);
    }
    expect((await cli(['run', '--allowed-vault', 'https://prod-vault.vault.azure.net', '--', 'node', 'child.mjs'], { X: ref('db') })).stderr).toMatch(/--allowed-vault needs --vault-url/);
    expect(existsSync(join(dir, 'started'))).toBe(false);
  });

  it('usage: the command goes after --; a missing command exits 127; no reference needs no vault', async () => {
    expect((await cli(['run', 'node', 'child.mjs'])).stderr).toMatch(/put the command after --/);
    expect((await cli(['run', '--env-file', '.env'])).code).toBe(2);
    for (const url of ['http://prod.vault.azure.net', 'prod', 'https://prod.vault.azure.net/secrets/db']) {
      expect((await cli(['run', '--allowed-vault', url, '--', 'node', 'child.mjs'])).stderr, url).toMatch(/--allowed-vault expects a vault URL like https:\/\/myvault\.vault\.azure\.net/);
    }
    const missing = await cli(['run', '--', 'no-such-command-kv']);
    expect([missing.code, missing.stderr]).toEqual([127, 'kv-envelope: no-such-command-kv: command not found\n']);
    // Node 20 and 22 releases check an `--env-file` argument themselves, even after the script
    // (nodejs/node#54232): then node, not kv-envelope, says the file is missing (exit 9).
    const noFile = await cli(['run', '--env-file', 'nope.env', '--', 'node', 'child.mjs']);
    expect([noFile.code === 2 || noFile.code === 9, noFile.stderr]).toEqual([true, expect.stringMatching(/nope\.env: (no such file or directory|not found)/)]);
    const empty = mkdtempSync(join(tmpdir(), 'kv-envelope-run-nohome-'));
    try {
      const r = await runCli(['run', '--', 'node', '-e', 'process.exit(3)'], { cwd: empty, env: { PLAIN: 'no references' } });
      expect([r.code, r.stderr]).toEqual([3, '']);
      expect(existsSync(join(empty, '.kv-envelope'))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect((await cli(['run', '--help'])).stdout).toMatch(/^Usage: kv-envelope run/);
  });
});
