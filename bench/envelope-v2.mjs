// Envelope v2 speed against minimal raw node:crypto AES-256-GCM (nonce | ciphertext | tag), in
// one process: interleaved rounds (kv, raw, kv, raw, ...), the ratio raw/kv of CPU time per
// round, median over rounds. Ratio 1.0 = as fast as raw one-shot AES-GCM.
//
//   npm run build --silent && node bench/envelope-v2.mjs [--rounds 21] [--ms 60] [--sizes 1024,1048576]
//
// Before timing, each contestant round-trips its own output.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 21);
const SIZES = (() => {
  const i = process.argv.indexOf('--sizes');
  return i < 0 ? [1024, 1024 * 1024, 4 * 1024 * 1024] : process.argv[i + 1].split(',').map(Number);
})();
const BATCH_MS = arg('ms', 60);

const kv = await import(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

const raw = {
  encrypt(key, plaintext) {
    const nonce = randomBytes(12);
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

const kek = new kv.LocalAesKek({ id: 'bench/local-aes', key: randomBytes(32) });
const client = new kv.EnvelopeClient({ keks: kek });
const rawKey = randomBytes(32);

/**
 * Runs `fn` repeatedly for about BATCH_MS of wall time; returns the process CPU time (user +
 * system, GC threads included) per call in microseconds. CPU time, not wall time: on a shared
 * machine wall time mostly measures the other processes (load averages of 15+ on 2 cores here
 * gave per-round wall ratios from 0.05x to 40x).
 */
async function batch(fn, iterationsHint) {
  let n = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  do {
    for (let i = 0; i < iterationsHint; i++) await fn();
    n += iterationsHint;
  } while (performance.now() - start < BATCH_MS);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases = [];
for (const size of SIZES) {
  const plaintext = randomBytes(size);
  const env = await client.encrypt(plaintext);
  const sealed = raw.encrypt(rawKey, plaintext);
  // agreement: both round-trip before timing
  if (!Buffer.from((await client.decrypt(env)).plaintext).equals(plaintext)) throw new Error('kv round trip failed');
  if (!raw.decrypt(rawKey, sealed).equals(plaintext)) throw new Error('raw round trip failed');
  const hint = size <= 1024 ? 200 : 1;
  cases.push({ name: `encrypt ${fmt(size)}`, kv: () => client.encrypt(plaintext), raw: () => raw.encrypt(rawKey, plaintext), hint });
  cases.push({ name: `decrypt ${fmt(size)}`, kv: () => client.decrypt(env), raw: () => raw.decrypt(rawKey, sealed), hint });
}

function fmt(n) {
  return n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : `${n / 1024} KiB`;
}

// warm-up
for (const c of cases) {
  await batch(c.kv, c.hint);
  await batch(c.raw, c.hint);
}
const results = cases.map((c) => ({ ...c, kvUs: [], rawUs: [], ratio: [] }));
for (let r = 0; r < ROUNDS; r++) {
  for (const c of results) {
    // alternate which goes first
    const first = r % 2 === 0;
    const a = first ? await batch(c.kv, c.hint) : undefined;
    const b = await batch(c.raw, c.hint);
    const k = first ? a : await batch(c.kv, c.hint);
    c.kvUs.push(k);
    c.rawUs.push(b);
    c.ratio.push(b / k);
  }
}
console.log(`node ${process.version}, ${ROUNDS} interleaved rounds, ~${BATCH_MS} ms per batch; CPU time per op; ratio = raw / kv (median of per-round ratios)`);
console.log('case            kv µs/op   raw µs/op   ratio (min..max)   [µs: medians of CPU time]');
for (const c of results) {
  const lo = Math.min(...c.ratio).toFixed(2);
  const hi = Math.max(...c.ratio).toFixed(2);
  console.log(`${c.name.padEnd(15)} ${median(c.kvUs).toFixed(1).padStart(9)} ${median(c.rawUs).toFixed(1).padStart(11)}   ${median(c.ratio).toFixed(2)}x (${lo}..${hi})`);
}
