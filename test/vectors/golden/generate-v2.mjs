// Generates test/vectors/golden/v2.json: envelope v2 ciphertexts that every later version must
// decrypt (test/vectors/golden-v2.test.ts). Run ONCE, from the built package:
//
//   npm run build --silent && node test/vectors/golden/generate-v2.mjs
//
// It refuses to overwrite an existing file: the committed bytes are the vectors. A new format
// version gets a new file (v3.json) and a new script.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const out = fileURLToPath(new URL('./v2.json', import.meta.url));
if (existsSync(out)) {
  console.error(`${out} exists: golden vectors are never regenerated`);
  process.exit(1);
}
const kv = await import(fileURLToPath(new URL('../../../dist/index.js', import.meta.url)));
const hex = (b) => Buffer.from(b).toString('hex');

const material = {
  aesKeyHex: hex(randomBytes(32)),
  aes2KeyHex: hex(randomBytes(32)),
  rsaPrivatePem: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
};
const keks = {
  aes: new kv.LocalAesKek({ id: 'golden/aes/2', key: Buffer.from(material.aesKeyHex, 'hex') }),
  aes2: new kv.LocalAesKek({ id: 'golden/aes-dr/2', key: Buffer.from(material.aes2KeyHex, 'hex') }),
  rsa: new kv.LocalRsaKek({ id: 'golden/rsa/2', privateKey: material.rsaPrivatePem }),
};

const cases = [
  { name: '1 KEK (AES-KW), text with context', keks: ['aes'], context: { tenant: 'acme', purpose: 'golden' }, plaintext: Buffer.from('hello, forever (v2)') },
  { name: '1 KEK (AES-KW), empty plaintext', keks: ['aes'], context: {}, plaintext: new Uint8Array(0) },
  { name: '3 KEKs (AES-KW, RSA-OAEP-256, AES-KW DR)', keks: ['aes', 'rsa', 'aes2'], context: { k: 'v' }, plaintext: randomBytes(100) },
  { name: 'multi-frame (1 KiB frames), 2 KEKs', keks: ['aes', 'aes2'], context: { a: 'b' }, plaintext: randomBytes(3000), frameSize: 1024 },
  { name: 'required context, RSA-OAEP-256', keks: ['rsa'], context: { stored: 'yes' }, requiredContext: { row: '42', table: 'users' }, plaintext: Buffer.from('bound to row 42') },
];

const envelopes = [];
for (const c of cases) {
  const client = new kv.EnvelopeClient({ keks: c.keks.map((n) => keks[n]), cache: false, ...(c.frameSize ? { frameSize: c.frameSize } : {}) });
  const envelope = await client.encrypt(c.plaintext, { context: c.context, ...(c.requiredContext ? { requiredContext: c.requiredContext } : {}) });
  const dek = await keks[c.keks[0]].unwrap(kv.readWrappedKeys(envelope)[0]);
  envelopes.push({
    name: c.name, keks: c.keks, context: c.context, requiredContext: c.requiredContext,
    plaintextHex: hex(c.plaintext), dekHex: hex(dek), envelopeHex: hex(envelope),
  });
}
writeFileSync(out, `${JSON.stringify({ ...material, envelopes }, null, 2)}\n`);
console.log(`wrote ${envelopes.length} v2 envelopes to ${out}`);
