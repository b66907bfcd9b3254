// kv-envelope on PostgreSQL: the BUILT package (../dist) against plaintext, in one process, in
// interleaved rounds, on the real server (DATABASE_URL; PGlite when unset: the distributed part
// is then skipped).
//
//   npm run bench:postgres                      (root: builds, then runs this)
//   node bench/postgres.mjs --rows=100000 --rounds=5 --batch=100 --lookups=2000 --rewrap-rows=1000000 --deks=100 --workers=1,2,4
//
// 1. Insert and select N rows with three encrypted columns (ssn, email, phone: FieldEncryptor,
//    randomized, bound to the row) and one blind index (email), versus the same table in
//    plaintext with a B-tree index on email. Batches of --batch rows per statement, pipelined
//    (the next batch is prepared while the previous statement runs) for both contestants.
// 2. Equality lookup: the blind index (index lookup + decrypt the bucket + compare) versus a
//    plaintext indexed lookup; p50 and p90 of --lookups lookups, interleaved.
// 3. Distributed re-wrap (real server only): --rewrap-rows rows of 1 KiB envelopes under --deks
//    DEKs, KeyVaultKek on the local Key Vault over HTTPS in this process; for each worker count,
//    rotate the key and run that many worker processes of rewrapTable; rows/s and vault unwraps.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KeyClient } from '@azure/keyvault-keys';
import { environment, markdownTable } from './lib.mjs';

const WORKER = `
import { readFileSync } from 'node:fs';
import pg from 'pg';
const [dist, url, table, vaultUrl, caFile, token] = process.argv.slice(2);
const { rewrapTable } = await import(new URL('postgres.js', 'file://' + dist).href);
const { KeyVaultKek } = await import(new URL('azure.js', 'file://' + dist).href);
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_000_000 }) };
const kek = new KeyVaultKek({ vaultUrl, keyName: 'bench-kek', credential, clientOptions: { tlsOptions: { ca: readFileSync(caFile, 'utf8') }, disableChallengeResourceVerification: true } });
const pool = new pg.Pool({ connectionString: url, max: 2 });
const r = await rewrapTable({ client: pool, table, idColumn: 'id', columns: ['body'], to: kek, batchSize: 500 });
await pool.end();
process.stdout.write(JSON.stringify({ rewrapped: r.rewrapped, remaining: r.remaining }));
`;

const opts = { rows: 100_000, rounds: 5, batch: 100, lookups: 2000, rewrapRows: 1_000_000, deks: 100, workers: '1,2,4', json: undefined };
for (const a of process.argv.slice(2)) {
  const [k, v] = a.replace(/^--/, '').split('=');
  const key = k.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (a === '--help' || !(key in opts) || v === undefined) {
    console.log('options: --rows=100000 --rounds=5 --batch=100 --lookups=2000 --rewrap-rows=1000000 --deks=100 --workers=1,2,4 --json=path');
    process.exit(a === '--help' ? 0 : 2);
  }
  opts[key] = key === 'workers' || key === 'json' ? v : Number(v);
}
const dist = new URL('../dist/', import.meta.url);
if (!existsSync(new URL('postgres.js', dist))) {
  console.error('bench: dist/postgres.js not found. Run `npm run build` first (npm run bench:postgres does).');
  process.exit(2);
}
const kv = await import(new URL('index.js', dist).href);
const { PostgresKeyStore, rewrapTable } = await import(new URL('postgres.js', dist).href);
const { KeyVaultKek } = await import(new URL('azure.js', dist).href);
const { LocalKeyVault } = await import(new URL('local-vault.js', dist).href);

const url = process.env.DATABASE_URL;
const pg = (await import('pg')).default;
const db = url ? new pg.Pool({ connectionString: url, max: 4 }) : new (await import('@electric-sql/pglite')).PGlite();
const schema = `kvbench_${process.pid}`;
await db.query(`CREATE SCHEMA ${schema}`);
const results = { environment: environment(), database: url ? 'postgres' : 'pglite', options: opts };
try {
  await insertSelect();
  if (url) await distributedRewrap();
  else console.log('\n(distributed re-wrap needs a real server: set DATABASE_URL)');
} finally {
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end?.();
  await db.close?.();
}
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);

