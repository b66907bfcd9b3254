/**
 * The code a FieldEncryptorPool worker thread runs (evaluated, so it needs no file next to the
 * bundle and no TypeScript at run time). It only does AES-256-GCM over packed buffers with DEKs
 * the main thread resolved: no KEK, no key store, no vault access in workers. The byte layout is
 * docs/format.md §Field (randomized): `0xF1 ‖ keyRef(8) ‖ nonce(12) ‖ ciphertext ‖ tag(16)`, AAD =
 * the first 9 bytes ‖ the caller's aad. Cross-tested against FieldEncryptor in both directions.
 *
 * Messages (all byte arrays transferred, never shared):
 *   enc: { id, dek, prefix, data, offs, aad, aadOffs }       → { id, out, outOffs }
 *   dec: { id, keys: [dek…], keyIndex, data, offs, aad, aadOffs } → { id, out, outOffs, ok }
 *
 * @module
 * @internal
 */
export const POOL_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const { createCipheriv, createDecipheriv, createSecretKey, randomFillSync } = require('node:crypto');
const PREFIX = 9, NONCE = 12, TAG = 16, OVERHEAD = PREFIX + NONCE + TAG;
let pool = Buffer.alloc(0), poolOff = 0;
function nonceInto(out, at) {
  if (poolOff + NONCE > pool.length) { pool = randomFillSync(Buffer.allocUnsafe(4096)); poolOff = 0; }
  pool.copy(out, at, poolOff, poolOff + NONCE);
  poolOff += NONCE;
}
function aadBuffer(scratch, prefix, aad, from, to) {
  const n = PREFIX + (to - from);
  const b = n <= scratch.length ? scratch.subarray(0, n) : Buffer.allocUnsafe(n);
  prefix.copy(b, 0, 0, PREFIX);
  aad.copy(b, PREFIX, from, to);
  return b;
}
const view = (u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
function encrypt(m) {
  const key = createSecretKey(m.dek);
  m.dek.fill(0);
  const prefix = view(m.prefix), data = view(m.data), aad = view(m.aad);
  const n = m.offs.length - 1;
  const outOffs = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) outOffs[i + 1] = outOffs[i] + (m.offs[i + 1] - m.offs[i]) + OVERHEAD;
  const out = Buffer.allocUnsafeSlow(Math.max(outOffs[n], 1));
  const scratch = Buffer.allocUnsafe(4096 + PREFIX);
  for (let i = 0; i < n; i++) {
    const o = outOffs[i];
    prefix.copy(out, o, 0, PREFIX);
    nonceInto(out, o + PREFIX);
    const c = createCipheriv('aes-256-gcm', key, out.subarray(o + PREFIX, o + PREFIX + NONCE));
    c.setAAD(aadBuffer(scratch, prefix, aad, m.aadOffs[i], m.aadOffs[i + 1]));
    let w = o + PREFIX + NONCE;
    w += c.update(data.subarray(m.offs[i], m.offs[i + 1])).copy(out, w);
    c.final();
    c.getAuthTag().copy(out, w);
  }
  return { id: m.id, out: out.buffer, outOffs, byteOffset: out.byteOffset, byteLength: out.byteLength };
}
function decrypt(m) {
  const keys = m.keys.map((k) => { const key = createSecretKey(k); k.fill(0); return key; });
  const data = view(m.data), aad = view(m.aad);
  const n = m.offs.length - 1;
  const outOffs = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) outOffs[i + 1] = outOffs[i] + Math.max(0, m.offs[i + 1] - m.offs[i] - OVERHEAD);
  const out = Buffer.allocUnsafeSlow(Math.max(outOffs[n], 1));
  const ok = new Uint8Array(n);
  const scratch = Buffer.allocUnsafe(4096 + PREFIX);
  for (let i = 0; i < n; i++) {
    const k = m.keyIndex[i];
    const ct = data.subarray(m.offs[i], m.offs[i + 1]);
    if (k < 0 || ct.length < OVERHEAD) continue;
    try {
      const d = createDecipheriv('aes-256-gcm', keys[k], ct.subarray(PREFIX, PREFIX + NONCE));
      d.setAAD(aadBuffer(scratch, ct, aad, m.aadOffs[i], m.aadOffs[i + 1]));
      d.setAuthTag(ct.subarray(ct.length - TAG));
      const p = d.update(ct.subarray(PREFIX + NONCE, ct.length - TAG));
      d.final();
      p.copy(out, outOffs[i]);
      ok[i] = 1;
    } catch {
      out.fill(0, outOffs[i], outOffs[i + 1]);
    }
  }
  return { id: m.id, out: out.buffer, outOffs, ok, byteOffset: out.byteOffset, byteLength: outOffs[n] };
}
parentPort.on('message', (m) => {
  let r;
  try {
    r = m.op === 'enc' ? encrypt(m) : decrypt(m);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message) });
    return;
  }
  parentPort.postMessage(r, [r.out]);
});
`;
