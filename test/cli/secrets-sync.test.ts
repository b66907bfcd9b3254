/**
 * `kv-envelope secrets sync` end to end, as a user types it, on the embedded local vault shared
 * by several CLI processes. Adversaries: files readable by others, a reader seeing part of a
 * value, a rotation by another process never picked up, a SIGTERM that leaves temporary files or
 * a non-zero exit, a value on stdout, one unreadable secret at start that still gets the others
 * written (a half-configured mount) or, later, clobbers its last good file, and file names that
 * escape DIR.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from './cli-process.js';
import { runCli } from './run-cli.js';

let dir: string;
const cli = (args: string[]) => runCli(args, { cwd: dir });
const DB = 'Host=db;Password=sync-test-value-1';
const API = 'sync-test-api-key-1';

async function set(name: string, value: string, ...more: string[]): Promise<string> {
  const r = await cli(['secret', 'set', name, '--value', value, '--json', ...more]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).version as string;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 100));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kv-envelope-sync-'));
  await set('db', DB);
  await set('api-key', API);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kv-envelope secrets sync', { timeout: 120_000 }, () => {
  it('--once writes each secret to DIR/FILE, mode 0600 in a 0700 directory, one JSON line each and no value', async () => {
    const r = await cli(['secrets', 'sync', '--to', 'mnt/secrets', '--once', 'db', 'api-key=API_KEY.txt']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { name: 'db', version: expect.stringMatching(/^[0-9a-f]{32}$/), file: 'mnt/secrets/db', event: 'written' },
      { name: 'api-key', version: expect.stringMatching(/^[0-9a-f]{32}$/), file: 'mnt/secrets/API_KEY.txt', event: 'written' },
    ]);
    expect(r.stdout).not.toContain(DB);
    expect(readFileSync(join(dir, 'mnt/secrets/db'), 'utf8')).toBe(DB);
    expect(readFileSync(join(dir, 'mnt/secrets/API_KEY.txt'), 'utf8')).toBe(API);
    expect(statSync(join(dir, 'mnt/secrets')).mode & 0o777).toBe(0o700);
    for (const f of ['db', 'API_KEY.txt']) expect(statSync(join(dir, 'mnt/secrets', f)).mode & 0o777).toBe(0o600);
  });

  it('a running sync picks up a version set by another process, and stops cleanly on SIGTERM', async () => {
    const p = startCli(['secrets', 'sync', '--to', 'live', '--interval', '1s', 'db', 'api-key'], { cwd: dir });
    await p.waitForLine((l) => l.includes('"api-key"') && l.includes('"written"'));
    const version = await set('api-key', 'sync-test-api-key-2');
    const rotated = JSON.parse(await p.waitForLine((l) => l.includes('"rotated"')));
    expect(rotated).toEqual({ name: 'api-key', version, file: 'live/api-key', event: 'rotated' });
    expect(readFileSync(join(dir, 'live/api-key'), 'utf8')).toBe('sync-test-api-key-2');
    expect(readFileSync(join(dir, 'live/db'), 'utf8')).toBe(DB);

    // A new version that cannot be read (disabled) keeps the last good file; the others go on.
    await set('api-key', 'never-served', '--disabled');
    await until(() => /ERR_SECRET_DISABLED/.test(p.stderr()));
    expect(p.stderr()).toMatch(/api-key: ERR_SECRET_DISABLED: .*\(keeping live\/api-key at version [0-9a-f]{32}\)/);
    expect(readFileSync(join(dir, 'live/api-key'), 'utf8')).toBe('sync-test-api-key-2');
    const dbVersion = await set('db', `${DB}-rotated`);
    await p.waitForLine((l) => l.includes(dbVersion));

    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(readdirSync(join(dir, 'live')).sort()).toEqual(['api-key', 'db']);
    expect(readFileSync(join(dir, 'live/db'), 'utf8')).toBe(`${DB}-rotated`);
    expect(p.lines.join('\n')).not.toMatch(/sync-test-api-key|Password=/);
    await set('api-key', API);
  });

  it('SIGINT right after start also exits 0 and leaves no temporary file', async () => {
    const p = startCli(['secrets', 'sync', '--to', 'quick', '--interval', '1s', 'db', 'api-key'], { cwd: dir });
    await p.waitForLine((l) => l.includes('"db"'));
    p.child.kill('SIGINT');
    expect((await p.exited).code).toBe(0);
    expect(readdirSync(join(dir, 'quick')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a secret that cannot be read at start: an error naming it, nothing written, other files untouched', async () => {
    mkdirSync(join(dir, 'keep'));
    writeFileSync(join(dir, 'keep/db'), 'old value');
    writeFileSync(join(dir, 'keep/other'), 'not ours');
    await set('off', DB, '--disabled');
    const cases: [string, RegExp][] = [
      ['missing', /cannot read 1 of 2 secrets, nothing written: missing: ERR_SECRET_NOT_FOUND: https:\/\/local\.vault\.azure\.net\/secrets\/missing/],
      ['off', /cannot read 1 of 2 secrets, nothing written: off: ERR_SECRET_DISABLED/],
    ];
    for (const [name, message] of cases) {
      const r = await cli(['secrets', 'sync', '--to', 'keep', '--once', 'db', name]);
      expect([r.code, r.stdout, r.stderr], name).toEqual([1, '', expect.stringMatching(message)]);
    }
    expect(readFileSync(join(dir, 'keep/db'), 'utf8')).toBe('old value');
    expect(readdirSync(join(dir, 'keep')).sort()).toEqual(['db', 'other']);
    const json = await cli(['secrets', 'sync', '--to', 'keep', '--once', 'missing', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'ERR_SECRET_NOT_FOUND', message: expect.stringMatching(/nothing written/) } });
  });

  it('usage: --to, at least one NAME, plain distinct file names, a valid interval', async () => {
    const cases: [string[], RegExp][] = [
      [['secrets', 'sync', 'db'], /needs --to DIR/],
      [['secrets', 'sync', '--to', 'x'], /at least one NAME\[=FILE\]/],
      [['secrets', 'sync', '--to', 'x', 'db=../escape'], /must be a plain file name inside x/],
      [['secrets', 'sync', '--to', 'x', 'db=sub/file'], /must be a plain file name/],
      [['secrets', 'sync', '--to', 'x', 'db=.hidden'], /no leading dot/],
      [['secrets', 'sync', '--to', 'x', 'db=same', 'api-key=SAME'], /two secrets would be written to x\/SAME/],
      [['secrets', 'sync', '--to', 'x', 'bad_name'], /a secret NAME must be 1-127 letters/],
      [['secrets', 'sync', '--to', 'x', '--interval', 'soon', 'db'], /--interval must be seconds or a duration/],
      [['secrets', 'sync', '--to', 'x', '--interval', '0s', 'db'], /--interval must be more than 0 seconds/],
      [['secrets', 'sync', '--to', 'x', '--once', '--interval', '1m', 'db'], /--interval does not apply with --once/],
      [['secrets', 'mount', '--to', 'x', 'db'], /unknown secrets command "mount"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringMatching(message)]);
    }
    expect(readdirSync(dir)).not.toContain('x');
    expect((await cli(['secrets', '--help'])).stdout).toMatch(/^Usage: kv-envelope secrets sync/);
  });
});
