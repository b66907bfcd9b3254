// kv-envelope re-wrap benchmark: the BUILT package (../dist) re-wrapping N envelopes under K DEKs
// after a key rotation, with KeyVaultKek against the local Key Vault in this process (the real
// @azure/keyvault-keys clients, in-process transport: no network), versus a naive per-record loop
// (for each envelope: unwrap through the KEK = one vault call, wrap, replace the section).
//
//   npm run bench:rewrap                           (root: builds, then runs this)
//   node bench/rewrap.mjs --n=100000 --deks=100 --naive-n=2000 --concurrency=16 --key-size=2048
//   KV_ENVELOPE_DIST=/path/to/dist node bench/rewrap.mjs   (another build of the package)
//
// Before timing, both contestants re-wrap the same sample and must agree: every byte outside
// the wrapped-key section unchanged, both results decrypt to the original plaintext with the old
// key version disabled. The naive loop makes one vault call per record, so it is timed on the
// first --naive-n records and its rate and calls are projected to N (marked "projected").
// Each contestant starts cold (a fresh KeyVaultKek: its first unwrap of a version costs a GET).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { KeyClient } from '@azure/keyvault-keys';
import { environment, fmtRatio, markdownTable, textTable } from './lib.mjs';

const opts = { n: 100_000, deks: 100, naiveN: 2000, concurrency: 16, keySize: 2048, size: 64, json: undefined };
for (const a of process.argv.slice(2)) {
  const [k, v] = a.replace(/^--/, '').split('=');
  const key = k.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (a === '--help' || a === '-h' || !(key in opts) || v === undefined) {
    console.log('options: --n=100000 --deks=100 --naive-n=2000 --concurrency=16 --key-size=2048 --size=64 (plaintext bytes) --json=path');
    process.exit(a === '--help' || a === '-h' ? 0 : 2);
  }
  opts[key] = key === 'json' ? v : Number(v);
}
if (opts.n % opts.deks !== 0) throw new Error('--n must be a multiple of --deks');
opts.naiveN = Math.min(opts.naiveN, opts.n);

const distDir = process.env.KV_ENVELOPE_DIST ?? new URL('../dist/', import.meta.url).pathname;
const distFile = (name) => pathToFileURL(`${distDir.replace(/\/?$/, '/')}${name}`).href;
if (!existsSync(new URL(distFile('rewrap.js')))) {
  console.error(`bench: ${distDir}rewrap.js not found. Run \`npm run build\` first (npm run bench:rewrap does).`);
  process.exit(2);
}
const { EnvelopeClient, readWrappedKeys, replaceWrappedKeys } = await import(distFile('index.js'));
const { KeyVaultKek } = await import(distFile('azure.js'));
const { LocalKeyVault } = await import(distFile('local-vault.js'));
const { rewrapEnvelopes } = await import(distFile('rewrap.js'));

const env = await environment();
console.log('# kv-envelope re-wrap benchmark\n');
console.log(`node ${env.node} · ${env.cpu} · ${env.cores} cores · load ${env.loadAverageAtStart.join(' ')} · other processes at start: ${env.otherCoresAtStart?.toFixed(2)} cores · commit ${env.git.commit}${env.git.srcDirty ? ' + uncommitted src/ changes' : ''}`);
console.log(`N = ${opts.n.toLocaleString('en')} envelopes of ${opts.size} B under K = ${opts.deks} DEKs, RSA-${opts.keySize} key rotated once, concurrency ${opts.concurrency}; naive loop timed on ${opts.naiveN.toLocaleString('en')} records\n`);

// ---------- fixture: N envelopes under K DEKs, then a rotation ----------
const vault = await LocalKeyVault.start();
const keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
const v1 = await keyClient.createRsaKey('rewrap-bench', { keySize: opts.keySize });
const kek = () => new KeyVaultKek({ vaultUrl: vault.url, keyName: 'rewrap-bench', credential: vault.credential(), clientOptions: vault.clientOptions });
const writer = new EnvelopeClient({ keks: kek(), cache: { maxMessages: opts.n / opts.deks } });
const plaintextOf = (i) => Buffer.from(`${String(i).padStart(12, '0')}`.padEnd(opts.size, '.'));
const items = [];
for (let i = 0; i < opts.n; i++) items.push({ id: `e${i}`, envelope: await writer.encrypt(plaintextOf(i)) });
const v2 = await keyClient.rotateKey('rewrap-bench');

/** The engine: rewrapEnvelopes over `source`; returns the results and the vault calls made. */
async function engine(source) {
  const k = kek();
  vault.stats.reset();
  const out = [];
  for await (const r of rewrapEnvelopes(source, { to: [k], concurrency: opts.concurrency })) out.push(r);
  return { out, calls: { ...vault.stats.byOperation } };
}

/** The naive baseline: per record, one vault unwrap, a wrap, a section replace. */
async function naive(source) {
  const k = kek();
  await k.refresh(); // like the engine: wrap with the new version
  vault.stats.reset();
  const out = [];
  for (const { id, envelope } of source) {
    const dek = await k.unwrap(readWrappedKeys(envelope)[0]);
    const wrapped = await k.wrap(dek);
    out.push({ status: 'rewrapped', id, envelope: replaceWrappedKeys(envelope, [wrapped], { dek }) });
    dek.fill(0);
  }
  return { out, calls: { ...vault.stats.byOperation } };
}

