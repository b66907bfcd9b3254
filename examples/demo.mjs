// The end-to-end tour: `npm start` runs it on a fresh clone, offline.
// Key Vault is the embedded local vault (the real @azure/keyvault-keys clients talk to it
// in-process); pointing the same code at a real vault is a URL and a credential away.
// It uses only the public API, exactly as an application would.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { KeyClient } from '@azure/keyvault-keys';
import { EnvelopeClient, EnvelopeError, FieldEncryptor, FileKeyStore, LocalAesKek, readWrappedKeys } from '../dist/index.js';
import { KeyVaultKek } from '../dist/azure.js';
import { LocalKeyVault } from '../dist/local-vault.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const log = (...args) => console.log(...args);
const short = (kid) => kid.replace(/^https:\/\/[^/]+\/keys\//, '');

const vault = await LocalKeyVault.start(); // in-process: no port, no certificate
const calls = () => ({ ...vault.stats.byOperation });
const delta = (before) => {
  const now = calls();
  const out = Object.entries(now).map(([op, n]) => [op, n - (before[op] ?? 0)]).filter(([, n]) => n > 0);
  return out.length === 0 ? 'no vault calls' : out.map(([op, n]) => `${op} ×${n}`).join(', ');
};
const dir = mkdtempSync(join(tmpdir(), 'kv-envelope-demo-'));

try {
  log(`kv-envelope demo on the embedded local Key Vault (${vault.url})\n`);
  const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
  await keys.createRsaKey('orders-kek', { keySize: 3072 });
  const kek = new KeyVaultKek({ vaultUrl: vault.url, keyName: 'orders-kek', credential: vault.credential(), clientOptions: vault.clientOptions });
  const drKek = new LocalAesKek({ id: 'offline-dr-key', key: randomBytes(32) }); // e.g. a key kept in an HSM offline

  // 1. Envelopes: self-contained, DEK wrapped under the vault key and a DR key.
  let before = calls();
  const client = new EnvelopeClient({ keks: [kek, drKek] });
  const envelopes = [];
  for (let i = 0; i < 1000; i++) envelopes.push(await client.encrypt(enc.encode(`order #${i}`), { context: { tenant: 'acme' } }));
  const [w] = readWrappedKeys(envelopes[0]);
  log(`1. 1,000 envelopes encrypted (${envelopes[0].length} bytes each); the DEK is wrapped by ${short(w.kekId)} (${w.alg})`);
  log(`   vault: ${delta(before)} — RSA-OAEP-256 wraps are done locally with the cached public key`);

  // 2. A cold reader: 1,000 concurrent decrypts, one vault unwrap.
  before = calls();
  const reader = new EnvelopeClient({ keks: new KeyVaultKek({ vaultUrl: vault.url, keyName: 'orders-kek', credential: vault.credential(), clientOptions: vault.clientOptions }) });
  const opened = await Promise.all(envelopes.map((e) => reader.decrypt(e)));
  log(`2. a cold reader decrypted all 1,000 concurrently: "${dec.decode(opened[999].plaintext)}" ${JSON.stringify(opened[999].context)}`);
  log(`   vault: ${delta(before)}`);

  // 3. Tampering and misdirection give typed errors, never plaintext.
  const tampered = Uint8Array.from(envelopes[0]);
  tampered[tampered.length - 1] ^= 1;
  const codeOf = (p) => p.then(() => 'no error?!', (err) => (err instanceof EnvelopeError ? err.code : String(err)));
  log(`3. one flipped bit → ${await codeOf(reader.decrypt(tampered))}`);
  log(`   base64 text instead of bytes → ${await codeOf(reader.decrypt(Buffer.from(Buffer.from(envelopes[0]).toString('base64'))))}`);

  // 4. Rotation: new envelopes name the new version; old ones still decrypt.
  before = calls();
  await keys.rotateKey('orders-kek');
  await kek.refresh();
  const fresh = new EnvelopeClient({ keks: kek, cache: false });
  const after = await fresh.encrypt(enc.encode('after rotation'));
  log(`4. rotated: new envelopes name ${short(readWrappedKeys(after)[0].kekId)}; before: ${short(w.kekId)}`);
  log(`   both decrypt: "${dec.decode((await reader.decrypt(after)).plaintext)}", "${dec.decode((await reader.decrypt(envelopes[1])).plaintext)}"`);
  log(`   vault: ${delta(before)}`);

  // 5. Streams: 64 MiB with flat memory.
  const block = randomBytes(1 << 20);
  let streamed = 0;
  const source = Readable.from((function* () { for (let i = 0; i < 64; i++) yield block; })());
  for await (const chunk of source.pipe(client.encryptStream()).pipe(reader.decryptStream())) streamed += chunk.length;
  log(`5. streamed ${streamed >> 20} MiB through encryptStream → decryptStream`);

  // 6. Fields: compact, bound to their row; DEK records in a file key store.
  before = calls();
  const fields = new FieldEncryptor({ keks: kek, keyStore: new FileKeyStore({ directory: dir }) });
  const rows = [];
  for (let id = 0; id < 10_000; id++) rows.push(await fields.encryptText(`078-05-${String(id).padStart(4, '0')}`, { aad: `users.ssn#${id}` }));
  const raw = await fields.encrypt('078-05-1120', { aad: 'users.ssn#1' });
  log(`6. 10,000 SSNs encrypted: ${raw.length} bytes for an 11-byte value (${raw.length - 11} bytes overhead); vault: ${delta(before)}`);
  before = calls();
  const other = new FieldEncryptor({
    keks: new KeyVaultKek({ vaultUrl: vault.url, keyName: 'orders-kek', credential: vault.credential(), clientOptions: vault.clientOptions }),
    keyStore: new FileKeyStore({ directory: dir }),
  });
  await Promise.all(rows.map((r, id) => other.decryptText(r, { aad: `users.ssn#${id}` })));
  log(`   another process decrypted all 10,000 rows; vault: ${delta(before)}`);
  log(`   row 42's ciphertext pasted into row 43 → ${await codeOf(other.decryptText(rows[42], { aad: 'users.ssn#43' }))}`);
  const a = await fields.encryptDeterministicText('ada@example.com', { keyName: 'users.email' });
  const b = await other.encryptDeterministicText('ada@example.com', { keyName: 'users.email' });
  log(`   deterministic (searchable) email, equal across processes: ${a === b}`);

  log(`\nTotal vault calls: ${vault.stats.total} (${delta({})})`);
  log('Next: `npm test`; README.md; docs/format.md, docs/security.md, docs/operations.md.');
} finally {
  rmSync(dir, { recursive: true, force: true });
  await vault.close();
}
