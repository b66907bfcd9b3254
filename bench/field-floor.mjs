// Field encrypt/decrypt of 100 B against "the floor": createCipheriv + setAAD + update + final +
// getAuthTag (decrypt: createDecipheriv + setAuthTag + setAAD + update + final) with the same AAD
// and nothing else. One process, interleaved rounds, median of the per-round ratios (issue 8).
//
//   npm run build && node bench/field-floor.mjs [rounds=61] [opsPerBatch=5000]
//
// KV_ENTRY=/path/to/index.js measures another build (e.g. an esbuild bundle of src/);
// KV_BASELINE=/path/to/index.js adds that build's field encryptor as a contestant (before/after).
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full GC before each batch, so no batch pays for garbage another contestant left behind.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const entry = process.env.KV_ENTRY ?? new URL('../dist/index.js', import.meta.url).pathname;
if (!existsSync(entry)) {
  console.error(`field-floor: ${entry} not found; run \`npm run build\` first`);
  process.exit(2);
}
const kv = await import(pathToFileURL(entry).href);

const ROUNDS = Number(process.argv[2] ?? 61);
const OPS = Number(process.argv[3] ?? 5_000);
const SIZE = 100;
const ROW_AAD = 'users.ssn#42';

const kek = new kv.LocalAesKek({ id: 'bench/aes/1', key: crypto.getRandomValues(new Uint8Array(32)) });
const fields = new kv.FieldEncryptor({ keks: kek, keyStore: new kv.MemoryKeyStore() });
const pt = crypto.getRandomValues(new Uint8Array(SIZE));
const ct = await fields.encrypt(pt, { aad: ROW_AAD });
let baseline;
if (process.env.KV_BASELINE !== undefined) {
  const old = await import(pathToFileURL(process.env.KV_BASELINE).href);
  const fieldsBefore = new old.FieldEncryptor({ keks: new old.LocalAesKek({ id: 'bench/aes/0', key: crypto.getRandomValues(new Uint8Array(32)) }), keyStore: new old.MemoryKeyStore() });
  baseline = { fields: fieldsBefore, ct: await fieldsBefore.encrypt(pt, { aad: ROW_AAD }) };
}

// The floor uses the same key length, nonce size and AAD bytes as the field format (prefix ‖ row label).
const key = crypto.getRandomValues(new Uint8Array(32));
const nonce = crypto.getRandomValues(new Uint8Array(12));
const aad = Buffer.concat([ct.subarray(0, 9), Buffer.from(ROW_AAD)]);
function floorSeal() {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const body = c.update(pt);
  c.final();
  return [body, c.getAuthTag()];
}
const [floorBody, floorTag] = floorSeal();
function floorOpen() {
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  d.setAuthTag(floorTag);
  d.setAAD(aad);
  const out = d.update(floorBody);
  d.final();
  return out;
}

