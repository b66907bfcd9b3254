/**
 * A fleet on one PostgreSQL: several processes share one PostgresKeyStore. Needs a real server
 * (DATABASE_URL): PGlite is one process by construction, so these are skipped without one.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldEncryptor, LocalAesKek } from '../../src/index.js';
import { PostgresKeyStore } from '../../src/postgres/index.js';
import { DATABASE_URL, type TestDatabase, openTestDatabase } from '../helpers/database.js';

// Under node_modules so the bundle's external `pg` resolves from the project.
const WORK = resolve('node_modules/.cache/kv-envelope-tests', `fleet-${process.pid}`);
const KEK_HEX = randomBytes(32).toString('hex');
let db: TestDatabase;
let bundle: string;
let child: string;

describe.skipIf(DATABASE_URL === undefined)('a fleet of processes on one PostgresKeyStore (needs DATABASE_URL; skipped on PGlite)', () => {
  beforeAll(async () => {
    db = await openTestDatabase();
    mkdirSync(WORK, { recursive: true });
    bundle = join(WORK, 'kv.mjs');
    writeFileSync(join(WORK, 'entry.ts'), `export * from '${resolve('src/index.ts')}';\nexport * from '${resolve('src/postgres/index.ts')}';\n`);
    buildSync({ entryPoints: [join(WORK, 'entry.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, external: ['pg'], logLevel: 'error' });
    child = join(WORK, 'child.mjs');
    writeFileSync(child, CHILD_SCRIPT);
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Forks `count` children, releases them at once, and collects one message from each. */
  async function race(count: number, args: string[]): Promise<unknown[]> {
    const procs = Array.from({ length: count }, (_, i) => fork(child, [bundle, DATABASE_URL!, db.schema, KEK_HEX, String(i), ...args], { execArgv: [], stdio: 'inherit' }));
    try {
      await Promise.all(procs.map((p) => new Promise<void>((res, rej) => {
        p.once('message', () => res());
        p.once('exit', (code) => rej(new Error(`child exited early with ${code}`)));
      })));
      const results = procs.map((p) => new Promise<unknown>((res, rej) => {
        p.once('message', res);
        p.once('exit', (code) => (code === 0 ? undefined : rej(new Error(`child exited with ${code}`))));
      }));
      for (const p of procs) p.send('go');
      return await Promise.all(results);
    } finally {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill();
    }
  }

  it('8 processes creating the same named key at once end with one record, and agree on every ciphertext', async () => {
    const table = db.table('named');
    const reports = (await race(8, ['named', table])) as string[];
    expect(new Set(reports).size).toBe(1); // deterministic: same key → same ciphertext everywhere
    const { rows } = await db.client.query(`SELECT count(*)::int AS n FROM "${db.schema}"."${table}"`);
    expect((rows[0] as { n: number }).n).toBe(1);
  });

  it('4 processes × 10,000 encryptions: at most one DEK record per process, and each decrypts what the others wrote', async () => {
    const table = db.table('bulk');
    const reports = (await race(4, ['bulk', table, '10000'])) as Array<{ decrypted: number; failures: number }>;
    for (const r of reports) expect(r).toEqual({ decrypted: 40_000, failures: 0 });
    const { rows } = await db.client.query(`SELECT kind, count(*)::int AS n FROM "${db.schema}"."${table}" GROUP BY kind`);
    expect(rows).toEqual([{ kind: 'gcm', n: expect.any(Number) }]);
    expect((rows[0] as { n: number }).n).toBeLessThanOrEqual(4);
    // The parent, a fifth process with a cold cache, reads everything too.
    const store = new PostgresKeyStore({ client: db.client, schema: db.schema, table });
    const fields = new FieldEncryptor({ keks: new LocalAesKek({ id: 'fleet-kek', key: Buffer.from(KEK_HEX, 'hex') }), keyStore: store });
    const values = await db.client.query(`SELECT proc, i, ct FROM "${db.schema}"."${table}_values" ORDER BY proc, i LIMIT 500`);
    for (const v of values.rows as Array<{ proc: number; i: number; ct: Uint8Array }>) {
      expect(await fields.decryptText(Buffer.from(v.ct).toString('base64url'), { aad: `values#${v.proc}/${v.i}` })).toBe(`value ${v.proc}/${v.i}`);
    }
  });
});

const CHILD_SCRIPT = `
import { pathToFileURL } from 'node:url';
import pg from 'pg';
const [bundle, url, schema, kekHex, index, mode, table, count] = process.argv.slice(2);
const kv = await import(pathToFileURL(bundle).href);
const pool = new pg.Pool({ connectionString: url, max: 2 });
const store = new kv.PostgresKeyStore({ client: pool, schema, table });
await store.migrate();
const fields = new kv.FieldEncryptor({ keks: new kv.LocalAesKek({ id: 'fleet-kek', key: Buffer.from(kekHex, 'hex') }), keyStore: store });
const values = '"' + schema + '"."' + table + '_values"';
if (mode === 'bulk') await pool.query('CREATE TABLE IF NOT EXISTS ' + values + ' (proc int, i int, ct bytea, PRIMARY KEY (proc, i))').catch(() => undefined);
process.once('message', async () => {
  let out;
  if (mode === 'named') {
    const ct = await fields.encryptDeterministic('ada@example.com', { keyName: 'users.email', aad: 'users.email' });
    out = Buffer.from(ct).toString('hex');
  } else {
    const n = Number(count), me = Number(index);
    for (let start = 0; start < n; start += 1000) {
      const rows = [];
      for (let i = start; i < start + 1000; i++) rows.push([me, i, await fields.encrypt('value ' + me + '/' + i, { aad: 'values#' + me + '/' + i })]);
      await pool.query('INSERT INTO ' + values + ' (proc, i, ct) SELECT * FROM unnest($1::int[], $2::int[], $3::bytea[])', [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => Buffer.from(r[2]))]);
    }
    // Wait until every process has written, then read everything.
    for (;;) {
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM ' + values);
      if (rows[0].n >= n * 4) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    let decrypted = 0, failures = 0;
    const { rows } = await pool.query('SELECT proc, i, ct FROM ' + values);
    for (const r of rows) {
      try {
        const text = new TextDecoder().decode(await fields.decrypt(r.ct, { aad: 'values#' + r.proc + '/' + r.i }));
        if (text === 'value ' + r.proc + '/' + r.i) decrypted++; else failures++;
      } catch { failures++; }
    }
    out = { decrypted, failures };
  }
  await pool.end();
  process.send(out, () => process.exit(0));
});
process.send('ready');
`;