async function insertSelect() {
  const store = new PostgresKeyStore({ client: db, schema, table: 'dek_records' });
  await store.migrate();
  const fields = new kv.FieldEncryptor({ keks: new kv.LocalAesKek({ id: 'bench-kek', key: randomBytes(32) }), keyStore: store });
  const index = { name: 'people.email', bits: kv.planBlindIndex({ rows: opts.rows, distinctValues: opts.rows }).bits, transform: ['trim', 'lowercase'] };
  await db.query(`CREATE TABLE ${schema}.plain (id uuid PRIMARY KEY, ssn text, email text, phone text)`);
  await db.query(`CREATE INDEX ON ${schema}.plain (email)`);
  await db.query(`CREATE TABLE ${schema}.enc (id uuid PRIMARY KEY, ssn bytea, email bytea, phone bytea, email_bidx integer)`);
  await db.query(`CREATE INDEX ON ${schema}.enc (email_bidx)`);
  const person = (i) => ({ id: randomUUID(), ssn: `078-05-${String(i % 10000).padStart(4, '0')}`, email: `person${i}@example.com`, phone: `+1 555 ${String(i).padStart(7, '0')}` });
  const people = Array.from({ length: opts.rows }, (_, i) => person(i));
  const perRound = Math.ceil(opts.rows / opts.rounds);
  const t = { plainInsert: 0, encInsert: 0, plainSelect: 0, encSelect: 0 };
  // Correctness first: one encrypted row round trips.
  const check = people[0];
  for (let r = 0; r < opts.rounds; r++) {
    const slice = people.slice(r * perRound, (r + 1) * perRound);
    const order = r % 2 === 0 ? ['plain', 'enc'] : ['enc', 'plain'];
    for (const which of order) {
      // Pipelined like a real loader: the next batch is prepared while the previous INSERT runs.
      const start = performance.now();
      let pending;
      for (let b = 0; b < slice.length; b += opts.batch) {
        const rows = slice.slice(b, b + opts.batch);
        let statement;
        if (which === 'plain') {
          statement = [`INSERT INTO ${schema}.plain SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])`, [rows.map((p) => p.id), rows.map((p) => p.ssn), rows.map((p) => p.email), rows.map((p) => p.phone)]];
        } else {
          const ssn = [], email = [], phone = [], bidx = [];
          for (const p of rows) {
            ssn.push(await fields.encrypt(p.ssn, { aad: `people.ssn#${p.id}` }));
            email.push(await fields.encrypt(p.email, { aad: `people.email#${p.id}` }));
            phone.push(await fields.encrypt(p.phone, { aad: `people.phone#${p.id}` }));
            bidx.push(await fields.blindIndex(p.email, index));
          }
          statement = [`INSERT INTO ${schema}.enc SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[], $5::int[])`, [rows.map((p) => p.id), ssn, email, phone, bidx]];
        }
        await pending;
        pending = db.query(...statement);
      }
      await pending;
      t[`${which}Insert`] += performance.now() - start;
    }
    for (const which of order) {
      // Pipelined: the next batch is fetched while this one is decrypted.
      const start = performance.now();
      const fetch = (b) => (b < slice.length ? db.query(`SELECT * FROM ${schema}.${which} WHERE id = ANY($1::uuid[])`, [slice.slice(b, b + opts.batch).map((p) => p.id)]) : undefined);
      let next = fetch(0);
      for (let b = 0; b < slice.length; b += opts.batch) {
        const { rows } = await next;
        next = fetch(b + opts.batch);
        if (which === 'enc') {
          for (const row of rows) {
            await fields.decrypt(row.ssn, { aad: `people.ssn#${row.id}` });
            await fields.decrypt(row.email, { aad: `people.email#${row.id}` });
            await fields.decrypt(row.phone, { aad: `people.phone#${row.id}` });
          }
        }
      }
      t[`${which}Select`] += performance.now() - start;
    }
  }
  const { rows: [row] } = await db.query(`SELECT * FROM ${schema}.enc WHERE id = $1`, [check.id]);
  if (new TextDecoder().decode(await fields.decrypt(row.email, { aad: `people.email#${check.id}` })) !== check.email) throw new Error('bench: encrypted round trip disagrees');

  // Lookups, interleaved one by one.
  const plainMs = [], encMs = [];
  for (let i = 0; i < opts.lookups; i++) {
    const p = people[(i * 7919) % people.length];
    const a = performance.now();
    const { rows: pr } = await db.query(`SELECT * FROM ${schema}.plain WHERE email = $1`, [p.email]);
    const b = performance.now();
    const { rows: er } = await db.query(`SELECT * FROM ${schema}.enc WHERE email_bidx = $1`, [await fields.blindIndex(p.email, index)]);
    let hits = 0;
    for (const r of er) if (new TextDecoder().decode(await fields.decrypt(r.email, { aad: `people.email#${r.id}` })) === p.email) hits++;
    const c = performance.now();
    if (pr.length !== 1 || hits !== 1) throw new Error('bench: lookups disagree');
    plainMs.push(b - a);
    encMs.push(c - b);
  }
  const q = (xs, f) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length * f)];
  const rate = (ms) => opts.rows / (ms / 1000);
  const table = [
    ['insert 3 encrypted columns + blind index', `${fmt(rate(t.encInsert))} rows/s`, `${fmt(rate(t.plainInsert))} rows/s`, `${(t.plainInsert / t.encInsert).toFixed(2)}x`, '≥ 0.7x'],
    ['select + decrypt 3 columns', `${fmt(rate(t.encSelect))} rows/s`, `${fmt(rate(t.plainSelect))} rows/s`, `${(t.plainSelect / t.encSelect).toFixed(2)}x`, '≥ 0.7x'],
    ['equality lookup p50 (blind index + decrypt)', `${q(encMs, 0.5).toFixed(3)} ms`, `${q(plainMs, 0.5).toFixed(3)} ms`, `${(q(encMs, 0.5) / q(plainMs, 0.5)).toFixed(2)}x time`, '≤ 1.3x'],
    ['equality lookup p90', `${q(encMs, 0.9).toFixed(3)} ms`, `${q(plainMs, 0.9).toFixed(3)} ms`, `${(q(encMs, 0.9) / q(plainMs, 0.9)).toFixed(2)}x time`, ''],
  ];
  console.log(`\n${opts.rows.toLocaleString('en')} rows, batches of ${opts.batch}, ${opts.rounds} interleaved rounds, ${results.database}; blind index ${index.bits} bits\n`);
  console.log(markdownTable(['case', 'encrypted', 'plaintext', 'ratio', 'target'], table, ['l', 'r', 'r', 'r', 'l']));
  results.insertSelect = { ms: t, lookupP50: { enc: q(encMs, 0.5), plain: q(plainMs, 0.5) }, table };
}

