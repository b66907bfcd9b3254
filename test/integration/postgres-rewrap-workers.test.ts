/**
 * rewrapTable spread over processes (needs a real server: DATABASE_URL): 3 worker processes on
 * 20,000 rows, one SIGKILLed mid-run; the survivors and a rerun finish the table. Nothing is
 * lost or rolled back, every row names the new key version and decrypts, and the vault's own
 * call counter shows unwraps ≤ one per (worker run, distinct DEK).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { KeyClient } from '@azure/keyvault-keys';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeClient, readWrappedKeys } from '../../src/index.js';
import { KeyVaultKek } from '../../src/azure/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { DATABASE_URL, type TestDatabase, openTestDatabase } from '../helpers/database.js';

const ROWS = 20_000;
const DEKS = 100;
const WORK = resolve('node_modules/.cache/kv-envelope-tests', `workers-${process.pid}`);

describe.skipIf(DATABASE_URL === undefined)('rewrapTable with worker processes (needs DATABASE_URL; skipped on PGlite)', () => {
  let db: TestDatabase;
  let vault: LocalKeyVault;
  let bundle: string;
  let child: string;
  let caFile: string;
  beforeAll(async () => {
    db = await openTestDatabase();
    vault = await LocalKeyVault.start({ transport: 'https' });
    mkdirSync(WORK, { recursive: true });
    bundle = join(WORK, 'kv.mjs');
    writeFileSync(join(WORK, 'entry.ts'), `export * from '${resolve('src/postgres/index.ts')}';\nexport * from '${resolve('src/azure/index.ts')}';\n`);
    buildSync({ entryPoints: [join(WORK, 'entry.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, external: ['pg', '@azure/*'], logLevel: 'error' });
    child = join(WORK, 'worker.mjs');
    writeFileSync(child, WORKER_SCRIPT);
    caFile = join(WORK, 'ca.pem');
    writeFileSync(caFile, vault.caPem!);
  });
  afterAll(async () => {
    await vault?.close();
    await db?.close();
  });

  /** Runs one worker; with `killAfter`, SIGKILLs it at that progress line. Resolves with its last JSON line. */
  function worker(table: string, token: string, killAfter?: number): Promise<{ killed: boolean; result?: { rewrapped: number; remaining: number; failed: number } }> {
    return new Promise((res, rej) => {
      const proc = spawn(process.execPath, [child, bundle, DATABASE_URL!, table, vault.url, caFile, token], { stdio: ['ignore', 'pipe', 'inherit'] });
      const out: { killed: boolean; result?: { rewrapped: number; remaining: number; failed: number } } = { killed: false };
      let lines = 0;
      createInterface({ input: proc.stdout }).on('line', (line) => {
        const msg = JSON.parse(line) as { progress?: unknown; result?: { rewrapped: number; remaining: number; failed: number } };
        if (msg.progress !== undefined && killAfter !== undefined && ++lines >= killAfter && !out.killed) out.killed = proc.kill('SIGKILL');
        if (msg.result !== undefined) out.result = msg.result;
      });
      proc.once('error', rej);
      proc.once('exit', (code, signal) => (signal === 'SIGKILL' || code === 0 ? res(out) : rej(new Error(`worker exited with ${code ?? signal}`))));
    });
  }

  it(`3 workers on ${ROWS.toLocaleString('en')} rows, one killed mid-run, then a rerun: every row re-wrapped once, nothing lost`, async () => {
    const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    await keys.createRsaKey('table-kek', { keySize: 2048 });
    const kek = new KeyVaultKek({ vaultUrl: vault.url, keyName: 'table-kek', credential: vault.credential(), clientOptions: vault.clientOptions });
    const writer = new EnvelopeClient({ keks: kek, cache: { maxMessages: ROWS / DEKS } });
    const table = `${db.schema}.${db.table('workers')}`;
    const quoted = `"${table.replace('.', '"."')}"`;
    await db.client.query(`CREATE TABLE ${quoted} (id bigint PRIMARY KEY, body bytea NOT NULL)`);
    const plain = (i: number): Uint8Array => new Uint8Array(randomBytes(8 + (i % 1000)));
    const expected = new Map<number, Buffer>();
    for (let start = 0; start < ROWS; start += 1000) {
      const ids: number[] = [];
      const bodies: Buffer[] = [];
      for (let i = start; i < start + 1000; i++) {
        const p = plain(i);
        expected.set(i, Buffer.from(p));
        ids.push(i);
        bodies.push(Buffer.from(await writer.encrypt(p)));
      }
      await db.client.query(`INSERT INTO ${quoted} (id, body) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, [ids, bodies]);
    }
    await keys.rotateKey('table-kek');
    const token = (await vault.credential().getToken('https://vault.azure.net/.default'))!.token;
    const before = vault.stats.byOperation.unwrapKey ?? 0;

    const runs = await Promise.all([worker(table, token, 3), worker(table, token), worker(table, token)]);
    expect(runs[0]!.killed).toBe(true);
    const finisher = await worker(table, token);
    expect(finisher.result?.remaining).toBe(0);
    expect(finisher.result?.failed).toBe(0);

    const unwraps = (vault.stats.byOperation.unwrapKey ?? 0) - before;
    expect(unwraps).toBeGreaterThanOrEqual(DEKS);
    expect(unwraps).toBeLessThanOrEqual(4 * DEKS); // ≤ one per (worker run, distinct DEK)
    const newKid = await kek.refresh();
    const reader = new EnvelopeClient({ keks: kek });
    const { rows } = await db.client.query(`SELECT id::int AS id, body FROM ${quoted}`);
    expect(rows).toHaveLength(ROWS);
    for (const row of rows as Array<{ id: number; body: Uint8Array }>) {
      expect(readWrappedKeys(row.body)[0]!.kekId).toBe(newKid);
      expect(Buffer.from((await reader.decrypt(row.body)).plaintext).equals(expected.get(row.id)!)).toBe(true);
    }
    console.log(`rewrapTable workers: ${ROWS} rows, ${DEKS} DEKs, unwrapKey calls ${unwraps}, worker results`, runs.map((r) => r.result ?? 'killed'), finisher.result);
  });
});

const WORKER_SCRIPT = `
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
const [bundle, url, table, vaultUrl, caFile, token] = process.argv.slice(2);
const kv = await import(pathToFileURL(bundle).href);
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_000_000 }) };
const clientOptions = { tlsOptions: { ca: readFileSync(caFile, 'utf8') }, disableChallengeResourceVerification: true };
const kek = new kv.KeyVaultKek({ vaultUrl, keyName: 'table-kek', credential, clientOptions });
const pool = new pg.Pool({ connectionString: url, max: 2 });
const result = await kv.rewrapTable({
  client: pool, table, idColumn: 'id', columns: ['body'], to: kek, batchSize: 250, progressIntervalMs: 1,
  onProgress: (p) => process.stdout.write(JSON.stringify({ progress: p }) + '\\n'),
});
process.stdout.write(JSON.stringify({ result: { rewrapped: result.rewrapped, remaining: result.remaining, failed: result.failed.length } }) + '\\n');
await pool.end();
`;
