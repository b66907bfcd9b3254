// kv-envelope benchmark: the BUILT package (../dist/index.js) against minimal raw node:crypto
// AES-256-GCM, the bare "floor" of a field encryption, @noble/ciphers (gcm, aessiv) and the AWS
// Encryption SDK, all in one process.
//
//   npm run bench                     (root: builds, installs bench deps, runs this)
//   node bench/run.mjs --quick        (smoke run: seconds, numbers meaningless)
//
// A full GC runs before every timed slice: with node --expose-gc, or switched on at run time.
//
// Before anything is timed, every contestant must round-trip its own output, reject tampered
// bytes, raw node:crypto and noble must produce identical bytes for the same key/nonce, and the
// node:crypto AES-SIV must equal noble's aessiv byte for byte.
//
// Method: every case runs its contestants in interleaved rounds (rotated order, a GC before each
// slice, warm-up rounds discarded); a ratio is the MEDIAN of the per-round ratios, shown with its
// min–max, never a ratio of two medians. Results: tables on stdout, Markdown ready for the README,
// and bench/results.json.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { aws, AWS_SUITE, createFloor, createSiv, noble, rawNode } from './contestants.mjs';
import {
  assertRejects, assertSameBytes, consume, CONTENDED_CORES, environment, fmtCores, flipBit, fmtMB, fmtOps, fmtRatio, fmtSize,
  gcBetweenSlices, loadBuiltPackage, loadSourceModule, markdownTable, parseArgs, printEnvironment, roundRatios, runRounds, summarize, textTable,
} from './lib.mjs';

const settings = parseArgs(
  process.argv.slice(2),
  { rounds: 30, warmupRounds: 3, sliceMs: 40, batchTargetMs: 0.5, json: fileURLToPath(new URL('./results.json', import.meta.url)) },
  { rounds: 4, warmupRounds: 1, sliceMs: 8 },
);

const kv = await loadBuiltPackage();
// The node:crypto AES-SIV on its own (the package does not export it): src/aead/siv.ts bundled with esbuild.
const sivSource = await loadSourceModule('src/aead/siv.ts');
const env = await environment();
const started = performance.now();
console.log('# kv-envelope benchmark\n');
printEnvironment(env, settings);
if (settings.quick) console.log('\n*** --quick: smoke run, the numbers below are NOT meaningful ***');
if (sivSource === undefined) console.log('\nesbuild not found in the repository: the raw node:crypto AES-SIV contestant is skipped.');

const FIELD_SIZES = [100, 1024];
const ENVELOPE_SIZES = [1024, 1024 * 1024];
const NAMES = {
  kv: 'kv-envelope', node: 'raw node:crypto', floor: 'floor', noble: '@noble/ciphers', aws: 'AWS ESDK',
  nodeSiv: 'node:crypto AES-SIV', nobleSiv: '@noble/ciphers aessiv',
};
/** Field AAD: a 12-byte row label (the field path binds it after its 9-byte prefix: 21 bytes). */
const ROW_LABEL = 'users.ssn#42';
/** Deterministic fields: a column-level context, as equality search needs. */
const COLUMN = { keyName: 'users.email', aad: 'users.email' };

// ---------- contestants ----------

const floor = createFloor(9 + Buffer.byteLength(ROW_LABEL));
const { nobleSiv, nodeSiv } = createSiv(sivSource);
const sivPrefix = Uint8Array.of(0xf2, ...randomBytes(8)); // the field prefix: version + keyRef
const sivAad = new TextEncoder().encode(COLUMN.aad);

// kv-envelope, warm: one KEK, one key store, the default caches.
const kek = new kv.LocalAesKek({ id: 'bench/local-aes', key: randomBytes(32) });
const keyStore = new kv.MemoryKeyStore();
const fields = new kv.FieldEncryptor({ keks: kek, keyStore });
const envelopes = new kv.EnvelopeClient({ keks: kek });

const rawKey = randomBytes(32);
const nobleKey = new Uint8Array(rawKey);
const row = { aad: ROW_LABEL };

// ---------- agreement, before any timing ----------

