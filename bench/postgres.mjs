// kv-envelope on PostgreSQL: the BUILT package (../dist) against plaintext, in one process, in
// interleaved rounds, on the real server (DATABASE_URL; PGlite when unset: the distributed
// re-wrap is then skipped). The bench makes its own schema (kvbench_<pid>) and drops it.
//
//   npm run bench:postgres                                   (root: builds, then runs this)
//   npm run bench:postgres -- --rows 0 --rewrap-rows 1000000 (only the 1M-row re-wrap)
//   node bench/postgres.mjs --rows=100000 --rounds=10 --batch=100 --statement=values --crypto=inline
//        --lookups=2000 --rewrap-rows=1000000 --deks=100 --workers=1,2,4 --rewrap-batch=500 --json=path
//
// Options take `--name=value` or `--name value`. --rows 0 skips insert/select/lookup;
// --rewrap-rows 0 skips the re-wrap. What each part measures: bench/postgres-rows.mjs and
// bench/postgres-rewrap.mjs.
import { existsSync, writeFileSync } from 'node:fs';
import { CONTENDED_CORES, environment, fmtCores } from './lib.mjs';
import { insertSelect } from './postgres-rows.mjs';
import { distributedRewrap } from './postgres-rewrap.mjs';

const opts = {
  rows: 100_000, rounds: 10, batch: 100, statement: 'values', crypto: 'inline', poolWorkers: 2, lookups: 2000,
  rewrapRows: 1_000_000, deks: 100, workers: '1,2,4', rewrapBatch: 500, json: undefined,
};
const STRINGS = new Set(['statement', 'crypto', 'workers', 'json']);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--help' || a === '-h') usage(0);
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
  if (m === null) usage(2);
  const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  const v = m[2] ?? argv[++i];
  if (!(key in opts) || v === undefined) usage(2);
  opts[key] = STRINGS.has(key) ? v : Number(v);
  if (!STRINGS.has(key) && !Number.isInteger(opts[key])) usage(2);
}
if (!['unnest', 'values'].includes(opts.statement) || !['inline', 'pool'].includes(opts.crypto)) usage(2);

function usage(code) {
  console.log('options: --rows 100000 --rounds 10 --batch 100 --statement values|unnest --crypto inline|pool --pool-workers 2 --lookups 2000 ' +
    '--rewrap-rows 1000000 --deks 100 --workers 1,2,4 --rewrap-batch 500 --json path   (--rows 0 / --rewrap-rows 0 skip a part)');
  process.exit(code);
}

const dist = new URL('../dist/', import.meta.url);
if (!existsSync(new URL('postgres.js', dist))) {
  console.error('bench: dist/postgres.js not found. Run `npm run build` first (npm run bench:postgres does).');
  process.exit(2);
}
const kv = await import(new URL('index.js', dist).href);
const pg = await import(new URL('postgres.js', dist).href);
const azure = await import(new URL('azure.js', dist).href);
const localVault = await import(new URL('local-vault.js', dist).href);

const url = process.env.DATABASE_URL;
const db = url
  ? new (await import('pg')).default.Pool({ connectionString: url, max: 4 })
  : new (await import('@electric-sql/pglite')).PGlite();
const schema = `kvbench_${process.pid}`;
const env = await environment();
console.log(`node ${env.node} (OpenSSL ${env.openssl}) · ${env.cpu} · ${env.cores} cores · commit ${env.git.commit}${env.git.srcDirty ? ' + uncommitted src/ changes' : ''}`);
console.log(`load average at start: ${env.loadAverageAtStart.join(' ')}; CPU used by other processes at start: ${fmtCores(env.otherCoresAtStart)}` +
  `${env.otherCoresAtStart > CONTENDED_CORES ? ' (contended: the database server and this client share these cores with them)' : ''}`);
const results = { environment: env, database: url ? 'postgres' : 'pglite', options: opts };
await db.query(`CREATE SCHEMA ${schema}`);
try {
  if (opts.rows > 0) await insertSelect({ db, schema, kv, pg, opts, results });
  if (opts.rewrapRows > 0 && url) await distributedRewrap({ db, schema, kv, azure, localVault, url, dist, opts, results });
  else if (opts.rewrapRows > 0) console.log('\n(distributed re-wrap needs a real server: set DATABASE_URL)');
} finally {
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end?.();
  await db.close?.();
}
console.log(`\nload average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
