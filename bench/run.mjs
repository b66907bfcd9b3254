// kv-envelope benchmark: the BUILT package (../dist/index.js) against minimal raw node:crypto
// AES-256-GCM, @noble/ciphers gcm and the AWS Encryption SDK, all in one process.
//
//   npm run bench                     (root: builds, installs bench deps, runs this)
//   node bench/run.mjs --quick        (smoke run: seconds, numbers meaningless)
//
// Before anything is timed, every contestant must round-trip its own output, reject tampered
// bytes, and raw node:crypto and noble must produce identical bytes for the same key/nonce.
// Results: tables on stdout, a README-ready markdown table, and bench/results.json.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gcm } from '@noble/ciphers/aes.js';
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  NodeCachingMaterialsManager,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import {
  assertRejects, assertSameBytes, consume, CONTENDED_CORES, environment, fmtCores, flipBit, fmtMB, fmtOps, fmtRatio, fmtSize, fmtTime,
  loadBuiltPackage, markdownTable, parseArgs, printEnvironment, runCase, textTable,
} from './lib.mjs';

const settings = parseArgs(process.argv.slice(2), {
  time: 1500,
  rounds: 3,
  warmupTime: 250,
  iterations: 10,
  batchTargetMs: 0.5,
  json: fileURLToPath(new URL('./results.json', import.meta.url)),
});

const kv = await loadBuiltPackage();
const env = await environment();
const started = performance.now();
console.log('# kv-envelope benchmark\n');
printEnvironment(env, settings);
if (settings.quick) console.log('\n*** --quick: smoke run, the numbers below are NOT meaningful ***');

const FIELD_SIZES = [100, 1024];
const ENVELOPE_SIZES = [1024, 1024 * 1024];
const NAMES = { kv: 'kv-envelope', node: 'raw node:crypto', noble: '@noble/ciphers', aws: 'AWS ESDK' };

// ---------- contestants ----------

/** (a) Minimal raw node:crypto AES-256-GCM: nonce | ciphertext | tag. */
const rawNode = {
  encrypt(key, plaintext, nonce = randomBytes(12)) {
    const c = createCipheriv('aes-256-gcm', key, nonce);
    const ct = c.update(plaintext);
    const fin = c.final();
    return Buffer.concat([nonce, ct, fin, c.getAuthTag()]);
  },
  decrypt(key, sealed) {
    const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    const pt = d.update(sealed.subarray(12, sealed.length - 16));
    return Buffer.concat([pt, d.final()]);
  },
};

/** (b) @noble/ciphers gcm, same layout. */
const noble = {
  encrypt(key, plaintext, nonce = randomBytes(12)) {
    const ct = gcm(key, nonce).encrypt(plaintext); // ciphertext | tag
    const out = new Uint8Array(12 + ct.length);
    out.set(nonce, 0);
    out.set(ct, 12);
    return out;
  },
  decrypt(key, sealed) {
    return gcm(key, sealed.subarray(0, 12)).decrypt(sealed.subarray(12));
  },
};