async function checkAgreement() {
  const t0 = performance.now();
  const sizes = [...new Set([0, 1, 15, 16, 17, ...FIELD_SIZES, ...ENVELOPE_SIZES, 3 * 2 ** 20 + 5])];
  for (const n of sizes) {
    const pt = randomBytes(n);
    // raw node:crypto and noble: identical bytes for the same key and nonce, and each opens the other's.
    const nonce = randomBytes(12);
    const a = rawNode.encrypt(rawKey, pt, nonce);
    const b = noble.encrypt(nobleKey, pt, nonce);
    assertSameBytes(a, b, `raw node vs noble ciphertext, ${n} B`);
    assertSameBytes(noble.decrypt(nobleKey, a), pt, `noble opens raw node, ${n} B`);
    assertSameBytes(rawNode.decrypt(rawKey, b), pt, `raw node opens noble, ${n} B`);
  }
  // AES-SIV: node:crypto ≡ noble, both directions, for 0..3 associated-data components and the
  // block / keystream boundaries; both reject a flipped bit.
  if (nodeSiv) {
    for (const n of [0, 1, 15, 16, 17, 100, 255, 256, 257, 1023, 1024, 1025, 1041, 4099]) {
      for (const ad of [[], [sivAad], [sivPrefix, sivAad], [sivPrefix, new Uint8Array(0), randomBytes(33)]]) {
        const pt = randomBytes(n);
        const a = nodeSiv.seal(pt, ...ad);
        assertSameBytes(a, nobleSiv.seal(pt, ...ad), `AES-SIV node vs noble, ${n} B, ${ad.length} AD`);
        assertSameBytes(nobleSiv.open(a, ...ad), pt, `noble opens node AES-SIV, ${n} B`);
        assertSameBytes(nodeSiv.open(a, ...ad), pt, `node opens its AES-SIV, ${n} B`);
        await assertRejects(() => nodeSiv.open(flipBit(a, -1), ...ad), `node AES-SIV bit flip, ${n} B`);
        await assertRejects(() => nobleSiv.open(flipBit(a, 0), ...ad), `noble AES-SIV bit flip, ${n} B`);
      }
    }
  }
  // The floor opens its own output and rejects a flipped tag.
  const fl = floor.encrypt(rawKey, randomBytes(100));
  floor.decrypt(rawKey, fl);
  await assertRejects(() => floor.decrypt(rawKey, [fl[0], flipBit(fl[1], 0)]), 'floor tag bit flip');
  // Each randomized contestant: round trip, fresh randomness per call, tampering rejected (body and tag).
  const contestants = [
    ['raw node:crypto', (p) => rawNode.encrypt(rawKey, p), (c) => rawNode.decrypt(rawKey, c)],
    ['@noble/ciphers', (p) => noble.encrypt(nobleKey, p), (c) => noble.decrypt(nobleKey, c)],
    ['AWS ESDK', aws.encrypt, aws.decrypt],
    ['kv-envelope field', (p) => fields.encrypt(p, row), (c) => fields.decrypt(c, row)],
    ['kv-envelope envelope', (p) => envelopes.encrypt(p), async (c) => (await envelopes.decrypt(c)).plaintext],
  ];
  for (const [name, enc, dec] of contestants) {
    for (const n of [...FIELD_SIZES, ...ENVELOPE_SIZES]) {
      const pt = randomBytes(n);
      const c1 = await enc(pt);
      const c2 = await enc(pt);
      assertSameBytes(await dec(c1), pt, `${name} round trip, ${n} B`);
      assertSameBytes(await dec(c2), pt, `${name} round trip (second message), ${n} B`);
      if (Buffer.from(c1).equals(Buffer.from(c2))) throw new Error(`agreement: ${name}: two encryptions of one plaintext are identical`);
      await assertRejects(() => dec(flipBit(c1, -1)), `${name} tag bit flip, ${n} B`);
      await assertRejects(() => dec(flipBit(c1, c1.length - 17 - Math.floor(n / 2))), `${name} ciphertext bit flip, ${n} B`);
    }
  }
  // kv-envelope deterministic: equal in, equal out; 25 bytes of overhead; context and bits are checked.
  for (const n of [0, 1, 100, 1024, 4099]) {
    const pt = randomBytes(n);
    const c1 = await fields.encryptDeterministic(pt, COLUMN);
    assertSameBytes(await fields.encryptDeterministic(pt, COLUMN), c1, `deterministic: equal plaintexts give equal ciphertexts, ${n} B`);
    if (c1.length !== n + 25) throw new Error(`agreement: deterministic overhead is ${c1.length - n} B, documented 25`);
    assertSameBytes(await fields.decrypt(c1, { aad: COLUMN.aad }), pt, `deterministic round trip, ${n} B`);
    await assertRejects(() => fields.decrypt(flipBit(c1, -1), { aad: COLUMN.aad }), `deterministic bit flip, ${n} B`);
    await assertRejects(() => fields.decrypt(c1, { aad: 'users.phone' }), `deterministic wrong context, ${n} B`);
  }
  // kv-envelope field: documented overhead, and the noble backend opens what the node backend sealed.
  const nobleFields = new kv.FieldEncryptor({ keks: kek, keyStore, backend: 'noble' });
  for (const n of FIELD_SIZES) {
    const pt = randomBytes(n);
    const ct = await fields.encrypt(pt, row);
    if (ct.length !== n + 37) throw new Error(`agreement: field overhead is ${ct.length - n} B, documented 37`);
    assertSameBytes(await nobleFields.decrypt(ct, row), pt, `field: noble backend opens node backend, ${n} B`);
    assertSameBytes(await fields.decrypt(await nobleFields.encrypt(pt, row), row), pt, `field: node backend opens noble backend, ${n} B`);
    const det = await fields.encryptDeterministic(pt, COLUMN);
    assertSameBytes(await nobleFields.encryptDeterministic(pt, COLUMN), det, `deterministic: noble-backend encryptor gives the same bytes, ${n} B`);
  }
  // kv-envelope envelope: a second client (noble backend, cold caches) unwraps through the KEK and
  // opens it; the default cache reuses one wrapped DEK across messages.
  const nobleEnvelopes = new kv.EnvelopeClient({ keks: kek, backend: 'noble' });
  for (const n of ENVELOPE_SIZES) {
    const pt = randomBytes(n);
    const e = await envelopes.encrypt(pt, { context: { bench: 'agreement' } });
    const r = await nobleEnvelopes.decrypt(e);
    assertSameBytes(r.plaintext, pt, `envelope: noble client opens node client, ${n} B`);
    if (r.context.bench !== 'agreement') throw new Error('agreement: envelope context did not round-trip');
    assertSameBytes((await envelopes.decrypt(await nobleEnvelopes.encrypt(pt))).plaintext, pt, `envelope: node client opens noble client, ${n} B`);
  }
  const w1 = kv.readWrappedKeys(await envelopes.encrypt(randomBytes(16)));
  const w2 = kv.readWrappedKeys(await envelopes.encrypt(randomBytes(16)));
  assertSameBytes(w1[0].bytes, w2[0].bytes, 'kv-envelope: cached DEK reused across envelopes');
  // AWS: the committing unsigned suite is in use, and the cache serves repeated encryptions.
  const m1 = await aws.encrypt(randomBytes(100));
  const m2 = await aws.encrypt(randomBytes(100));
  const h1 = await aws.header(m1);
  const h2 = await aws.header(m2);
  if (h1.suiteId !== AWS_SUITE) throw new Error(`agreement: AWS suite is ${h1.suiteId}, expected ${AWS_SUITE}`);
  assertSameBytes(h1.encryptedDataKeys[0].encryptedDataKey, h2.encryptedDataKeys[0].encryptedDataKey, 'AWS: caching CMM reuses the data key');
  return performance.now() - t0;
}