// A reference, not a target: the least an async API that takes the AAD as a string must add to
// the floor (an await, a random nonce from a pool, the AAD encoded into a reused buffer, the
// output assembled, the input sliced). It shows how much of the gap is the API's shape.
let pool = new Uint8Array(0);
let poolOffset = 0;
const scratch = Buffer.allocUnsafe(9 + 4096);
const GCM = { authTagLength: 16 };
async function minimumSeal(plaintext, opts) {
  if (poolOffset + 12 > pool.length) [pool, poolOffset] = [randomFillSync(new Uint8Array(4096)), 0];
  const iv = pool.subarray(poolOffset, (poolOffset += 12));
  scratch.set(ct.subarray(0, 9), 0);
  const n = scratch.write(opts.aad, 9, 'utf8');
  const c = createCipheriv('aes-256-gcm', key, iv, GCM);
  c.setAAD(scratch.subarray(0, 9 + n));
  const out = new Uint8Array(21 + plaintext.length + 16);
  out.set(scratch.subarray(0, 9), 0);
  out.set(iv, 9);
  out.set(c.update(plaintext), 21);
  c.final();
  out.set(c.getAuthTag(), 21 + plaintext.length);
  return out;
}
const minimumCt = await minimumSeal(pt, { aad: ROW_AAD });
async function minimumOpen(c, opts) {
  for (let i = 0; i < 9; i++) scratch[i] = c[i];
  const n = scratch.write(opts.aad, 9, 'utf8');
  const end = c.length - 16;
  const d = createDecipheriv('aes-256-gcm', key, c.subarray(9, 21), GCM);
  d.setAuthTag(c.subarray(end));
  d.setAAD(scratch.subarray(0, 9 + n));
  const out = d.update(c.subarray(21, end));
  d.final();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

// Agreement before timing: every contestant round-trips, and kv refuses a wrong AAD.
if (Buffer.compare(floorOpen(), pt) !== 0) throw new Error('floor does not round-trip');
if (Buffer.compare(await minimumOpen(minimumCt, { aad: ROW_AAD }), pt) !== 0) throw new Error('reference does not round-trip');
if (Buffer.compare(await fields.decrypt(ct, { aad: ROW_AAD }), pt) !== 0) throw new Error('field does not round-trip');
if ((await fields.decrypt(ct, { aad: 'users.ssn#43' }).catch((e) => e.code)) !== 'ERR_DECRYPTION_FAILED') throw new Error('field accepted a wrong aad');

// Ops per second of this process's CPU time (user + system), not wall time: on a shared machine
// other processes' load then moves both contestants alike instead of whichever ran when it hit.
async function time(fn, isAsync) {
  gc();
  const t0 = process.cpuUsage();
  if (isAsync) for (let i = 0; i < OPS; i++) await fn();
  else for (let i = 0; i < OPS; i++) fn();
  const t = process.cpuUsage(t0);
  return OPS / ((t.user + t.system) / 1e6);
}

const contestants = {
  'field encrypt': [() => fields.encrypt(pt, { aad: ROW_AAD }), true],
  'floor encrypt': [floorSeal, false],
  'field decrypt': [() => fields.decrypt(ct, { aad: ROW_AAD }), true],
  'floor decrypt': [floorOpen, false],
  'minimum encrypt': [() => minimumSeal(pt, { aad: ROW_AAD }), true],
  'minimum decrypt': [() => minimumOpen(minimumCt, { aad: ROW_AAD }), true],
};
if (baseline !== undefined) {
  contestants['baseline encrypt'] = [() => baseline.fields.encrypt(pt, { aad: ROW_AAD }), true];
  contestants['baseline decrypt'] = [() => baseline.fields.decrypt(baseline.ct, { aad: ROW_AAD }), true];
}
for (const [fn, isAsync] of Object.values(contestants)) await time(fn, isAsync); // warm-up

// Each ratio comes from one adjacent pair (contestant, floor), the pair's order alternating, so a
// burst of load from other processes hits both sides of a ratio rather than one. Median and
// interquartile range of the per-pair ratios.
const pairs = [
  ['field encrypt', 'floor encrypt'], ['field decrypt', 'floor decrypt'],
  ['minimum encrypt', 'floor encrypt'], ['minimum decrypt', 'floor decrypt'],
  ...(baseline === undefined ? [] : [['baseline encrypt', 'floor encrypt'], ['baseline decrypt', 'floor decrypt']]),
];
const ratios = Object.fromEntries(pairs.map(([name]) => [name, []]));
const rates = Object.fromEntries(Object.keys(contestants).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, floor] of pairs) {
    const order = r % 2 === 0 ? [name, floor] : [floor, name];
    const rate = {};
    for (const n of order) rates[n].push((rate[n] = await time(...contestants[n])));
    ratios[name].push(rate[name] / rate[floor]);
  }
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const quartiles = (xs) => [sorted(xs)[Math.floor(xs.length / 4)], sorted(xs)[Math.floor((3 * xs.length) / 4)]];
console.log(`field-floor: ${SIZE} B, aad '${ROW_AAD}', ${ROUNDS} rounds of adjacent pairs x ${OPS} ops, CPU time, node ${process.version}`);
for (const [name, xs] of Object.entries(rates)) console.log(`  ${name.padEnd(16)} ${Math.round(median(xs)).toLocaleString('en-US').padStart(9)} ops/s (median)`);
for (const [name, xs] of Object.entries(ratios)) {
  const target = name.startsWith('field') ? 'target >= 0.85x' : '(reference)';
  const [q1, q3] = quartiles(xs);
  console.log(`  ${name.padEnd(16)} / floor: median ${median(xs).toFixed(3)}x  (IQR ${q1.toFixed(3)}..${q3.toFixed(3)})  ${target}`);
}
