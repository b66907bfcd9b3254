/**
 * `kv-envelope secret …` as a user types it: the built CLI in a temporary directory, on the
 * embedded local vault in ./.kv-envelope/. Adversaries: a value changed on the way (a newline
 * added or dropped, bytes re-encoded), a value printed by anything but `get`, a listing that
 * shows a value, a soft-delete cycle that loses or resurrects a secret, and bad input — an
 * unknown or disabled secret, a value over 25 KB or not UTF-8, a malformed date, name or version.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Run, runCli } from './run-cli.js';

let dir: string;
const cli = (args: string[], input?: Buffer) => runCli(args, { cwd: dir, ...(input === undefined ? {} : { input }) });
const VALUE = `Server=db;Password=${randomBytes(12).toString('hex')}`;
const outputs: Run[] = [];

/** Runs a command that must never print a value, and keeps its output for the final check. */
async function quiet(args: string[], input?: Buffer): Promise<Run> {
  const r = await cli(args, input);
  outputs.push(r);
  return r;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kv-envelope-secret-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kv-envelope secret', { timeout: 120_000 }, () => {
  it('set then get prints exactly the value: no newline added, bytes from --file and stdin kept as they are', async () => {
    const set = await quiet(['secret', 'set', 'db', '--value', VALUE, '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ name: 'db', enabled: true, version: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const get = await cli(['secret', 'get', 'db']);
    expect(get.code).toBe(0);
    expect(get.raw.equals(Buffer.from(VALUE))).toBe(true);
    expect(get.stderr).toBe('');

    const fileBytes = Buffer.from('naïve ✓ \u{1F511}\n  trailing blanks and a newline \n', 'utf8');
    writeFileSync(join(dir, 'value.txt'), fileBytes);
    expect((await quiet(['secret', 'set', 'from-file', '--file', 'value.txt'])).code).toBe(0);
    expect((await cli(['secret', 'get', 'from-file'])).raw.equals(fileBytes)).toBe(true);
    const stdinBytes = Buffer.from('\uFEFFwith a byte order mark\r\n', 'utf8');
    expect((await quiet(['secret', 'set', 'from-stdin', '-'], stdinBytes)).code).toBe(0);
    expect((await cli(['secret', 'get', 'from-stdin'])).raw.equals(stdinBytes)).toBe(true);

    const json = JSON.parse((await cli(['secret', 'get', 'DB', '--json'])).stdout);
    expect(json).toEqual({ name: 'DB', version: JSON.parse(set.stdout).version, value: VALUE });
  });

  it('show, list and versions give properties, never the value; get --version reads an older one', async () => {
    const first = JSON.parse((await cli(['secret', 'show', 'db', '--json'])).stdout);
    const set = await quiet(['secret', 'set', 'db', '--value', `${VALUE}-2`, '--content-type', 'text/plain', '--tags', 'env=dev', '--tags', 'team=payments',
      '--expires', '2031-01-31', '--not-before', '2025-06-01T12:00:00Z', '--json']);
    expect(set.code, set.stderr).toBe(0);
    const second = JSON.parse(set.stdout);
    const show = await quiet(['secret', 'show', 'db', '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({
      name: 'db', version: second.version, contentType: 'text/plain', tags: { env: 'dev', team: 'payments' },
      expiresOn: '2031-01-31T00:00:00.000Z', notBefore: '2025-06-01T12:00:00.000Z', enabled: true,
    });
    const human = await quiet(['secret', 'show', 'db']);
    expect(human.stdout).toMatch(/content type: text\/plain[\s\S]*expires 2031-01-31T00:00:00\.000Z[\s\S]*tags: env=dev, team=payments/);
    const versions = JSON.parse((await quiet(['secret', 'versions', 'db', '--json'])).stdout) as { version: string }[];
    expect(versions.map((v) => v.version).sort()).toEqual([first.version, second.version].sort());
    expect((await cli(['secret', 'get', 'db', '--version', first.version])).stdout).toBe(VALUE);
    expect((await cli(['secret', 'get', 'db'])).stdout).toBe(`${VALUE}-2`);
    const list = JSON.parse((await quiet(['secret', 'list', '--json'])).stdout) as { name: string }[];
    expect(list.map((s) => s.name).sort()).toEqual(['db', 'from-file', 'from-stdin']);
    expect((await quiet(['secret', 'list'])).stdout).toMatch(/^db .*expires 2031/m);
  });

  it('delete, recover and purge: a deleted secret is gone from get and back after recover; a purged one is gone for good', async () => {
    expect((await quiet(['secret', 'delete', 'from-stdin'])).code).toBe(0);
    const gone = await cli(['secret', 'get', 'from-stdin']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/ERR_SECRET_NOT_FOUND/);
    expect(JSON.parse((await quiet(['secret', 'list', '--deleted', '--json'])).stdout)).toEqual([expect.objectContaining({ name: 'from-stdin' })]);
    expect((await quiet(['secret', 'recover', 'from-stdin'])).code).toBe(0);
    expect((await cli(['secret', 'get', 'from-stdin'])).code).toBe(0);
    const again = await quiet(['secret', 'recover', 'from-stdin']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/secret from-stdin is not deleted: nothing to recover \(it exists and is in use\)/);
    expect((await quiet(['secret', 'delete', 'from-stdin'])).code).toBe(0);
    const unconfirmed = await quiet(['secret', 'purge', 'from-stdin']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/give --yes/);
    expect((await quiet(['secret', 'purge', 'from-stdin', '--yes'])).code).toBe(0);
    expect(JSON.parse((await quiet(['secret', 'list', '--deleted', '--json'])).stdout)).toEqual([]);
    expect((await quiet(['secret', 'recover', 'from-stdin'])).code).toBe(1);
    expect((await quiet(['secret', 'purge', 'db', '--yes'])).stderr).toMatch(/secret db is not soft-deleted: delete it first/);
    expect((await quiet(['secret', 'delete', 'never-was'])).stderr).toMatch(/secret never-was not found/);
  });

  it('bad input: an unknown or disabled secret, and every malformed argument, with nothing stored', async () => {
    const unknown = await cli(['secret', 'get', 'no-such']);
    expect([unknown.code, unknown.stdout]).toEqual([1, '']);
    expect(unknown.stderr).toMatch(/ERR_SECRET_NOT_FOUND: https:\/\/local\.vault\.azure\.net\/secrets\/no-such: no such secret/);
    expect((await quiet(['secret', 'show', 'no-such'])).stderr).toMatch(/secret no-such not found/);

    expect((await quiet(['secret', 'set', 'off', '--value', VALUE, '--disabled'])).code).toBe(0);
    const disabled = await cli(['secret', 'get', 'off']);
    expect([disabled.code, disabled.stdout]).toEqual([1, '']);
    expect(disabled.stderr).toMatch(/ERR_SECRET_DISABLED/);
    const shown = await quiet(['secret', 'show', 'off', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'off', enabled: false });

    writeFileSync(join(dir, 'big.txt'), 'x'.repeat(25_601));
    const big = await quiet(['secret', 'set', 'big', '--file', 'big.txt']);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/big\.txt is 25601 bytes; a Key Vault secret holds at most 25600 bytes \(25 KB\): nothing was sent/);
    writeFileSync(join(dir, 'limit.txt'), 'x'.repeat(25_600));
    expect((await quiet(['secret', 'set', 'limit', '--file', 'limit.txt'])).code).toBe(0);
    expect((await cli(['secret', 'get', 'limit'])).stdout).toHaveLength(25_600);

    writeFileSync(join(dir, 'binary.bin'), Buffer.from([0x66, 0xff, 0xfe, 0x00]));
    const binary = await quiet(['secret', 'set', 'bin', '--file', 'binary.bin']);
    expect([binary.code, binary.stderr]).toEqual([2, expect.stringMatching(/not UTF-8 text.*base64-encode/)]);

    const cases: [string[], RegExp][] = [
      [['secret', 'set', 'x'], /exactly one of --value V, --file F or - \(stdin\)/],
      [['secret', 'set', 'x', '--value', 'a', '--file', 'value.txt'], /exactly one of/],
      [['secret', 'set', 'x', '--value', 'a', '--expires', 'next week'], /--expires expects a date like 2030-01-31/],
      [['secret', 'set', 'x', '--value', 'a', '--not-before', '2030-13-45'], /--not-before expects a date/],
      [['secret', 'set', 'x', '--value', 'a', '--tags', 'novalue'], /--tags expects key=value/],
      [['secret', 'set', 'bad_name', '--value', 'a'], /NAME must be 1-127 letters, digits and hyphens/],
      [['secret', 'get', 'db', '--version', 'latest'], /--version must be 32 hexadecimal characters/],
      [['secret', 'list', '--version', '0'.repeat(32)], /--version does not apply to "secret list"/],
      [['secret', 'rotate', 'db'], /unknown secret command "rotate"/],
    ];
    for (const [args, message] of cases) {
      const r = await quiet(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringMatching(message)]);
    }
    const names = (JSON.parse((await cli(['secret', 'list', '--json'])).stdout) as { name: string }[]).map((s) => s.name);
    expect(names).not.toContain('big');
    expect(names).not.toContain('x');
  });

  it('no command but get ever printed a value', () => {
    expect(outputs.length).toBeGreaterThan(20);
    for (const r of outputs) expect(`${r.stdout}\n${r.stderr}`).not.toContain(VALUE.slice(-24));
  });

  it('help lists every command and the roles', async () => {
    const h = await cli(['secret', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/"Key Vault Secrets User"[\s\S]*"Key Vault Reader"[\s\S]*"Key Vault Secrets Officer"/);
    for (const c of ['set', 'get', 'show', 'list', 'versions', 'delete', 'recover', 'purge']) expect(h.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    // A newcomer must learn from the help which vault these commands talk to.
    expect(h.stdout).toMatch(/embedded local vault[\s\S]*--vault-url URL \(or AZURE_KEYVAULT_URL\)/);
    expect((await cli(['secrets', 'sync', '--help'])).stdout).toMatch(/embedded local vault[\s\S]*--vault-url URL \(or AZURE_KEYVAULT_URL\)/);
    expect((await cli(['--help'])).stdout).toMatch(/secret set\|get[\s\S]*run \[--env-file F\] -- CMD[\s\S]*secrets sync --to DIR/);
  });
});