const agreementMs = await checkAgreement();
console.log(`\nAgreement: OK in ${agreementMs.toFixed(0)} ms — raw node:crypto ≡ noble bytes for equal key/nonce (0 B..3 MiB);` +
  `${nodeSiv ? ' node:crypto AES-SIV ≡ noble aessiv (0..4099 B, 0..3 AD components);' : ''}` +
  ' every contestant round-trips its own output and rejects a flipped tag or ciphertext bit;' +
  ' kv-envelope node ≡ noble backends both ways; both caches (kv-envelope, AWS) reuse their data key.');

// ---------- cases ----------

/**
 * A case: contestants (the first is kv-envelope), the contestants kv-envelope is compared with,
 * and optionally a target: kv / `target.vs` must reach `target.min` (median of per-round ratios).
 */
async function fieldCase(size, op) {
  const pt = randomBytes(size);
  const kvCt = await fields.encrypt(pt, row);
  const nodeCt = rawNode.encrypt(rawKey, pt);
  const nobleCt = noble.encrypt(nobleKey, pt);
  const awsCt = await aws.encrypt(pt);
  const floorCt = floor.encrypt(rawKey, pt);
  const withFloor = size === 100;
  const contestants = op === 'encrypt'
    ? [
        { name: NAMES.kv, async: true, op: () => fields.encrypt(pt, row) },
        ...(withFloor ? [{ name: NAMES.floor, async: false, op: () => floor.encrypt(rawKey, pt) }] : []),
        { name: NAMES.node, async: false, op: () => rawNode.encrypt(rawKey, pt) },
        { name: NAMES.noble, async: false, op: () => noble.encrypt(nobleKey, pt) },
        { name: NAMES.aws, async: true, op: () => aws.encrypt(pt) },
      ]
    : [
        { name: NAMES.kv, async: true, op: () => fields.decrypt(kvCt, row) },
        ...(withFloor ? [{ name: NAMES.floor, async: false, op: () => floor.decrypt(rawKey, floorCt) }] : []),
        { name: NAMES.node, async: false, op: () => rawNode.decrypt(rawKey, nodeCt) },
        { name: NAMES.noble, async: false, op: () => noble.decrypt(nobleKey, nobleCt) },
        { name: NAMES.aws, async: true, op: () => aws.decrypt(awsCt) },
      ];
  const overhead = { [NAMES.kv]: kvCt.length - size, [NAMES.node]: nodeCt.length - size, [NAMES.noble]: nobleCt.length - size, [NAMES.aws]: awsCt.length - size };
  return { kind: 'field', op, size, overhead, contestants, target: withFloor ? { vs: NAMES.floor, min: 0.85 } : undefined };
}

