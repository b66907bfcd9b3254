// Distributed re-wrap of bench/postgres.mjs (real server only): --rewrap-rows rows of 1 KiB
// envelopes under --deks DEKs (an EnvelopeClient that moves to a new DEK every rows/deks
// messages, so each DEK's rows are consecutive ids, as a writer leaves them), KEK = an RSA key
// of the local Key Vault over HTTPS in this process. For each worker count: rotate the key, run
// that many worker processes of rewrapTable at once, time them, and read the vault's own
// unwrapKey counter. Every row is a distinct real envelope; the table is checked after each run
// (no row left under an old version) and fully decrypted after the last one.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyClient } from '@azure/keyvault-keys';
import { markdownTable } from './lib.mjs';
import { fmt } from './postgres-rows.mjs';

const WORKER = `
import { readFileSync } from 'node:fs';
import pg from 'pg';
const [dist, url, table, vaultUrl, caFile, token, batchSize] = process.argv.slice(2);
const { rewrapTable } = await import(new URL('postgres.js', 'file://' + dist).href);
const { KeyVaultKek } = await import(new URL('azure.js', 'file://' + dist).href);
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_000_000 }) };
const kek = new KeyVaultKek({ vaultUrl, keyName: 'bench-kek', credential, clientOptions: { tlsOptions: { ca: readFileSync(caFile, 'utf8') }, disableChallengeResourceVerification: true } });
const pool = new pg.Pool({ connectionString: url, max: 2 });
const r = await rewrapTable({ client: pool, table, idColumn: 'id', columns: ['body'], to: kek, batchSize: Number(batchSize) });
await pool.end();
process.stdout.write(JSON.stringify({ rewrapped: r.rewrapped, skipped: r.skipped, failed: r.failed.length, batches: r.batches, remaining: r.remaining }));
`;

