/**
 * KeyVaultKek's part of record authentication, isCurrent and attacker-chosen kids, with the REAL
 * @azure/keyvault-keys clients against the local vault. Call counts come from the vault's own
 * counters (`vault.stats`).
 */
import { randomBytes } from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultKek, type KeyVaultKekOptions } from '../../src/azure/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import {
  type DekRecord, FieldEncryptor, KeyAccessDeniedError, KeyNotAllowedError, MemoryKeyStore, RecordAuthenticationError,
} from '../../src/index.js';
import { computeCommitment } from '../../src/store/internal/record-auth.js';
import { rewrapKeyStore } from '../../src/rewrap/index.js';

let seq = 0;
const keyName = (p: string) => `${p}-${++seq}`;

describe('KeyVaultKek and record authentication (local vault, in-process)', () => {
  let vault: LocalKeyVault;
  let keyClient: KeyClient;

  // oct-HSM keys exist on Managed HSM only.
  let hsm: LocalKeyVault;
  let hsmClient: KeyClient;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport: 'in-process' });
    keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    hsm = await LocalKeyVault.start({ transport: 'in-process', flavour: 'managed-hsm' });
    hsmClient = new KeyClient(hsm.url, hsm.credential(), hsm.clientOptions);
  });
  afterAll(async () => {
    await vault.close();
    await hsm.close();
  });

  function kek(name: string, extra: Partial<KeyVaultKekOptions> = {}, on: LocalKeyVault = vault): KeyVaultKek {
    return new KeyVaultKek({
      vaultUrl: on.url, keyName: name, credential: on.credential(), clientOptions: on.clientOptions,
      retry: { baseDelayMs: 5, maxDelayMs: 50 }, ...extra,
    });
  }

  it('a new named record costs 1 vault sign; 1,000 values under it cost 0; another encryptor adopts it with 0 signs', async () => {
    const name = keyName('sign');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek(name), keyStore: store });
    vault.stats.reset();
    const first = await fields.encryptDeterministic('alice@example.com', { keyName: 'users.email' });
    expect(vault.stats.byOperation.sign).toBe(1);
    for (let i = 0; i < 1000; i++) await fields.encryptDeterministic(`user${i}@example.com`, { keyName: 'users.email' });
    expect(vault.stats.byOperation.sign).toBe(1);
    expect(vault.stats.byOperation.unwrapKey ?? 0).toBe(0);

    const record = (await store.getByName('users.email'))!;
    expect(record.signatures).toHaveLength(1);
    expect(record.signatures![0]!.alg).toBe('PS256');
    expect(record.signatures![0]!.kekId).toBe(record.wrappedDeks[0]!.kekId);

    vault.stats.reset();
    const other = new FieldEncryptor({ keks: kek(name), keyStore: store });
    expect(await other.encryptDeterministic('alice@example.com', { keyName: 'users.email' })).toEqual(first);
    for (let i = 0; i < 100; i++) await other.encryptDeterministic(`user${i}@example.com`, { keyName: 'users.email' });
    expect(vault.stats.byOperation.sign ?? 0).toBe(0);
    expect(vault.stats.byOperation.unwrapKey).toBe(1); // the adoption's one unwrap; verification is local
  });

  it('the attacker with keys/get plants a record wrapped under the vault public key: refused, nothing signed or encrypted', async () => {
    const name = keyName('plant');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    vault.assignRole('attacker', 'Key Vault Reader', name); // keys/get: reads the public key
    const store = new MemoryKeyStore();
    const attackerKek = kek(name, { credential: vault.credential('attacker') });
    const dek = randomBytes(64);
    const identity = { keyRef: randomBytes(8).toString('hex'), kind: 'siv' as const, createdAt: Date.now(), name: 'users.email' };
    const planted: DekRecord = { ...identity, wrappedDeks: [await attackerKek.wrap(dek)], revision: 1, commitment: computeCommitment(identity, dek) };
    await store.createIfAbsent(planted);
    // and the reader principal cannot sign it either
    await expect(attackerKek.signRecord(new Uint8Array(8))).rejects.toBeInstanceOf(KeyAccessDeniedError);

    vault.stats.reset();
    const fields = new FieldEncryptor({ keks: kek(name), keyStore: store });
    const err = await fields.encryptDeterministic('alice@example.com', { keyName: 'users.email' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordAuthenticationError);
    expect((err as RecordAuthenticationError).reason).toBe('unsigned');
    expect(vault.stats.byOperation.unwrapKey ?? 0).toBe(0);
  });

  it('signatures naming made-up versions of the key: bad-signature, one GET per made-up version however often adoption is retried', async () => {
    const name = keyName('fake-sig');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const k = kek(name);
    const store = new MemoryKeyStore();
    const dek = randomBytes(64);
    const identity = { keyRef: randomBytes(8).toString('hex'), kind: 'siv' as const, createdAt: Date.now(), name: 'users.email' };
    const base = (await k.wrap(randomBytes(32))).kekId.replace(/[^/]+$/, '');
    const signatures = Array.from({ length: 8 }, () => ({ kekId: base + randomBytes(16).toString('hex'), alg: 'PS256', bytes: randomBytes(256) }));
    await store.createIfAbsent({ ...identity, wrappedDeks: [await k.wrap(dek)], revision: 1, commitment: computeCommitment(identity, dek), signatures });
    const fields = new FieldEncryptor({ keks: k, keyStore: store });
    vault.stats.reset();
    for (let i = 0; i < 20; i++) {
      const err = await fields.encryptDeterministic('v', { keyName: 'users.email' }).catch((e: unknown) => e);
      expect((err as RecordAuthenticationError).reason).toBe('bad-signature');
    }
    expect(vault.stats.byOperation.getKey).toBe(8);
    expect(vault.stats.byOperation.unwrapKey ?? 0).toBe(0);
  });

  it('RBAC: a Crypto Service Encryption User (no sign) adopts records an operator made, and cannot create new named ones', async () => {
    const name = keyName('cseu');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    vault.assignRole('app-service', 'Key Vault Crypto Service Encryption User', name);
    const store = new MemoryKeyStore();
    const operator = new FieldEncryptor({ keks: kek(name), keyStore: store });
    const ct = await operator.encryptDeterministic('v', { keyName: 'users.email' });

    const service = new FieldEncryptor({ keks: kek(name, { credential: vault.credential('app-service') }), keyStore: store });
    expect(await service.encryptDeterministic('v', { keyName: 'users.email' })).toEqual(ct);
    const err = await service.encryptDeterministic('v', { keyName: 'users.phone' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordAuthenticationError);
    expect((err as RecordAuthenticationError).reason).toBe('cannot-sign');
    expect((err as RecordAuthenticationError).cause).toBeInstanceOf(KeyAccessDeniedError);
    expect(await store.getByName('users.phone')).toBeUndefined();
  });

  it('a signature by an older version still verifies after a rotation (1 GET for its public key, then cached)', async () => {
    const name = keyName('rot-sig');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const store = new MemoryKeyStore();
    await new FieldEncryptor({ keks: kek(name), keyStore: store }).encryptDeterministic('v', { keyName: 'n' });
    await keyClient.rotateKey(name);
    const k = kek(name);
    await k.refresh();
    vault.stats.reset();
    await new FieldEncryptor({ keks: k, keyStore: store }).encryptDeterministic('v', { keyName: 'n' });
    await new FieldEncryptor({ keks: k, keyStore: store }).encryptDeterministic('v', { keyName: 'n' });
    expect(vault.stats.byOperation.sign ?? 0).toBe(0);
    expect(vault.stats.byOperation.getKey).toBe(2); // the old version's public key once + its unwrap client's GET
  });

  it('oct-HSM authenticates by construction: a named record needs no sign, another encryptor adopts it; an RSA-wrapped plant next to it is refused', async () => {
    const name = keyName('oct-auth');
    await hsmClient.createOctKey(name, { hsm: true, keySize: 256 });
    const store = new MemoryKeyStore();
    hsm.stats.reset();
    const first = await new FieldEncryptor({ keks: kek(name, {}, hsm), keyStore: store }).encryptDeterministic('v', { keyName: 'users.email' });
    expect(hsm.stats.byOperation.sign ?? 0).toBe(0);
    expect((await store.getByName('users.email'))!.signatures).toBeUndefined();
    const other = new FieldEncryptor({ keks: kek(name, {}, hsm), keyStore: store });
    expect(await other.encryptDeterministic('v', { keyName: 'users.email' })).toEqual(first);

    // The attacker has an RSA key of its own in the allow-listed vault: it can wrap, not sign for us.
    const rsaName = keyName('oct-plant');
    await hsmClient.createRsaKey(rsaName, { keySize: 2048, hsm: true });
    const attacker = kek(rsaName, {}, hsm);
    const dek = randomBytes(64);
    const identity = { keyRef: randomBytes(8).toString('hex'), kind: 'siv' as const, createdAt: Date.now(), name: 'users.phone' };
    await store.createIfAbsent({ ...identity, wrappedDeks: [await attacker.wrap(dek)], revision: 1, commitment: computeCommitment(identity, dek) });
    const allowing = new FieldEncryptor({ keks: kek(name, { allowedKeys: [hsm.url] }, hsm), keyStore: store });
    const err = await allowing.encryptDeterministic('v', { keyName: 'users.phone' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordAuthenticationError);
    expect((err as RecordAuthenticationError).reason).toBe('unsigned');
  });

  it('rotation: rewrapKeyStore renews the signature with the new version (1 sign per named record), then the old version can be disabled', async () => {
    const name = keyName('renew');
    const v1 = await keyClient.createRsaKey(name, { keySize: 2048 });
    const store = new MemoryKeyStore();
    const ct = await new FieldEncryptor({ keks: kek(name), keyStore: store }).encryptDeterministic('v', { keyName: 'users.email' });
    await new FieldEncryptor({ keks: kek(name), keyStore: store }).encrypt('random-mode record: never signed');
    const v2 = await keyClient.rotateKey(name);
    const k = kek(name);
    vault.stats.reset();
    const statuses: string[] = [];
    for await (const r of rewrapKeyStore(store, { from: [k], to: [k] })) statuses.push(r.status);
    expect(statuses).toEqual(['rewrapped', 'rewrapped']);
    expect(vault.stats.byOperation.sign).toBe(1);
    const record = (await store.getByName('users.email'))!;
    expect(record.signatures!.map((s) => s.kekId)).toEqual([v2.id]);
    expect(record.wrappedDeks.map((w) => w.kekId)).toEqual([v2.id]);

    await keyClient.updateKeyProperties(name, v1.properties.version!, { enabled: false });
    expect(await new FieldEncryptor({ keks: kek(name), keyStore: store }).encryptDeterministic('v', { keyName: 'users.email' })).toEqual(ct);
    // nothing left to do: a second run makes no vault call
    vault.stats.reset();
    for await (const r of rewrapKeyStore(store, { from: [k], to: [k] })) expect(r.status).toBe('skipped');
    expect((vault.stats.byOperation.sign ?? 0) + (vault.stats.byOperation.unwrapKey ?? 0)).toBe(0);
  });

  it('isCurrent: false for a wrap under the old version after rotateKey + refresh(); true for the new one', async () => {
    const name = keyName('current');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const k = kek(name);
    const old = await k.wrap(randomBytes(32));
    expect(k.isCurrent(old)).toBe(true);
    await keyClient.rotateKey(name);
    await k.refresh();
    expect(k.isCurrent(old)).toBe(false);
    expect(k.isCurrent(await k.wrap(randomBytes(32)))).toBe(true);
  });

  it('isCurrent: after the latest version is disabled and refresh() falls back, wraps under it are not current', async () => {
    const name = keyName('disabled');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const k = kek(name);
    const older = await k.wrap(randomBytes(32));
    const v2 = await keyClient.rotateKey(name);
    await k.refresh();
    const newer = await k.wrap(randomBytes(32));
    await keyClient.updateKeyProperties(name, v2.properties.version!, { enabled: false });
    await k.refresh();
    expect(k.isCurrent(newer)).toBe(false);
    expect(k.isCurrent(older)).toBe(true);
  });

  it('isCurrent: a stale resolution starts one background refresh and never throws or waits', async () => {
    const name = keyName('stale');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    let now = Date.now();
    const k = kek(name, { refreshInterval: 1000, now: () => now });
    const old = await k.wrap(randomBytes(32));
    await keyClient.rotateKey(name);
    vault.stats.reset();
    expect(k.isCurrent(old)).toBe(true); // fresh: no lookup
    expect(vault.stats.total).toBe(0);
    now += 1001;
    expect(k.isCurrent(old)).toBe(true); // answers from what it knows, starts the refresh
    expect(k.isCurrent(old)).toBe(true); // joins it: still one lookup
    await vi_waitFor(() => k.isCurrent(old) === false);
    expect(vault.stats.byOperation.getKey).toBe(1);
  });

  it('1,000 concurrent unwraps naming made-up versions of the allowed key do not evict the warm client: the next legit unwrap costs no GET', async () => {
    const name = keyName('churn');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const k = kek(name);
    const dek = randomBytes(32);
    const legit = await k.wrap(dek);
    expect(await k.unwrap(legit)).toEqual(new Uint8Array(dek)); // warm: GET + unwrap
    const base = legit.kekId.slice(0, legit.kekId.lastIndexOf('/') + 1);
    vault.stats.reset();
    // A busy server: hostile envelopes arrive 100 at a time (failed clients are dropped one by
    // one, so only concurrent made-up kids fill the LRU).
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 100 }, () => k.unwrap({ ...legit, kekId: base + randomBytes(16).toString('hex') }).catch(() => undefined)));
    }
    const churnGets = vault.stats.byOperation.getKey ?? 0;
    expect(churnGets).toBeGreaterThan(0); // each made-up version cost the attacker's envelope a GET...
    vault.stats.reset();
    expect(await k.unwrap(legit)).toEqual(new Uint8Array(dek));
    expect(vault.stats.byOperation.getKey ?? 0).toBe(0); // ...but the warm client survived
    expect(vault.stats.byOperation.unwrapKey).toBe(1);
  });

  it('non-canonical kids (a trailing newline, a tab, a backslash, a dot segment) are refused before anything is sent', async () => {
    const name = keyName('canon');
    await keyClient.createRsaKey(name, { keySize: 2048 });
    const k = kek(name);
    const legit = await k.wrap(randomBytes(32));
    const [head, version] = [legit.kekId.slice(0, legit.kekId.lastIndexOf('/')), legit.kekId.slice(legit.kekId.lastIndexOf('/') + 1)];
    vault.stats.reset();
    for (const kekId of [`${legit.kekId}\n`, `${head}\t/${version}`, `${head}\\${version}`, `${head}/../${name}/${version}`, ` ${legit.kekId}`]) {
      await expect(k.unwrap({ ...legit, kekId })).rejects.toBeInstanceOf(KeyNotAllowedError);
    }
    expect(vault.stats.total).toBe(0);
  });
});

async function vi_waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