async function envelopeCase(size, op) {
  const pt = randomBytes(size);
  const kvCt = await envelopes.encrypt(pt);
  const nodeCt = rawNode.encrypt(rawKey, pt);
  const nobleCt = noble.encrypt(nobleKey, pt);
  const awsCt = await aws.encrypt(pt);
  const contestants = op === 'encrypt'
    ? [
        { name: NAMES.kv, async: true, op: () => envelopes.encrypt(pt) },
        { name: NAMES.node, async: false, op: () => rawNode.encrypt(rawKey, pt) },
        { name: NAMES.noble, async: false, op: () => noble.encrypt(nobleKey, pt) },
        { name: NAMES.aws, async: true, op: () => aws.encrypt(pt) },
      ]
    : [
        { name: NAMES.kv, async: true, op: () => envelopes.decrypt(kvCt) },
        { name: NAMES.node, async: false, op: () => rawNode.decrypt(rawKey, nodeCt) },
        { name: NAMES.noble, async: false, op: () => noble.decrypt(nobleKey, nobleCt) },
        { name: NAMES.aws, async: true, op: () => aws.decrypt(awsCt) },
      ];
  const overhead = { [NAMES.kv]: kvCt.length - size, [NAMES.node]: nodeCt.length - size, [NAMES.noble]: nobleCt.length - size, [NAMES.aws]: awsCt.length - size };
  return { kind: 'envelope', op, size, overhead, contestants, target: { vs: NAMES.node, min: size >= 2 ** 20 ? 0.9 : 0.45 } };
}

/**
 * Deterministic (AES-SIV) fields. `rowAad`: a different context per call (1,000 labels), which
 * defeats the node:crypto SIV's memo of the last associated data; the target is on the column case.
 */