export async function distributedRewrap({ db, schema, kv, azure, localVault, url, dist, opts, results }) {
  const { KeyVaultKek } = azure;
  const vault = await localVault.LocalKeyVault.start({ transport: 'https' });
  const table = `${schema}.docs`;
  try {
    const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    await keys.createRsaKey('bench-kek', { keySize: 2048 });
    const kek = new KeyVaultKek({ vaultUrl: vault.url, keyName: 'bench-kek', credential: vault.credential(), clientOptions: vault.clientOptions });
    const perDek = Math.ceil(opts.rewrapRows / opts.deks);
    const writer = new kv.EnvelopeClient({ keks: kek, cache: { maxMessages: perDek, maxAgeMs: 24 * 3600_000 } });
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, body bytea NOT NULL)`);
    // Seeding: real, distinct envelopes (one encrypt each), 1,000 rows per INSERT … VALUES with
    // one binary bytea parameter per row; the next batch is encrypted while the INSERT runs.
    const seedStart = performance.now();
    const payload = randomBytes(1024);
    const SEED_BATCH = 1000;
    let pending;
    for (let start = 0; start < opts.rewrapRows; start += SEED_BATCH) {
      const n = Math.min(SEED_BATCH, opts.rewrapRows - start);
      const values = [];
      const params = [];
      for (let i = 0; i < n; i++) {
        values.push(`($${2 * i + 1}::bigint, $${2 * i + 2}::bytea)`);
        const env = await writer.encrypt(payload);
        params.push(start + i, Buffer.from(env.buffer, env.byteOffset, env.byteLength));
      }
      await pending;
      pending = db.query(`INSERT INTO ${table} VALUES ${values.join(', ')}`, params);
    }
    await pending;
    await db.query(`ANALYZE ${table}`);
    const seedSecs = (performance.now() - seedStart) / 1000;
    const { rows: [size] } = await db.query(`SELECT pg_size_pretty(pg_total_relation_size('${table}')) AS size, avg(length(body))::int AS bytes FROM ${table}`);
    console.log(`\nre-wrap: seeded ${opts.rewrapRows.toLocaleString('en')} rows (envelopes of ${size.bytes} bytes, 1 KiB payload) in ${seedSecs.toFixed(1)} s; table ${size.size}; ` +
      `${await wrappedForms(db, table)} distinct wrapped DEKs (vault wrapKey calls: ${vault.stats.byOperation.wrapKey ?? 0}, RSA wraps are local)`);

    const work = join(fileURLToPath(new URL('.', import.meta.url)), 'node_modules', '.kv-bench');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'ca.pem'), vault.caPem);
    writeFileSync(join(work, 'worker.mjs'), WORKER);
    const token = (await vault.credential().getToken('https://vault.azure.net/.default')).token;
    const rows = [];
    for (const n of opts.workers.split(',').map(Number)) {
      await keys.rotateKey('bench-kek');
      const target = await kek.refresh();
      const forms = await wrappedForms(db, table);
      const before = vault.stats.byOperation.unwrapKey ?? 0;
      const start = performance.now();
      const outs = await Promise.all(Array.from({ length: n }, () => run(work, dist, url, table, vault.url, token, opts.rewrapBatch)));
      const secs = (performance.now() - start) / 1000;
      const unwraps = (vault.stats.byOperation.unwrapKey ?? 0) - before;
      const done = outs.reduce((s, o) => s + o.rewrapped, 0);
      const failed = outs.reduce((s, o) => s + o.failed, 0);
      const remaining = Math.min(...outs.map((o) => o.remaining));
      // Independent check: every row names the new version.
      const { rows: [{ stale }] } = await db.query(`SELECT count(*)::int AS stale FROM ${table} WHERE position($1::bytea in body) = 0`, [Buffer.from(target)]);
      if (done !== opts.rewrapRows || remaining !== 0 || failed !== 0 || stale !== 0) throw new Error(`bench: ${n} workers re-wrapped ${done} rows, ${remaining} left, ${failed} failed, ${stale} not under ${target}`);
      const bound = n * opts.deks;
      console.log(`  ${n} worker(s): ${fmt(done / secs)} rows/s, ${secs.toFixed(1)} s, ${unwraps} vault unwraps (bound ${n} × ${opts.deks} DEKs = ${bound}: ${unwraps <= bound ? 'holds' : 'BROKEN'}); ` +
        `table had ${forms} wrapped forms of its ${opts.deks} DEKs; rows per worker ${outs.map((o) => o.rewrapped).join(' / ')}`);
      rows.push([String(n), `${fmt(done / secs)} rows/s`, `${secs.toFixed(1)} s`, String(unwraps), `${(unwraps / opts.deks).toFixed(2)}`, `≤ ${bound}`, String(forms)]);
    }
    await verifyAll(db, table, kv, kek, payload, opts.rewrapRows);
    console.log(`\nre-wrap of ${opts.rewrapRows.toLocaleString('en')} rows × 1 KiB envelopes under ${opts.deks} DEKs, batches of ${opts.rewrapBatch}, worker processes at once (each run after a key rotation; every row re-wrapped, checked, and all decrypted at the end)`);
    console.log(markdownTable(['workers', 'rate', 'time', 'vault unwrapKey', 'per DEK', 'bound (workers × DEKs)', 'wrapped forms before'], rows, ['r', 'r', 'r', 'r', 'r', 'r', 'r']));
    results.rewrap = { seedSecs, rows };
  } finally {
    await vault.close();
  }
}

/** Distinct wrapped-key sections in the table (the section starts at byte 35 and has one size per run). */
async function wrappedForms(db, table) {
  const { rows: [{ n }] } = await db.query(`SELECT count(DISTINCT substring(body from 35 for 300))::int AS n FROM ${table}`);
  return n;
}

/** Decrypts every row with a fresh reader (KEK only) and compares it with the payload. */
async function verifyAll(db, table, kv, kek, payload, total) {
  const reader = new kv.EnvelopeClient({ keks: kek });
  const start = performance.now();
  let seen = 0;
  for (let from = 0; from < total; from += 5000) {
    const { rows } = await db.query(`SELECT id, body FROM ${table} WHERE id >= $1 AND id < $2`, [from, from + 5000]);
    for (const r of rows) {
      if (!Buffer.from((await reader.decrypt(r.body)).plaintext).equals(payload)) throw new Error(`bench: row ${r.id} does not decrypt to its payload`);
    }
    seen += rows.length;
  }
  if (seen !== total) throw new Error(`bench: ${seen} rows decrypted, expected ${total}`);
  console.log(`  verified: all ${seen.toLocaleString('en')} rows decrypt to their payload under the last key version (${((performance.now() - start) / 1000).toFixed(1)} s)`);
}

function run(work, dist, url, table, vaultUrl, token, batch) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(work, 'worker.mjs'), fileURLToPath(dist), url, table, vaultUrl, join(work, 'ca.pem'), token, String(batch)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))));
  });
}
