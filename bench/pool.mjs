// FieldEncryptorPool vs one thread: N encryptions (and decryptions) of 100-byte values, built
// package (../dist), interleaved rounds, median ratio. Agreement first: the pool's output
// decrypts with FieldEncryptor and the reverse.
//   node bench/pool.mjs --n=1000000 --workers=2 --rounds=3
import { randomBytes } from 'node:crypto';
const opts = { n: 1_000_000, workers: 2, rounds: 3, size: 100 };
for (const a of process.argv.slice(2)) {
  const [k, v] = a.replace(/^--/, '').split('=');
  if (!(k in opts)) { console.log('options: --n=1000000 --workers=2 --rounds=3 --size=100'); process.exit(2); }
  opts[k] = Number(v);
}
const kv = await import(new URL('../dist/index.js', import.meta.url).href);
const fields = new kv.FieldEncryptor({ keks: new kv.LocalAesKek({ id: 'b', key: randomBytes(32) }), keyStore: new kv.MemoryKeyStore() });
const pool = new kv.FieldEncryptorPool({ fields, workers: opts.workers });
const values = Array.from({ length: opts.n }, () => randomBytes(opts.size));
const items = values.map((value, i) => ({ value, aad: `t.c#${i}` }));

// Agreement.
const sample = items.slice(0, 1000);
const byPool = await pool.encryptMany(sample);
for (let i = 0; i < sample.length; i++) {
  const back = await fields.decrypt(byPool[i].value, { aad: sample[i].aad });
  if (!Buffer.from(back).equals(sample[i].value)) throw new Error('pool output does not decrypt');
}
const ratios = { encrypt: [], decrypt: [] };
const rates = { single: [], pool: [], singleDec: [], poolDec: [] };
for (let r = 0; r < opts.rounds; r++) {
  let t = performance.now();
  const single = [];
  for (const it of items) single.push(await fields.encrypt(it.value, { aad: it.aad }));
  const singleMs = performance.now() - t;
  t = performance.now();
  const pooled = await pool.encryptMany(items);
  const poolMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < items.length; i++) await fields.decrypt(single[i], { aad: items[i].aad });
  const singleDecMs = performance.now() - t;
  t = performance.now();
  const dec = await pool.decryptMany(pooled.map((p, i) => ({ value: p.value, aad: items[i].aad })));
  const poolDecMs = performance.now() - t;
  if (!dec.every((d) => d.ok)) throw new Error('pool decrypt failed');
  ratios.encrypt.push(singleMs / poolMs);
  ratios.decrypt.push(singleDecMs / poolDecMs);
  rates.single.push(opts.n / singleMs * 1000); rates.pool.push(opts.n / poolMs * 1000);
  rates.singleDec.push(opts.n / singleDecMs * 1000); rates.poolDec.push(opts.n / poolDecMs * 1000);
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const k = (x) => `${(x / 1000).toFixed(1)}k/s`;
console.log(`${opts.n.toLocaleString('en')} × ${opts.size} B, ${opts.workers} workers, ${opts.rounds} rounds (medians)`);
console.log(`| | one thread | pool | pool / one thread |\n| :-- | --: | --: | --: |`);
console.log(`| encrypt | ${k(med(rates.single))} | ${k(med(rates.pool))} | ${med(ratios.encrypt).toFixed(2)}x |`);
console.log(`| decrypt | ${k(med(rates.singleDec))} | ${k(med(rates.poolDec))} | ${med(ratios.decrypt).toFixed(2)}x |`);
await pool.close();
