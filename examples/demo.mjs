// The end-to-end tour of the core, on local KEKs (no Azure). `npm start` runs it.
// It uses only the public API, exactly as an application would.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  EnvelopeClient, EnvelopeError, FieldEncryptor, FileKeyStore, LocalAesKek, LocalRsaKek, readWrappedKeys,
} from '../dist/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const log = (...args) => console.log(...args);

/** Counts what the KEKs are asked to do: in production each unwrap is a Key Vault call. */
function counted(kek) {
  const calls = { wrap: 0, unwrap: 0 };
  return {
    calls,
    kek: {
      id: kek.id,
      matches: (w) => kek.matches(w),
      wrap: (dek, o) => (calls.wrap++, kek.wrap(dek, o)),
      unwrap: (w, o) => (calls.unwrap++, kek.unwrap(w, o)),
    },
  };
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const primary = counted(new LocalRsaKek({ id: 'demo/rsa-primary', privateKey }));
const dr = counted(new LocalAesKek({ id: 'demo/aes-dr', key: randomBytes(32) }));

log('kv-envelope demo — core on local KEKs (a primary RSA-OAEP-256 KEK and a DR AES-KW KEK)\n');

// 1. Envelopes: self-contained, under both KEKs.
const client = new EnvelopeClient({ keks: [primary.kek, dr.kek] });
const envelopes = [];
for (let i = 0; i < 1000; i++) envelopes.push(await client.encrypt(enc.encode(`order #${i}`), { context: { tenant: 'acme' } }));
log(`1. encrypted 1,000 envelopes: ${envelopes[0].length} bytes each for a ${'order #0'.length}-byte message`);
log(`   wrapped DEKs in each: ${readWrappedKeys(envelopes[0]).map((w) => `${w.kekId} (${w.alg})`).join(', ')}`);
log(`   KEK calls: ${primary.calls.wrap + dr.calls.wrap} wraps (one DEK, cached, wrapped under both KEKs)`);

// 2. A fresh reader (cold cache) that only has the DR key.
const reader = new EnvelopeClient({ keks: dr.kek });
const opened = await Promise.all(envelopes.map((e) => reader.decrypt(e)));
log(`2. a cold reader holding only the DR KEK decrypted all 1,000 concurrently with ${dr.calls.unwrap} unwrap`);
log(`   e.g. "${dec.decode(opened[999].plaintext)}" with context ${JSON.stringify(opened[999].context)}`);

// 3. Tampering is detected, with a typed error and no plaintext.
const tampered = Uint8Array.from(envelopes[0]);
tampered[tampered.length - 1] ^= 1;
try {
  await reader.decrypt(tampered);
} catch (err) {
  log(`3. one flipped bit → ${err instanceof EnvelopeError ? err.code : err}`);
}

// 4. Streams: 64 MiB through encrypt → decrypt with flat memory.
const block = randomBytes(1 << 20);
let streamed = 0;
const source = Readable.from((function* () { for (let i = 0; i < 64; i++) yield block; })());
for await (const chunk of source.pipe(client.encryptStream()).pipe(reader.decryptStream())) streamed += chunk.length;
log(`4. streamed ${streamed / (1 << 20)} MiB through encryptStream → decryptStream`);

// 5. Fields: compact ciphertexts bound to their row and column, keys in a file key store.
const dir = mkdtempSync(join(tmpdir(), 'kv-envelope-demo-'));
try {
  const keyStore = new FileKeyStore({ directory: dir });
  const fields = new FieldEncryptor({ keks: [primary.kek, dr.kek], keyStore });
  const wrapsBefore = primary.calls.wrap;
  const rows = [];
  for (let id = 0; id < 10_000; id++) rows.push(await fields.encryptText(`078-05-${String(id).padStart(4, '0')}`, { aad: `users.ssn#${id}` }));
  const raw = await fields.encrypt('078-05-1120', { aad: 'users.ssn#1' });
  log(`5. encrypted 10,000 SSNs with ${primary.calls.wrap - wrapsBefore} wrap; ${raw.length} bytes for an 11-byte value (${raw.length - 11} overhead)`);
  const other = new FieldEncryptor({ keks: dr.kek, keyStore: new FileKeyStore({ directory: dir }) });
  const unwrapsBefore = dr.calls.unwrap;
  log(`   another process decrypts row 42: ${await other.decryptText(rows[42], { aad: 'users.ssn#42' })}`);
  try {
    await other.decryptText(rows[42], { aad: 'users.ssn#43' });
  } catch (err) {
    log(`   the same ciphertext pasted into row 43 → ${err.code}`);
  }
  await Promise.all(rows.map((r, id) => other.decryptText(r, { aad: `users.ssn#${id}` })));
  log(`   it decrypted all 10,000 rows with ${dr.calls.unwrap - unwrapsBefore} unwrap`);
  const a = await fields.encryptDeterministicText('ada@example.com', { keyName: 'users.email' });
  const b = await other.encryptDeterministicText('ada@example.com', { keyName: 'users.email' });
  log(`   deterministic (searchable) email: equal across processes: ${a === b}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
log('\nDone. Next: `npm test`, and docs/format.md, docs/security.md, docs/operations.md.');
