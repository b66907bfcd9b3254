/**
 * `kv-envelope demo`: the tour a newcomer runs first (`npm start`). It uses a fresh, in-memory
 * embedded vault (your ./.kv-envelope vault is not touched) and only the public API.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeyClient } from '@azure/keyvault-keys';
import { KeyVaultKek } from '../../azure/index.js';
import { EnvelopeClient } from '../../envelope/client.js';
import { EnvelopeError } from '../../errors.js';
import { FieldEncryptor } from '../../field/encryptor.js';
import { readWrappedKeys } from '../../format/rewrap.js';
import { LocalKeyVault } from '../../local-vault/index.js';
import { JwtSigner, createVerifier } from '../../jwt/index.js';
import { rewrapEnvelopes } from '../../rewrap/index.js';
import { FileKeyStore } from '../../store/file.js';
import { parse, positionals } from '../args.js';
import type { Output } from '../output.js';
import { databaseChapter } from './demo-database.js';

export const DEMO_HELP = `Usage: kv-envelope demo [--json]

The tour: creates keys in a fresh in-memory local vault, encrypts 1,000 envelopes and 10,000
database fields, shows tamper and misuse errors, rotates the key, re-wraps the old envelopes,
streams 64 MiB, stores encrypted rows in PostgreSQL (PGlite, in-process) and finds one by its
blind index, signs and verifies a JWT, and prints the vault calls each step made.`;

const enc = new TextEncoder();
const dec = new TextDecoder();
const short = (kid: string) => kid.replace(/^https:\/\/[^/]+\/keys\//, '');
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error?!', (err: unknown) => (err instanceof EnvelopeError ? err.code : String(err)));

export async function demoCommand(argv: string[], out: Output): Promise<number> {
  const { values, positionals: pos } = parse(argv, {}, 'demo');
  if (values.help) {
    process.stdout.write(`${DEMO_HELP}\n`);
    return 0;
  }
  positionals(pos, [], 'demo');
  const vault = await LocalKeyVault.start();
  const dir = await mkdtemp(join(tmpdir(), 'kv-envelope-demo-'));
  const steps: Record<string, unknown>[] = [];
  const say = (text: string) => {
    if (!out.json) process.stdout.write(`${text}\n`);
  };
  let mark = { ...vault.stats.byOperation } as Record<string, number>;
  const calls = () => {
    const now = vault.stats.byOperation as Record<string, number>;
    const d = Object.fromEntries(Object.entries(now).map(([op, n]) => [op, n - (mark[op] ?? 0)]).filter(([, n]) => (n as number) > 0));
    mark = { ...now };
    return d as Record<string, number>;
  };
  const fmt = (d: Record<string, number>) => (Object.keys(d).length === 0 ? 'no vault calls' : Object.entries(d).map(([op, n]) => `${op} ×${n}`).join(', '));
  const kekFor = () => new KeyVaultKek({ vaultUrl: vault.url, keyName: 'orders-kek', credential: vault.credential(), clientOptions: vault.clientOptions });
  try {
    say(`kv-envelope demo on a fresh in-memory local Key Vault (${vault.url}; nothing is written to your home folder)\n`);
    say('Envelope encryption in two sentences: each piece of data is encrypted here with an AES-256 data key (DEK),');
    say('and the DEK is wrapped (encrypted) by a key-encryption key (KEK) that never leaves the vault. You store the');
    say('ciphertext with its wrapped DEK; the vault is asked to unwrap DEKs, never to see your data.\n');
    const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    await keys.createRsaKey('orders-kek', { keySize: 3072 });
    calls();
    const kek = kekFor();

    const client = new EnvelopeClient({ keks: kek });
    const envelopes: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) envelopes.push(await client.encrypt(enc.encode(`order #${i}`), { context: { tenant: 'acme' } }));
    const first = readWrappedKeys(envelopes[0]!)[0]!;
    let d = calls();
    say(`1. encrypted 1,000 envelopes (${envelopes[0]!.length} bytes each); they share one DEK, wrapped once by the KEK ${short(first.kekId)} (${first.alg})`);
    say(`   vault: ${fmt(d)} — RSA-OAEP-256 wraps happen locally with the cached public key`);
    steps.push({ step: 'encrypt envelopes', count: 1000, bytes: envelopes[0]!.length, kekId: first.kekId, vaultCalls: d });

    const reader = new EnvelopeClient({ keks: kekFor() });
    const opened = await Promise.all(envelopes.map((e) => reader.decrypt(e)));
    d = calls();
    say(`2. a cold reader decrypted all 1,000 concurrently ("${dec.decode(opened[999]!.plaintext)}", ${JSON.stringify(opened[999]!.context)})`);
    say(`   vault: ${fmt(d)}`);
    steps.push({ step: 'decrypt envelopes (cold, concurrent)', count: 1000, vaultCalls: d });

    const tampered = Uint8Array.from(envelopes[0]!);
    tampered[tampered.length - 1]! ^= 1;
    const errors = {
      tampered: await codeOf(reader.decrypt(tampered)),
      base64: await codeOf(reader.decrypt(Buffer.from(Buffer.from(envelopes[0]!).toString('base64')))),
    };
    say(`3. one flipped bit → ${errors.tampered}; base64 text instead of bytes → ${errors.base64}`);
    steps.push({ step: 'misuse', errors });

    await keys.rotateKey('orders-kek');
    await kek.refresh();
    const after = await new EnvelopeClient({ keks: kek, cache: false }).encrypt(enc.encode('after rotation'));
    const newKid = readWrappedKeys(after)[0]!.kekId;
    const both = [dec.decode((await reader.decrypt(after)).plaintext), dec.decode((await reader.decrypt(envelopes[1]!)).plaintext)];
    d = calls();
    say(`4. rotated: new envelopes name ${short(newKid)}; both versions decrypt ("${both[0]}", "${both[1]}")`);
    say(`   vault: ${fmt(d)}`);
    steps.push({ step: 'rotate', oldKekId: first.kekId, newKekId: newKid, vaultCalls: d });

    const rewrapped: Uint8Array[] = [];
    let skipped = 0;
    for await (const r of rewrapEnvelopes(envelopes.map((envelope, i) => ({ id: String(i), envelope })), { to: kek })) {
      if (r.status === 'rewrapped') rewrapped.push(r.envelope);
      else if (r.status === 'skipped') skipped++;
    }
    const rewrapCalls = calls();
    const samePayload = Buffer.from(rewrapped[7]!.subarray(-40)).equals(Buffer.from(envelopes[7]!.subarray(-40)));
    const onlyNew = new EnvelopeClient({ keks: kekFor() });
    const check = dec.decode((await onlyNew.decrypt(rewrapped[7]!)).plaintext);
    calls();
    say(`5. re-wrapped the 1,000 old envelopes under ${short(newKid)}: ${rewrapped.length} re-wrapped, ${skipped} skipped; payload bytes unchanged: ${samePayload}; "${check}"`);
    say(`   vault: ${fmt(rewrapCalls)} — one unwrap per distinct data key, not per envelope`);
    steps.push({ step: 'rewrap', rewrapped: rewrapped.length, skipped, payloadUnchanged: samePayload, vaultCalls: rewrapCalls });

    const block = randomBytes(1 << 20);
    const plainFile = join(dir, 'backup.bin');
    const sealedFile = join(dir, 'backup.bin.kve');
    await pipeline(Readable.from((function* () { for (let i = 0; i < 64; i++) yield block; })()), createWriteStream(plainFile));
    await pipeline(createReadStream(plainFile), client.encryptStream({ context: { file: 'backup.bin' } }), createWriteStream(sealedFile));
    let streamed = 0;
    const digest = createHash('sha256');
    for await (const chunk of createReadStream(sealedFile).pipe(reader.decryptStream())) {
      streamed += (chunk as Buffer).length;
      digest.update(chunk as Buffer);
    }
    const sameFile = digest.digest('hex') === createHash('sha256').update(await readFile(plainFile)).digest('hex');
    const sealedSize = (await stat(sealedFile)).size;
    say(`6. encrypted a ${streamed >> 20} MiB file to ${sealedSize} bytes with encryptStream, decrypted it back with decryptStream (identical: ${sameFile}); memory stays flat`);
    steps.push({ step: 'file', bytes: streamed, envelopeBytes: sealedSize, identical: sameFile });

    const fields = new FieldEncryptor({ keks: kek, keyStore: new FileKeyStore({ directory: dir }) });
    const rows: string[] = [];
    for (let id = 0; id < 10_000; id++) rows.push(await fields.encryptText(`078-05-${String(id).padStart(4, '0')}`, { aad: `users.ssn#${id}` }));
    const raw = await fields.encrypt('078-05-1120', { aad: 'users.ssn#1' });
    d = calls();
    say(`7. encrypted 10,000 SSNs: ${raw.length} bytes for an 11-byte value (${raw.length - 11} bytes overhead); vault: ${fmt(d)}`);
    const other = new FieldEncryptor({ keks: kekFor(), keyStore: new FileKeyStore({ directory: dir }) });
    await Promise.all(rows.map((r, id) => other.decryptText(r, { aad: `users.ssn#${id}` })));
    const d2 = calls();
    const swapped = await codeOf(other.decryptText(rows[42]!, { aad: 'users.ssn#43' }));
    const equal = (await fields.encryptDeterministicText('ada@example.com', { keyName: 'users.email' })) === (await other.encryptDeterministicText('ada@example.com', { keyName: 'users.email' }));
    say(`   another process decrypted all 10,000 rows; vault: ${fmt(d2)}`);
    say(`   row 42's ciphertext pasted into row 43 → ${swapped}; searchable email equal across processes: ${equal}`);
    steps.push({ step: 'fields', count: 10_000, overhead: raw.length - 11, encryptVaultCalls: d, decryptVaultCalls: d2, swappedRow: swapped, deterministicEqual: equal });

    steps.push(await databaseChapter(8, { keys, keyName: 'orders-kek', kek, say, calls, fmt }));

    await keys.createEcKey('jwt-signer', { curve: 'P-256' });
    calls();
    const signer = new JwtSigner({ vaultUrl: vault.url, keyName: 'jwt-signer', credential: vault.credential(), clientOptions: vault.clientOptions, publishLeadTime: '0s' });
    const token = await signer.sign({ scope: 'orders:read' }, { subject: 'alice', audience: 'orders', issuer: 'https://issuer.example', expiresIn: '15m' });
    const signCalls = calls();
    const verifier = createVerifier({ signer, algorithms: ['ES256'], audience: 'orders', issuer: 'https://issuer.example' });
    for (let i = 0; i < 1000; i++) await verifier.verify(token);
    const verifyCalls = calls();
    const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${token.slice(token.lastIndexOf('.') + 1).split('').reverse().join('')}`;
    const forgedResult = await verifier.verify(forged).then(() => 'accepted?!', (err: unknown) => (err as { code?: string }).code ?? String(err));
    say(`9. signed a JWT (ES256) with a vault EC key: ${token.slice(0, 40)}…; vault: ${fmt(signCalls)}`);
    say(`   verified it 1,000 times locally against the JWKS; vault: ${fmt(verifyCalls)}; a forged signature → ${forgedResult}`);
    steps.push({ step: 'jwt', signVaultCalls: signCalls, verifyVaultCalls: verifyCalls, forged: forgedResult });

    const total = vault.stats.total;
    say(`\nTotal vault calls: ${total} (${fmt(vault.stats.byOperation as Record<string, number>)})`);
    say('\nYour turn (keys go to ./.kv-envelope/, which gets a .gitignore: it holds private keys):');
    say('  npx kv-envelope key create my-kek');
    say('  npx kv-envelope encrypt --key my-kek FILE      # → FILE.kve; then: npx kv-envelope decrypt FILE.kve -o FILE.out');
    say('All commands and options:');
    say('  npx kv-envelope --help');
    if (out.json) out.result('', { vault: vault.url, steps, totalVaultCalls: total, byOperation: vault.stats.byOperation });
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await vault.close();
  }
}
