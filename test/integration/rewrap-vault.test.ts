/**
 * The re-wrap engine with KeyVaultKek and the REAL @azure/keyvault-keys clients against the
 * local vault: vault calls counted by the vault itself.
 *
 * - 100,000 envelopes under 100 DEKs, key rotated: exactly 100 unwrapKey and 0 wrapKey calls;
 *   every result names the new version and decrypts with the old version disabled.
 * - verify doubles the unwraps (one more per DEK), nothing else.
 * - rewrapKeyStore on a FileKeyStore: records re-wrapped (revision 2, new version), old rows
 *   decrypt with the old version disabled; a second run is all skips and 0 vault calls; two
 *   runs at once on one store end with every record re-wrapped once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultKek } from '../../src/azure/index.js';
import { EnvelopeClient, FieldEncryptor, FileKeyStore, UnwrappedKeyCache } from '../../src/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { rewrapEnvelopes, rewrapKeyStore, type EnvelopeItem, type RewrapProgress } from '../../src/rewrap/index.js';
import { drain, splitEnvelope, str, text } from '../helpers/rewrap.js';

const ENVELOPES = 100_000;
const DEKS = 100;

describe('re-wrap against the local vault (in-process)', () => {
  let vault: LocalKeyVault;
  let keyClient: KeyClient;
  let root: string;
  let seq = 0;

  beforeAll(async () => {
    vault = await LocalKeyVault.start();
    keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    root = await mkdtemp(join(tmpdir(), 'kv-envelope-rewrap-vault-'));
  });
  afterAll(async () => {
    await vault.close();
    await rm(root, { recursive: true, force: true });
  });

  const kek = (name: string) => new KeyVaultKek({ vaultUrl: vault.url, keyName: name, credential: vault.credential(), clientOptions: vault.clientOptions });
  const calls = () => ({ ...vault.stats.byOperation });

  it(`${ENVELOPES.toLocaleString('en')} envelopes under ${DEKS} DEKs: ${DEKS} unwrapKey, 0 wrapKey; all name the new version and decrypt`, async () => {
    const name = `rewrap-${++seq}`;
    const v1 = await keyClient.createRsaKey(name, { keySize: 2048 });
    const writerKek = kek(name);
    const writer = new EnvelopeClient({ keks: writerKek, cache: { maxMessages: ENVELOPES / DEKS } });
    const items: EnvelopeItem[] = [];
    for (let i = 0; i < ENVELOPES; i++) items.push({ id: `e${i}`, envelope: await writer.encrypt(text(`message ${i}`)) });
    expect(new Set(items.map((i) => Buffer.from(splitEnvelope(i.envelope).wrappedKeys[0]!.bytes).toString('hex'))).size).toBe(DEKS);

    const v2 = await keyClient.rotateKey(name);
    const rewrapKek = kek(name);
    expect(await rewrapKek.refresh()).toBe(v2.id);
    vault.stats.reset();
    const progress: RewrapProgress[] = [];
    const results = await drain(rewrapEnvelopes(items, { to: [rewrapKek], concurrency: 16, total: ENVELOPES, onProgress: (p) => progress.push(p) }));
    const budget = calls();
    expect(budget.unwrapKey).toBe(DEKS);
    expect(budget.wrapKey ?? 0).toBe(0);
    // The rest: the engine's own refresh (getKey) and one GET per cold CryptographyClient (the v1 kid).
    expect(budget).toEqual({ unwrapKey: DEKS, getKey: 2 });
    expect(progress.at(-1)).toMatchObject({ done: ENVELOPES, rewrapped: ENVELOPES, failed: 0, final: true });

    // Only the new version may be used from now on: disable v1, decrypt everything on a fresh KEK.
    await keyClient.updateKeyProperties(name, v1.properties.version!, { enabled: false });
    const reader = new EnvelopeClient({ keks: kek(name), unwrappedKeyCache: new UnwrappedKeyCache() });
    vault.stats.reset();
    for (const [i, r] of results.entries()) {
      if (r.status !== 'rewrapped') throw new Error(`${r.id}: ${r.status}`);
      expect(r.kekIds).toEqual([v2.id]);
      const { plaintext } = await reader.decrypt(r.envelope);
      if (i % 997 === 0) expect(str(plaintext)).toBe(`message ${i}`);
    }
    expect(vault.stats.byOperation.unwrapKey).toBe(DEKS);
  }, 300_000);

  it('verify costs one more unwrapKey per DEK and still no wrapKey', async () => {
    const name = `rewrap-${++seq}`;
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const writer = new EnvelopeClient({ keks: kek(name), cache: { maxMessages: 100 } });
    const items: EnvelopeItem[] = [];
    for (let i = 0; i < 1000; i++) items.push({ id: `e${i}`, envelope: await writer.encrypt(text(`m${i}`)) });
    await keyClient.rotateKey(name);
    vault.stats.reset();
    const results = await drain(rewrapEnvelopes(items, { to: [kek(name)], verify: true }));
    expect(results.every((r) => r.status === 'rewrapped' && r.verified)).toBe(true);
    expect(vault.stats.byOperation.unwrapKey).toBe(2 * 10);
    expect(vault.stats.byOperation.wrapKey ?? 0).toBe(0);
  });

  it('rewrapKeyStore on a FileKeyStore: records re-wrapped in place, old rows decrypt under the new version alone', async () => {
    const name = `fields-${++seq}`;
    const v1 = await keyClient.createRsaKey(name, { keySize: 2048 });
    const directory = join(root, name);
    const store = new FileKeyStore({ directory });
    const fields = new FieldEncryptor({ keks: kek(name), keyStore: store, limits: { maxEncryptionsPerDek: 100 } });
    const rows: { aad: string; ct: string }[] = [];
    for (let i = 0; i < 1000; i++) rows.push({ aad: `users.ssn#${i}`, ct: await fields.encryptText(`ssn-${i}`, { aad: `users.ssn#${i}` }) });
    const email = await fields.encryptDeterministicText('a@example.com', { keyName: 'users.email', aad: 'users.email' });
    const before = await drain(store.list());
    expect(before).toHaveLength(11);

    const v2 = await keyClient.rotateKey(name);
    vault.stats.reset();
    const results = await drain(rewrapKeyStore(store, { to: [kek(name)], concurrency: 4 }));
    expect(results.map((r) => r.status)).toEqual(Array(11).fill('rewrapped'));
    expect(vault.stats.byOperation.unwrapKey).toBe(11);
    expect(vault.stats.byOperation.wrapKey ?? 0).toBe(0);
    for (const r of await drain(store.list())) {
      expect(r.revision).toBe(2);
      expect(r.wrappedDeks.map((w) => w.kekId)).toEqual([v2.id]);
    }

    await keyClient.updateKeyProperties(name, v1.properties.version!, { enabled: false });
    const reader = new FieldEncryptor({ keks: kek(name), keyStore: new FileKeyStore({ directory }) });
    for (const [i, row] of rows.entries()) expect(await reader.decryptText(row.ct, { aad: row.aad })).toBe(`ssn-${i}`);
    expect(await reader.decryptText(email, { aad: 'users.email' })).toBe('a@example.com');

    vault.stats.reset();
    const again = await drain(rewrapKeyStore(store, { to: [kek(name)] }));
    expect(again.map((r) => r.status)).toEqual(Array(11).fill('skipped'));
    expect(vault.stats.byOperation.unwrapKey ?? 0).toBe(0);
  });

  it('two runs at once on one FileKeyStore: every record ends re-wrapped exactly once, no failure', async () => {
    const name = `fields-${++seq}`;
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const directory = join(root, name);
    const fields = new FieldEncryptor({ keks: kek(name), keyStore: new FileKeyStore({ directory }), limits: { maxEncryptionsPerDek: 10 } });
    for (let i = 0; i < 200; i++) await fields.encryptText(`v${i}`, { aad: `t#${i}` });
    const v2 = await keyClient.rotateKey(name);
    const run = () => drain(rewrapKeyStore(new FileKeyStore({ directory }), { to: [kek(name)], concurrency: 4 }));
    const [a, b] = await Promise.all([run(), run()]);
    expect([...a, ...b].filter((r) => r.status === 'failed')).toEqual([]);
    const rewrappedIds = [...a, ...b].filter((r) => r.status === 'rewrapped').map((r) => r.id);
    const records = await drain(new FileKeyStore({ directory }).list());
    expect(records).toHaveLength(20);
    // A record may be re-wrapped by both runs only if the second read it after the first's update... which makes it skip.
    expect(new Set(rewrappedIds).size).toBe(rewrappedIds.length);
    expect(rewrappedIds.length).toBe(20);
    for (const r of records) expect([r.revision, r.wrappedDeks[0]!.kekId]).toEqual([2, v2.id]);
  });
});