/** (c) AWS Encryption SDK: committing unsigned suite, caching CMM over a raw AES keyring. */
const AWS_SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
const aws = (() => {
  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new RawAesKeyringNode({
    keyNamespace: 'bench',
    keyName: 'aes-256',
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const cmm = new NodeCachingMaterialsManager({
    backingMaterials: keyring,
    cache: getLocalCryptographicMaterialsCache(100),
    maxAge: 60_000,
    maxMessagesEncrypted: 2 ** 32, // the SDK's maximum: never the limit during a run
  });
  return {
    async encrypt(plaintext) {
      // plaintextLength is what lets the caching CMM serve this call from the cache.
      const { result } = await encrypt(cmm, plaintext, { suiteId: AWS_SUITE, plaintextLength: plaintext.length });
      return result;
    },
    async decrypt(message) {
      return (await decrypt(cmm, message)).plaintext;
    },
    async header(message) {
      return (await decrypt(cmm, message)).messageHeader;
    },
  };
})();

// kv-envelope, warm: one KEK, one key store, the default caches.
const kek = new kv.LocalAesKek({ id: 'bench/local-aes', key: randomBytes(32) });
const keyStore = new kv.MemoryKeyStore();
const fields = new kv.FieldEncryptor({ keks: kek, keyStore });
const envelopes = new kv.EnvelopeClient({ keks: kek });

const rawKey = randomBytes(32);
const nobleKey = new Uint8Array(rawKey);

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
  // Each contestant: round trip, fresh randomness per call, tampering rejected (body and tag).
  const contestants = [
    ['raw node:crypto', (p) => rawNode.encrypt(rawKey, p), (c) => rawNode.decrypt(rawKey, c)],
    ['@noble/ciphers', (p) => noble.encrypt(nobleKey, p), (c) => noble.decrypt(nobleKey, c)],
    ['AWS ESDK', aws.encrypt, aws.decrypt],
    ['kv-envelope field', (p) => fields.encrypt(p), (c) => fields.decrypt(c)],
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
  // kv-envelope field: documented overhead, and the noble backend opens what the node backend sealed.
  const nobleFields = new kv.FieldEncryptor({ keks: kek, keyStore, backend: 'noble' });
  for (const n of FIELD_SIZES) {
    const pt = randomBytes(n);
    const ct = await fields.encrypt(pt);
    if (ct.length !== n + 37) throw new Error(`agreement: field overhead is ${ct.length - n} B, documented 37`);
    assertSameBytes(await nobleFields.decrypt(ct), pt, `field: noble backend opens node backend, ${n} B`);
    assertSameBytes(await fields.decrypt(await nobleFields.encrypt(pt)), pt, `field: node backend opens noble backend, ${n} B`);
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
  ' every contestant round-trips its own output and rejects a flipped tag or ciphertext bit;' +
  ' kv-envelope node ≡ noble backends both ways; both caches (kv-envelope, AWS) reuse their data key.');

// ---------- cases ----------

function overheadOf(ciphertext, size) {
  return ciphertext.length - size;
}

async function fieldCase(size, op) {
  const pt = randomBytes(size);
  const kvCt = await fields.encrypt(pt);
  const nodeCt = rawNode.encrypt(rawKey, pt);
  const nobleCt = noble.encrypt(nobleKey, pt);
  const awsCt = await aws.encrypt(pt);
  const overhead = { [NAMES.kv]: overheadOf(kvCt, size), [NAMES.node]: overheadOf(nodeCt, size), [NAMES.noble]: overheadOf(nobleCt, size), [NAMES.aws]: overheadOf(awsCt, size) };
  const contestants = op === 'encrypt'
    ? [
        { name: NAMES.kv, async: true, op: () => fields.encrypt(pt) },
        { name: NAMES.node, async: false, op: () => rawNode.encrypt(rawKey, pt) },
        { name: NAMES.noble, async: false, op: () => noble.encrypt(nobleKey, pt) },
        { name: NAMES.aws, async: true, op: () => aws.encrypt(pt) },
      ]
    : [
        { name: NAMES.kv, async: true, op: () => fields.decrypt(kvCt) },
        { name: NAMES.node, async: false, op: () => rawNode.decrypt(rawKey, nodeCt) },
        { name: NAMES.noble, async: false, op: () => noble.decrypt(nobleKey, nobleCt) },
        { name: NAMES.aws, async: true, op: () => aws.decrypt(awsCt) },
      ];
  return { kind: 'field', op, size, overhead, contestants };
}

async function envelopeCase(size, op) {
  const pt = randomBytes(size);
  const kvCt = await envelopes.encrypt(pt);
  const nodeCt = rawNode.encrypt(rawKey, pt);
  const nobleCt = noble.encrypt(nobleKey, pt);
  const awsCt = await aws.encrypt(pt);
  const overhead = { [NAMES.kv]: overheadOf(kvCt, size), [NAMES.node]: overheadOf(nodeCt, size), [NAMES.noble]: overheadOf(nobleCt, size), [NAMES.aws]: overheadOf(awsCt, size) };
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
  return { kind: 'envelope', op, size, overhead, contestants };
}

const plan = [];
for (const size of FIELD_SIZES) for (const op of ['encrypt', 'decrypt']) plan.push(() => fieldCase(size, op));
for (const size of ENVELOPE_SIZES) for (const op of ['encrypt', 'decrypt']) plan.push(() => envelopeCase(size, op));

const results = [];
for (const make of plan) {
  const c = await make();
  const title = `${c.kind} ${c.op} ${fmtSize(c.size)}`;
  const { rows, otherCores } = await runCase(settings, title, c.contestants, c.size >= 1024 ? c.size : undefined);
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  const ratios = {
    vsRawNode: by[NAMES.kv].opsPerSec / by[NAMES.node].opsPerSec,
    vsNoble: by[NAMES.kv].opsPerSec / by[NAMES.noble].opsPerSec,
    vsAws: by[NAMES.kv].opsPerSec / by[NAMES.aws].opsPerSec,
  };
  for (const r of rows) r.overheadBytes = c.overhead[r.name];
  const contended = otherCores !== undefined && otherCores > CONTENDED_CORES;
  results.push({ id: `${c.kind}-${c.op}-${c.size}`, kind: c.kind, op: c.op, size: c.size, contestants: rows, ratios, otherCores, contended });

  console.log(`\n## ${title}\n`);
  console.log(textTable(
    ['contestant', 'ops/s', 'mean', 'p99', '±rme', 'round spread', 'MB/s', 'overhead B', 'samples×batch'],
    rows.map((r) => [r.name, fmtOps(r.opsPerSec), fmtTime(r.meanMs), fmtTime(r.p99Ms), `${r.rmePct.toFixed(2)}%`, `${r.spreadPct.toFixed(1)}%`, fmtMB(r.mbPerSec), r.overheadBytes, `${r.samples}×${r.batch}`]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ));
  console.log(`CPU used by other processes during this case: ${fmtCores(otherCores)}${contended ? '  <-- CONTENDED: ratios unreliable, re-run on an idle machine' : ''}`);
  console.log(`kv-envelope / raw node: ${fmtRatio(ratios.vsRawNode)} · kv-envelope / noble: ${fmtRatio(ratios.vsNoble)} · kv-envelope / AWS: ${fmtRatio(ratios.vsAws)}`);
}

// ---------- targets ----------

const find = (id) => results.find((r) => r.id === id);
const targets = [];
for (const op of ['encrypt', 'decrypt']) {
  const r = find(`field-${op}-100`);
  targets.push({ target: `field 100 B ${op} ≥ 0.8x raw node:crypto ops/s`, actual: r.ratios.vsRawNode, min: 0.8 });
  targets.push({ target: `field 100 B ${op} ≥ 20x AWS ESDK ops/s`, actual: r.ratios.vsAws, min: 20 });
}
for (const op of ['encrypt', 'decrypt']) {
  const r = find(`envelope-${op}-${2 ** 20}`);
  targets.push({ target: `envelope 1 MiB ${op} ≥ 0.9x raw node:crypto throughput`, actual: r.ratios.vsRawNode, min: 0.9 });
}
for (const t of targets) t.pass = t.actual >= t.min;
const caseOf = (t) => results.find((r) => t.target.startsWith(`${r.kind} ${fmtSize(r.size)} ${r.op}`));

console.log('\n## Targets\n');
for (const t of targets) {
  t.contended = caseOf(t)?.contended === true;
  console.log(`${t.pass ? 'PASS' : 'MISS'}  ${t.target}: ${fmtRatio(t.actual)}${t.contended ? '  (measured while contended)' : ''}`);
}

// ---------- markdown for the README ----------

const md = [];
md.push(`Node ${env.node}, ${env.cpu}, ${env.cores} cores, ${env.platform}; kv-envelope ${env.versions['kv-envelope']} (${env.git.commit}${env.git.srcDirty ? '+dirty' : ''}), ` +
  `@aws-crypto/client-node ${env.versions['@aws-crypto/client-node']}, @noble/ciphers ${env.versions['@noble/ciphers (bench)']}, ` +
  `tinybench ${env.versions.tinybench}. Operations per second (higher is better); MB/s = 10^6 plaintext bytes/s.`);
md.push('');
md.push(markdownTable(
  ['Case', NAMES.kv, NAMES.node, NAMES.noble, NAMES.aws, 'kv / raw node', 'kv / AWS'],
  results.map((r) => {
    const cell = (name) => {
      const c = r.contestants.find((x) => x.name === name);
      return c.mbPerSec === undefined ? `${fmtOps(c.opsPerSec)} ops/s` : `${fmtOps(c.opsPerSec)} ops/s (${fmtMB(c.mbPerSec)} MB/s)`;
    };
    return [`${r.kind} ${r.op} ${fmtSize(r.size)}`, cell(NAMES.kv), cell(NAMES.node), cell(NAMES.noble), cell(NAMES.aws), fmtRatio(r.ratios.vsRawNode), fmtRatio(r.ratios.vsAws)];
  }),
  ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
));
md.push('');
md.push('Field: kv-envelope `FieldEncryptor` (LocalAesKek + MemoryKeyStore, warm; AAD = 9-byte prefix + a 12-byte row label like `users.ssn#42`, nonces drawn from a pooled `randomFill`) ' +
  'vs minimal AES-256-GCM in a few lines (nonce|ct|tag, no AAD, `randomBytes(12)` per call, synchronous) ' +
  'and the AWS Encryption SDK (committing unsigned suite `ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY`, caching CMM over a raw AES keyring, default 4 KiB frames). ' +
  'Envelope: `EnvelopeClient` (default 1 MiB frames, default DEK cache) vs one-shot GCM over the whole buffer and the same AWS CMM. ' +
  `Each figure is the median of ${settings.rounds} interleaved rounds; on a shared 2-core VM rounds differ by 10-25%, so treat ratios within ~10% of a target as a tie.`);
const markdown = md.join('\n');
console.log('\n## Markdown (README)\n');
console.log(markdown);

const totalSeconds = (performance.now() - started) / 1000;
console.log(`\nTotal: ${totalSeconds.toFixed(1)} s`);
consume();

if (settings.json) {
  const doc = {
    environment: env,
    settings: { time: settings.time, rounds: settings.rounds, warmupTime: settings.warmupTime, minSamples: settings.iterations, batchTargetMs: settings.batchTargetMs, quick: settings.quick === true },
    notes: {
      opsPerSec: '1000 / mean per-call latency of the median of the interleaved rounds; each sample is one batch of calls divided by the batch size',
      otherCores: 'CPU cores used by other processes (and hypervisor steal) during the case, from /proc/stat; > 0.2 flags the case as contended',
      mbPerSec: '10^6 plaintext bytes per second (sizes >= 1 KiB only)',
      overheadBytes: 'ciphertext length minus plaintext length',
      awsFrameLength: 4096,
      kvFrameSize: 256 * 1024,
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