async function deterministicCase(size, op, rowAad = false) {
  const pt = randomBytes(size);
  const labels = Array.from({ length: 1000 }, (_, i) => `users.email#${i}`);
  const labelBytes = labels.map((l) => new TextEncoder().encode(l));
  let i = 0;
  const next = () => (i = (i + 1) % labels.length);
  const kvCt = await fields.encryptDeterministic(pt, COLUMN);
  const sealed = nobleSiv.seal(pt, sivPrefix, sivAad);
  const contestants = op === 'encrypt'
    ? [
        rowAad
          ? { name: NAMES.kv, async: true, op: () => fields.encryptDeterministic(pt, { keyName: COLUMN.keyName, aad: labels[next()] }) }
          : { name: NAMES.kv, async: true, op: () => fields.encryptDeterministic(pt, COLUMN) },
        ...(nodeSiv ? [{ name: NAMES.nodeSiv, async: false, op: rowAad ? () => nodeSiv.seal(pt, sivPrefix, labelBytes[next()]) : () => nodeSiv.seal(pt, sivPrefix, sivAad) }] : []),
        { name: NAMES.nobleSiv, async: false, op: rowAad ? () => nobleSiv.seal(pt, sivPrefix, labelBytes[next()]) : () => nobleSiv.seal(pt, sivPrefix, sivAad) },
      ]
    : [
        { name: NAMES.kv, async: true, op: () => fields.decrypt(kvCt, { aad: COLUMN.aad }) },
        ...(nodeSiv ? [{ name: NAMES.nodeSiv, async: false, op: () => nodeSiv.open(sealed, sivPrefix, sivAad) }] : []),
        { name: NAMES.nobleSiv, async: false, op: () => nobleSiv.open(sealed, sivPrefix, sivAad) },
      ];
  const overhead = { [NAMES.kv]: kvCt.length - size, [NAMES.nodeSiv]: 16, [NAMES.nobleSiv]: 16 };
  return {
    kind: rowAad ? 'deterministic, per-row AAD,' : 'deterministic', op, size, overhead, contestants,
    target: rowAad ? undefined : { vs: NAMES.nobleSiv, min: 3 },
  };
}

const plan = [];
for (const size of FIELD_SIZES) for (const op of ['encrypt', 'decrypt']) plan.push(() => fieldCase(size, op));
for (const op of ['encrypt', 'decrypt']) plan.push(() => deterministicCase(100, op));
plan.push(() => deterministicCase(100, 'encrypt', true));
for (const size of ENVELOPE_SIZES) for (const op of ['encrypt', 'decrypt']) plan.push(() => envelopeCase(size, op));

