/**
 * `kv-envelope rewrap --database-url … --table …` end to end (needs a real server: DATABASE_URL),
 * as a user types it: envelopes made by `kv-envelope encrypt` stored in a table, the key rotated,
 * the table re-wrapped in place; a field-mode column is explained, not rewritten.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWrappedKeys } from '../../src/index.js';
import { DATABASE_URL, type TestDatabase, openTestDatabase } from '../helpers/database.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function cli(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, KV_ENVELOPE_HOME: '', AZURE_KEYVAULT_URL: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

describe.skipIf(DATABASE_URL === undefined)('kv-envelope rewrap --database-url (needs DATABASE_URL; skipped on PGlite)', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'kv-envelope-cli-table-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.close();
  });

  it('re-wraps a table made of CLI envelopes after a rotation, then reports 0 left', async () => {
    expect((await cli(dir, ['key', 'create', 'tkek'])).code).toBe(0);
    const table = `${db.schema}.${db.table('cli')}`;
    const quoted = `"${table.replace('.', '"."')}"`;
    await db.client.query(`CREATE TABLE ${quoted} (id int PRIMARY KEY, body bytea, b64 text)`);
    for (let i = 0; i < 4; i++) {
      writeFileSync(join(dir, `f${i}`), `secret ${i}`);
      expect((await cli(dir, ['encrypt', '--key', 'tkek', `f${i}`])).code).toBe(0);
      const env = readFileSync(join(dir, `f${i}.kve`));
      await db.client.query(`INSERT INTO ${quoted} VALUES ($1, $2, $3)`, [i, env, env.toString('base64')]);
    }
    expect((await cli(dir, ['key', 'rotate', 'tkek'])).code).toBe(0);
    const version = JSON.parse((await cli(dir, ['key', 'show', 'tkek', '--json'])).stdout).version as string;
    const run = await cli(dir, ['rewrap', '--database-url', DATABASE_URL!, '--table', table, '--id-column', 'id', '--column', 'body', '--column', 'b64', '--key', 'tkek', '--json']);
    expect(run.stderr).not.toMatch(/failed:/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rewrapped: 4, remaining: 0, failed: [] });
    const { rows } = await db.client.query(`SELECT body, b64 FROM ${quoted}`);
    for (const r of rows as Array<{ body: Uint8Array; b64: string }>) {
      expect(readWrappedKeys(r.body)[0]!.kekId.endsWith(`/${version}`)).toBe(true);
      expect(readWrappedKeys(Buffer.from(r.b64, 'base64'))[0]!.kekId.endsWith(`/${version}`)).toBe(true);
    }
    // Rerun: nothing to do, exit 0.
    const again = await cli(dir, ['rewrap', '--database-url', DATABASE_URL!, '--table', table, '--id-column', 'id', '--column', 'body', '--key', 'tkek', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ rewrapped: 0, remaining: 0 });
  });

  it('a field-mode column is a usage error that explains the key-store re-wrap', async () => {
    const table = `${db.schema}.${db.table('fields')}`;
    await db.client.query(`CREATE TABLE "${table.replace('.', '"."')}" (id int PRIMARY KEY, v bytea)`);
    await db.client.query(`INSERT INTO "${table.replace('.', '"."')}" VALUES (1, $1)`, [Buffer.from([0xf1, ...new Array(40).fill(1)])]);
    const run = await cli(dir, ['rewrap', '--database-url', DATABASE_URL!, '--table', table, '--id-column', 'id', '--column', 'v', '--key', 'tkek']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/field ciphertexts.*--key-store/s);
  });
});