// ---------- agreement before timing ----------
const sample = items.slice(0, Math.min(200, opts.n));
const [a, b] = [await engine(sample), await naive(sample)];
await keyClient.updateKeyProperties('rewrap-bench', v1.properties.version, { enabled: false });
const checker = new EnvelopeClient({ keks: kek() });
// Everything after the wrapped-key section and (v2, first byte 0xE2) its 32-byte MAC: what re-wrap must not change.
const outside = (e) => {
  const w = readWrappedKeys(e);
  let end = 34 + 1;
  for (const x of w) end += 2 + Buffer.byteLength(x.kekId) + 1 + Buffer.byteLength(x.alg) + 2 + x.bytes.length;
  if (e[0] === 0xe2) end += 32;
  return { kekIds: w.map((x) => x.kekId), rest: Buffer.concat([e.subarray(0, 34), e.subarray(end)]) };
};
for (let i = 0; i < sample.length; i++) {
  for (const [name, r] of [['engine', a.out[i]], ['naive', b.out[i]]]) {
    if (r.status !== 'rewrapped') throw new Error(`agreement: ${name} did not re-wrap ${sample[i].id}: ${r.status}`);
    const before = outside(sample[i].envelope);
    const after = outside(r.envelope);
    if (!before.rest.equals(after.rest)) throw new Error(`agreement: ${name} changed bytes outside the wrapped-key section of ${sample[i].id}`);
    if (after.kekIds.join() !== v2.id) throw new Error(`agreement: ${name} did not wrap under the new version`);
    const { plaintext } = await checker.decrypt(r.envelope);
    if (!Buffer.from(plaintext).equals(plaintextOf(i))) throw new Error(`agreement: ${name} result of ${sample[i].id} decrypts to other bytes`);
  }
}
await keyClient.updateKeyProperties('rewrap-bench', v1.properties.version, { enabled: true });
console.log(`agreement: engine and naive results of the first ${sample.length} records keep every non-section byte, name ${v2.id.split('/').slice(-1)[0]} and decrypt with the old version disabled\n`);

// ---------- timing ----------
let t = performance.now();
const eng = await engine(items);
const engineMs = performance.now() - t;
if (eng.out.length !== opts.n || eng.out.some((r) => r.status !== 'rewrapped')) throw new Error('engine: not every record was re-wrapped');
t = performance.now();
const nai = await naive(items.slice(0, opts.naiveN));
const naiveMs = performance.now() - t;
await vault.close();

const engineRate = (opts.n * 1000) / engineMs;
const naiveRate = (opts.naiveN * 1000) / naiveMs;
const projectedNaiveCalls = Math.round(((nai.calls.unwrapKey ?? 0) * opts.n) / opts.naiveN);
// Key Vault's documented RSA-2048 software-key limit (per vault per 10 s): 4,000 ops; RSA-3072 1,000; RSA-4096 500.
const vaultOpsPer10s = { 2048: 4000, 3072: 1000, 4096: 500 }[opts.keySize];
const rows = [
  ['rewrapEnvelopes', opts.n.toLocaleString('en'), `${(engineMs / 1000).toFixed(2)} s`, `${Math.round(engineRate).toLocaleString('en')}/s`,
    String(eng.calls.unwrapKey ?? 0), String(eng.calls.wrapKey ?? 0), String(eng.calls.getKey ?? 0),
    vaultOpsPer10s ? `${((eng.calls.unwrapKey ?? 0) / (vaultOpsPer10s / 10)).toFixed(2)} s` : '–'],
  ['naive per record', `${opts.naiveN.toLocaleString('en')} (projected to ${opts.n.toLocaleString('en')})`, `${(naiveMs / 1000).toFixed(2)} s`,
    `${Math.round(naiveRate).toLocaleString('en')}/s`, `${nai.calls.unwrapKey ?? 0} (${projectedNaiveCalls.toLocaleString('en')})`, String(nai.calls.wrapKey ?? 0),
    String(nai.calls.getKey ?? 0), vaultOpsPer10s ? `${(projectedNaiveCalls / (vaultOpsPer10s / 10)).toFixed(0)} s` : '–'],
];
const header = ['contestant', 'records timed', 'time', 'envelopes/s', 'unwrapKey', 'wrapKey', 'getKey', `Azure quota floor for N (RSA-${opts.keySize})`];
const align = ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
console.log(textTable(header, rows, align));
console.log(`\nratio: rewrapEnvelopes re-wraps ${fmtRatio(engineRate / naiveRate)} as many envelopes per second as the naive loop, with ${projectedNaiveCalls.toLocaleString('en')} / ${eng.calls.unwrapKey} = ${fmtRatio(projectedNaiveCalls / eng.calls.unwrapKey)} fewer vault calls`);
console.log('(the quota floor is the least time a real vault needs for those unwrapKey calls at its documented throughput; the local vault does not throttle by default)\n');
console.log(markdownTable(header, rows, align));
if (opts.json) {
  await writeFile(opts.json, `${JSON.stringify({ env, opts, engine: { ms: engineMs, rate: engineRate, calls: eng.calls }, naive: { records: opts.naiveN, ms: naiveMs, rate: naiveRate, calls: nai.calls, projectedUnwrapKey: projectedNaiveCalls } }, null, 2)}\n`);
  console.log(`\nresults written to ${opts.json}`);
}