const results = [];
for (const make of plan) {
  const c = await make();
  const title = `${c.kind} ${c.op} ${fmtSize(c.size)}`;
  if (settings.only !== undefined && !title.includes(settings.only)) continue;
  const { typical, mean, otherCores } = await runRounds(settings, c.contestants);
  const rows = c.contestants.map((x) => {
    const ops = summarize(typical.get(x.name));
    const meanOps = summarize(mean.get(x.name));
    const isKv = x.name === NAMES.kv;
    return {
      name: x.name,
      opsPerSec: ops.median,
      opsPerSecMin: ops.min,
      opsPerSecMax: ops.max,
      meanOpsPerSec: meanOps.median,
      mbPerSec: c.size >= 1024 ? (ops.median * c.size) / 1e6 : undefined,
      overheadBytes: c.overhead[x.name],
      // kv-envelope / this contestant, per round: typical rates (what targets use) and mean rates.
      kvRatio: isKv ? undefined : summarize(roundRatios(typical, NAMES.kv, x.name)),
      kvRatioMean: isKv ? undefined : summarize(roundRatios(mean, NAMES.kv, x.name)),
      roundsOpsPerSec: typical.get(x.name),
      roundsMeanOpsPerSec: mean.get(x.name),
    };
  });
  const contended = otherCores !== undefined && otherCores > CONTENDED_CORES;
  const id = `${c.kind.replace(/[^a-z]+/g, '-').replace(/-$/, '')}-${c.op}-${c.size}`;
  const result = { id, title, kind: c.kind, op: c.op, size: c.size, contestants: rows, otherCores, contended };
  if (c.target) {
    const vs = rows.find((x) => x.name === c.target.vs);
    const r = vs.kvRatio;
    result.target = { vs: c.target.vs, min: c.target.min, median: r.median, min_: r.min, max: r.max, meanMedian: vs.kvRatioMean.median, pass: r.median >= c.target.min };
  }
  results.push(result);

  console.log(`\n## ${title}\n`);
  const range = (r) => `${fmtRatio(r.min)}–${fmtRatio(r.max)}`;
  console.log(textTable(
    ['contestant', 'ops/s', 'min–max', 'mean ops/s', 'MB/s', 'overhead B', 'kv / this', 'min–max', 'kv / this (mean)', 'min–max'],
    rows.map((r) => [
      r.name, fmtOps(r.opsPerSec), `${fmtOps(r.opsPerSecMin)}–${fmtOps(r.opsPerSecMax)}`, fmtOps(r.meanOpsPerSec), fmtMB(r.mbPerSec), r.overheadBytes ?? '–',
      r.kvRatio ? fmtRatio(r.kvRatio.median) : '', r.kvRatio ? range(r.kvRatio) : '',
      r.kvRatioMean ? fmtRatio(r.kvRatioMean.median) : '', r.kvRatioMean ? range(r.kvRatioMean) : '',
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ));
  console.log(`CPU used by other processes during this case: ${fmtCores(otherCores)}${contended ? '  <-- CONTENDED: ratios less reliable, re-run on an idle machine' : ''}`);
  if (result.target) {
    const t = result.target;
    console.log(`${t.pass ? 'PASS' : 'MISS'}  target kv-envelope / ${t.vs} ≥ ${fmtRatio(t.min)}: ${fmtRatio(t.median)} (min–max ${fmtRatio(t.min_)}–${fmtRatio(t.max)}); on mean rates ${fmtRatio(t.meanMedian)}`);
  }
}

// ---------- targets ----------

const targets = results.filter((r) => r.target).map((r) => ({
  case: r.title, vs: r.target.vs, min: r.target.min, actual: r.target.median, range: [r.target.min_, r.target.max], mean: r.target.meanMedian, pass: r.target.pass, contended: r.contended,
}));
console.log('\n## Targets (median of per-round ratios of typical rates; of mean rates for comparison)\n');
console.log(textTable(
  ['case', 'kv-envelope / …', 'median', 'min–max', 'mean', 'target', ''],
  targets.map((t) => [t.case, t.vs, fmtRatio(t.actual), `${fmtRatio(t.range[0])}–${fmtRatio(t.range[1])}`, fmtRatio(t.mean), `≥ ${fmtRatio(t.min)}`, `${t.pass ? 'PASS' : 'MISS'}${t.contended ? ' (contended)' : ''}`]),
  ['l', 'l', 'r', 'r', 'r', 'r', 'l'],
));

// ---------- markdown for the README ----------

const md = [];
md.push(`Node ${env.node}, ${env.cpu}, ${env.cores} cores, ${env.platform}; kv-envelope ${env.versions['kv-envelope']} (${env.git.commit}${env.git.srcDirty ? '+dirty' : ''}), ` +
  `@aws-crypto/client-node ${env.versions['@aws-crypto/client-node']}, @noble/ciphers ${env.versions['@noble/ciphers (bench)']}. ` +
  `Operations per second (higher is better), median of ${settings.rounds} interleaved rounds; MB/s = 10^6 plaintext bytes/s; ` +
  'a round\'s rate is batch size / median batch time, which preemption by other processes does not skew; ' +
  'ratios are the median of per-round ratios (min–max in brackets).');
md.push('');
md.push(markdownTable(
  ['Case', NAMES.kv, 'compared with', 'kv / it', 'target', ''],
  results.filter((r) => r.target).map((r) => {
    const kvRow = r.contestants[0];
    const vs = r.contestants.find((x) => x.name === r.target.vs);
    const ops = (x) => (x.mbPerSec === undefined ? `${fmtOps(x.opsPerSec)} ops/s` : `${fmtOps(x.opsPerSec)} ops/s (${fmtMB(x.mbPerSec)} MB/s)`);
    return [r.title, ops(kvRow), `${vs.name}: ${ops(vs)}`, `${fmtRatio(r.target.median)} (${fmtRatio(r.target.min_)}–${fmtRatio(r.target.max)})`, `≥ ${fmtRatio(r.target.min)}`, r.target.pass ? 'pass' : '**miss**'];
  }),
  ['l', 'r', 'l', 'r', 'r', 'l'],
));
md.push('');
md.push(markdownTable(
  ['Case', 'Contestant', 'ops/s', 'MB/s', 'overhead B', 'kv / it'],
  results.flatMap((r) => r.contestants.map((x, i) => [
    i === 0 ? r.title : '', x.name, fmtOps(x.opsPerSec), fmtMB(x.mbPerSec), x.overheadBytes ?? '–',
    x.kvRatio ? `${fmtRatio(x.kvRatio.median)} (${fmtRatio(x.kvRatio.min)}–${fmtRatio(x.kvRatio.max)})` : '',
  ])),
  ['l', 'l', 'r', 'r', 'r', 'r'],
));
md.push('');
md.push(`Field: kv-envelope \`FieldEncryptor\` (LocalAesKek + MemoryKeyStore, warm; AAD = 9-byte prefix + the 12-byte row label \`${ROW_LABEL}\`) ` +
  'vs the floor (createCipheriv + setAAD(21 bytes) + update + final + getAuthTag, nothing else), ' +
  'minimal AES-256-GCM in a few lines (nonce|ct|tag, no AAD, `randomBytes(12)` per call), ' +
  'and the AWS Encryption SDK (committing unsigned suite `ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY`, caching CMM over a raw AES keyring, default 4 KiB frames). ' +
  `Deterministic: \`encryptDeterministic\` with keyName and AAD \`${COLUMN.aad}\` vs AES-SIV-256 alone with the same two associated-data components, ` +
  'on noble (`aessiv`, pure JS) and on node:crypto (kv-envelope\'s S2V/CTR); the per-row case changes the AAD on every call. ' +
  'Envelope: `EnvelopeClient` (default frames, default DEK cache) vs one-shot GCM over the whole buffer and the same AWS CMM. ' +
  'Treat a ratio whose min–max straddles its target as a tie.');
const markdown = md.join('\n');
console.log('\n## Markdown (README)\n');
console.log(markdown);

const totalSeconds = (performance.now() - started) / 1000;
console.log(`\nTotal: ${totalSeconds.toFixed(1)} s`);
consume();

if (settings.json && settings.only !== undefined) console.log('--only: partial run, no JSON written');
else if (settings.json) {
  const doc = {
    environment: env,
    settings: { rounds: settings.rounds, warmupRounds: settings.warmupRounds, sliceMs: settings.sliceMs, batchTargetMs: settings.batchTargetMs, gcBetweenSlices: gcBetweenSlices() !== undefined, quick: settings.quick === true },
    notes: {
      opsPerSec: 'median over the kept rounds of the typical rate: batch size / median batch time within the round\'s slice (robust to preemption; ignores rare pauses)',
      meanOpsPerSec: 'median over the kept rounds of all calls / the slice\'s wall-clock time (pauses and preemption included)',
      kvRatio: 'kv-envelope typical rate divided by the contestant\'s in the same round; median, min and max over the rounds (targets use this)',
      kvRatioMean: 'the same on mean rates',
      otherCores: 'CPU cores used by other processes (and hypervisor steal) during the case, from /proc/stat; > 0.2 flags the case as contended',
      mbPerSec: '10^6 plaintext bytes per second (sizes >= 1 KiB only)',
      overheadBytes: 'ciphertext length minus plaintext length',
      awsFrameLength: 4096,
    },
    agreement: { ok: true, ms: agreementMs },
    results,
    targets,
    markdown,
    totalSeconds,
  };
  writeFileSync(settings.json, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`Results written to ${settings.json}`);
}
