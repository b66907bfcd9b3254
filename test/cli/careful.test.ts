/**
 * The CLI as a careful tool (issue 9): options anywhere, the home found like git finds .git,
 * destructive actions only when asked for, and the missing key-management pieces. Each test
 * names the mistake or the adversary it guards against; all run the built dist/cli.js against
 * the embedded local vault.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI, runCli } from './run-cli.js';

let root: string;
const cli = (args: string[], cwd = root, input?: Buffer) => runCli(args, { cwd, input });
const json = <T>(s: string) => JSON.parse(s) as T;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kv-envelope-careful-'));
  expect((await cli(['key', 'create', 'kek', '--size', '2048'])).code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('kv-envelope CLI: options, home, overwrites', { timeout: 120_000 }, () => {
  it('global options go before or after the command (README: kv-envelope --vault-url URL key list)', async () => {
    const home = join(root, '.kv-envelope');
    const before = await cli(['--home', home, '--json', 'key', 'list']);
    expect(before.code, before.stderr).toBe(0);
    expect(json<{ name: string }[]>(before.stdout).map((k) => k.name)).toEqual(['kek']);
    const after = await cli(['key', 'list', '--json', `--home=${home}`]);
    expect(after.stdout).toBe(before.stdout);
    // Before the command, a real vault URL is taken as the vault (here: nothing listens, loopback only).
    const remote = await cli(['--vault-url', 'https://127.0.0.1:9', 'key', 'list']);
    expect(remote.code).toBe(1);
    expect(remote.stderr).toMatch(/^kv-envelope: cannot reach the vault https:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\): check --vault-url/);
    expect(remote.stderr.trim().split('\n')).toHaveLength(1);
    expect((await cli(['--frobnicate', 'key', 'list'])).code).toBe(2);
  });

  it('a subdirectory uses the home of a parent (as git finds .git) and never makes an empty vault there', async () => {
    const deep = join(root, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    const list = await cli(['key', 'list', '--json'], deep);
    expect(list.code, list.stderr).toBe(0);
    expect(json<{ name: string }[]>(list.stdout).map((k) => k.name)).toEqual(['kek']);
    writeFileSync(join(deep, 'x.txt'), 'from a subdirectory');
    expect((await cli(['encrypt', '--key', 'kek', 'x.txt'], deep)).code).toBe(0);
    expect((await cli(['decrypt', 'x.txt.kve', '-o', '-'], deep)).stdout).toBe('from a subdirectory');
    expect(existsSync(join(deep, '.kv-envelope'))).toBe(false);
    expect(existsSync(join(root, 'a', '.kv-envelope'))).toBe(false);
  });

  it('with no home anywhere up the tree, read commands say so instead of reporting a missing key', async () => {
    const lonely = mkdtempSync(join(tmpdir(), 'kv-envelope-nohome-'));
    try {
      const r = await cli(['key', 'show', 'kek'], lonely);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/no \.kv-envelope folder in .* or any parent.*key create/);
      expect(readdirSync(lonely)).toEqual([]);
      // $KV_ENVELOPE_HOME points elsewhere.
      const viaEnv = await runCli(['key', 'list', '--json'], { cwd: lonely, env: { KV_ENVELOPE_HOME: join(root, '.kv-envelope') } });
      expect(json<{ name: string }[]>(viaEnv.stdout).map((k) => k.name)).toEqual(['kek']);
    } finally {
      rmSync(lonely, { recursive: true, force: true });
    }
  });

  it('the home holds private keys: it is 0700 and gets a .gitignore that ignores everything in it', () => {
    const home = join(root, '.kv-envelope');
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const ignore = readFileSync(join(home, '.gitignore'), 'utf8');
    expect(ignore.split('\n')).toContain('*');
    expect(ignore).toMatch(/PRIVATE KEYS/);
  });

  it('encrypt and decrypt never replace an existing file unless --force', async () => {
    writeFileSync(join(root, 'precious.txt'), 'the only copy');
    writeFileSync(join(root, 'precious.txt.kve'), 'an older envelope I still need');
    const enc = await cli(['encrypt', '--key', 'kek', 'precious.txt']);
    expect(enc.code).toBe(2);
    expect(enc.stderr).toMatch(/precious\.txt\.kve already exists \(give --force/);
    expect(readFileSync(join(root, 'precious.txt.kve'), 'utf8')).toBe('an older envelope I still need');
    expect((await cli(['encrypt', '--key', 'kek', 'precious.txt', '--force'])).code).toBe(0);
    const dec = await cli(['decrypt', 'precious.txt.kve']);
    expect(dec.code).toBe(2);
    expect(dec.stderr).toMatch(/precious\.txt already exists/);
    writeFileSync(join(root, 'precious.txt'), 'edited since');
    expect((await cli(['decrypt', 'precious.txt.kve', '--force'])).code).toBe(0);
    expect(readFileSync(join(root, 'precious.txt'), 'utf8')).toBe('the only copy');
  });

  it('a missing file or output folder is one line naming the file, never a temporary file name', async () => {
    const missing = await cli(['decrypt', 'missing.kve']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('kv-envelope: missing.kve: no such file or directory\n');
    writeFileSync(join(root, 'input.txt'), 'input');
    const noDir = await cli(['encrypt', '--key', 'kek', 'input.txt', '-o', join('no-such-dir', 'out.kve')]);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).not.toMatch(/\.tmp|[0-9a-f]{12}/);
    expect(noDir.stderr).toMatch(/no-such-dir\/out\.kve: no such file or directory/);
    expect(noDir.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('kv-envelope CLI: keys', { timeout: 120_000 }, () => {
  it('key create on an existing name fails (a typo would otherwise add a version); --new-version adds one', async () => {
    const again = await cli(['key', 'create', 'kek']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/key kek already exists .*--new-version/);
    expect((await cli(['key', 'create', 'kek', '--new-version', '--size', '2048'])).code).toBe(0);
    const versions = json<{ version: string; enabled: boolean }[]>((await cli(['key', 'versions', 'kek', '--json'])).stdout);
    expect(versions).toHaveLength(2);
    expect(new Set(versions.map((v) => v.version)).size).toBe(2);
  });

  it('key disable stops the latest version from wrapping; enable brings it back', async () => {
    await cli(['key', 'create', 'toggle', '--size', '2048']);
    writeFileSync(join(root, 't.txt'), 'toggle');
    const off = await cli(['key', 'disable', 'toggle', '--json']);
    expect(json<{ enabled: boolean }>(off.stdout).enabled).toBe(false);
    const refused = await cli(['encrypt', '--key', 'toggle', 't.txt']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ERR_KEY_DISABLED/);
    expect(existsSync(join(root, 't.txt.kve'))).toBe(false);
    expect((await cli(['key', 'enable', 'toggle'])).code).toBe(0);
    expect((await cli(['encrypt', '--key', 'toggle', 't.txt'])).code).toBe(0);
  });

  it('recover of a key that is not deleted is an error; list --deleted shows soft-deleted keys', async () => {
    const live = await cli(['key', 'recover', 'toggle']);
    expect(live.code).toBe(1);
    expect(live.stderr).toMatch(/key toggle is not deleted/);
    expect((await cli(['key', 'delete', 'toggle'])).code).toBe(0);
    const deleted = json<{ name: string }[]>((await cli(['key', 'list', '--deleted', '--json'])).stdout);
    expect(deleted.map((d) => d.name)).toEqual(['toggle']);
    expect((await cli(['key', 'recover', 'toggle'])).code).toBe(0);
    expect((await cli(['decrypt', 't.txt.kve', '-o', '-'])).stdout).toBe('toggle');
  });

  it('purge is permanent: without a terminal it needs --yes, and without it the key stays recoverable', async () => {
    await cli(['key', 'create', 'doomed', '--kty', 'EC']);
    await cli(['key', 'delete', 'doomed']);
    const refused = await cli(['key', 'purge', 'doomed']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/permanent: give --yes/);
    expect(json<{ name: string }[]>((await cli(['key', 'list', '--deleted', '--json'])).stdout).map((d) => d.name)).toContain('doomed');
    expect((await cli(['key', 'purge', 'doomed', '--yes'])).code).toBe(0);
    expect(json<{ name: string }[]>((await cli(['key', 'list', '--deleted', '--json'])).stdout).map((d) => d.name)).not.toContain('doomed');
  });

  it.skipIf(!existsSync('/usr/bin/script'))('purge on a terminal asks for the key name: a wrong answer keeps the key, the right one purges', async () => {
    await cli(['key', 'create', 'asked', '--kty', 'EC']);
    await cli(['key', 'delete', 'asked']);
    // `script` gives the CLI a real pseudo-terminal; our stdin becomes what the user types.
    const onTty = (answer: string) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn('script', ['-qec', `"${process.execPath}" "${CLI}" key purge asked`, '/dev/null'], { cwd: root, env: { ...process.env, KV_ENVELOPE_HOME: '', AZURE_KEYVAULT_URL: '' } });
        let output = '';
        child.stdout.on('data', (d: Buffer) => {
          output += d.toString();
          if (output.includes('Type the key name to confirm')) child.stdin.end(`${answer}\n`);
        });
        child.on('exit', (code) => resolve({ code, output }));
      });
    const no = await onTty('nope');
    expect(no.output).toMatch(/Permanently delete asked\?/);
    expect(no.code).toBe(2);
    expect(no.output).toMatch(/not confirmed/);
    expect(json<{ name: string }[]>((await cli(['key', 'list', '--deleted', '--json'])).stdout).map((d) => d.name)).toContain('asked');
    const yes = await onTty('asked');
    expect(yes.code, yes.output).toBe(0);
    expect(json<{ name: string }[]>((await cli(['key', 'list', '--deleted', '--json'])).stdout).map((d) => d.name)).not.toContain('asked');
  });

  it('backup, purge, restore: envelopes made before still decrypt; backup keeps an existing file', async () => {
    await cli(['key', 'create', 'kept', '--size', '2048']);
    writeFileSync(join(root, 'k.txt'), 'survives a purge');
    await cli(['encrypt', '--key', 'kept', 'k.txt']);
    expect((await cli(['key', 'backup', 'kept', '-o', 'kept.backup'])).code).toBe(0);
    expect((await cli(['key', 'backup', 'kept', '-o', 'kept.backup'])).code).toBe(2);
    await cli(['key', 'delete', 'kept']);
    await cli(['key', 'purge', 'kept', '--yes']);
    expect((await cli(['decrypt', 'k.txt.kve', '-o', '-'])).code).toBe(1);
    expect((await cli(['key', 'restore', 'kept.backup'])).code).toBe(0);
    expect((await cli(['decrypt', 'k.txt.kve', '-o', '-'])).stdout).toBe('survives a purge');
  });

  it('options that do not apply to a key command are usage errors, not silently ignored', async () => {
    expect((await cli(['key', 'list', '--yes'])).code).toBe(2);
    expect((await cli(['key', 'show', 'kek', '--kty', 'EC'])).code).toBe(2);
  });
});