async function distributedRewrap() {
  const vault = await LocalKeyVault.start({ transport: 'https' });
  try {
    const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    await keys.createRsaKey('bench-kek', { keySize: 2048 });
    const kek = new KeyVaultKek({ vaultUrl: vault.url, keyName: 'bench-kek', credential: vault.credential(), clientOptions: vault.clientOptions });
    const writer = new kv.EnvelopeClient({ keks: kek, cache: { maxMessages: Math.ceil(opts.rewrapRows / opts.deks) } });
    await db.query(`CREATE TABLE ${schema}.docs (id bigint PRIMARY KEY, body bytea NOT NULL)`);
    const seedStart = performance.now();
    const payload = randomBytes(1024);
    for (let start = 0; start < opts.rewrapRows; start += 2000) {
      const ids = [], bodies = [];
      for (let i = start; i < Math.min(start + 2000, opts.rewrapRows); i++) {
        ids.push(i);
        bodies.push(Buffer.from(await writer.encrypt(payload)));
      }
      await db.query(`INSERT INTO ${schema}.docs SELECT * FROM unnest($1::bigint[], $2::bytea[])`, [ids, bodies]);
    }
    console.log(`\nseeded ${opts.rewrapRows.toLocaleString('en')} rows × 1 KiB envelopes under ${opts.deks} DEKs in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    const work = join(new URL('.', import.meta.url).pathname, 'node_modules', '.kv-bench');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'ca.pem'), vault.caPem);
    writeFileSync(join(work, 'worker.mjs'), WORKER);
    const token = (await vault.credential().getToken('https://vault.azure.net/.default')).token;
    const rows = [];
    for (const n of opts.workers.split(',').map(Number)) {
      await keys.rotateKey('bench-kek');
      const before = vault.stats.byOperation.unwrapKey ?? 0;
      const start = performance.now();
      const outs = await Promise.all(Array.from({ length: n }, () => run(work, token, vault.url)));
      const secs = (performance.now() - start) / 1000;
      const unwraps = (vault.stats.byOperation.unwrapKey ?? 0) - before;
      console.log(`  ${n} workers: vault responses by status so far ${JSON.stringify(vault.stats.byStatus)}`);
      const done = outs.reduce((s, o) => s + o.rewrapped, 0);
      const remaining = Math.min(...outs.map((o) => o.remaining));
      if (done !== opts.rewrapRows || remaining !== 0) throw new Error(`bench: ${n} workers re-wrapped ${done} rows, ${remaining} left`);
      rows.push([String(n), `${fmt(done / secs)} rows/s`, `${secs.toFixed(1)} s`, String(unwraps), `${(unwraps / opts.deks).toFixed(2)} per DEK`]);
    }
    console.log(markdownTable(['workers', 'rate', 'time', 'vault unwrapKey', 'unwraps'], rows, ['r', 'r', 'r', 'r', 'r']));
    results.rewrap = rows;
  } finally {
    await vault.close();
  }
}

function run(work, token, vaultUrl) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(work, 'worker.mjs'), dist.pathname, url, `${schema}.docs`, vaultUrl, join(work, 'ca.pem'), token], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))));
  });
}

function fmt(n) {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
}

