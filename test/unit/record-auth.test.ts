/**
 * Record authentication (issue 8 §3, docs/security.md §Record authentication). The adversary
 * throughout: someone who can WRITE the key store (a shared directory, a database table) and
 * holds only the KEKs' PUBLIC keys, which any identity with keys/get can read. With RSA-OAEP an
 * RSA public key is a wrap capability, so that adversary can make wrapped DEKs of its choosing.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DekRecord, FieldEncryptor, FileKeyStore, type KeyStore, LocalAesKek, LocalRsaKek, MemoryKeyStore, RecordAuthenticationError,
  UnsupportedKeyTypeError,
} from '../../src/index.js';
import { rewrapKeyStore } from '../../src/rewrap/index.js';
import { encodeNameRef, encodeRecord } from '../../src/store/internal/codec.js';
import { computeCommitment, signaturePayload } from '../../src/store/internal/record-auth.js';

const rsaPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const primary = rsaPair();
const dr = rsaPair();
/** The service's KEKs (private keys: they unwrap and sign). */
const kekA = new LocalRsaKek({ id: 'rsa/primary', privateKey: primary.privateKey });
const kekB = new LocalRsaKek({ id: 'rsa/dr', privateKey: dr.privateKey });
/** What the attacker has: the public keys. */
const pubA = new LocalRsaKek({ id: 'rsa/primary', publicKey: primary.publicKey });
const pubB = new LocalRsaKek({ id: 'rsa/dr', publicKey: dr.publicKey });

async function expectRefused(p: Promise<unknown>, reason: string): Promise<RecordAuthenticationError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RecordAuthenticationError);
  expect((err as RecordAuthenticationError).code).toBe('ERR_KEY_STORE');
  expect((err as RecordAuthenticationError).reason).toBe(reason);
  return err as RecordAuthenticationError;
}

/** A named SIV record the attacker builds from public keys: it knows `dek`. */
async function plant(store: KeyStore, name: string, wraps: { kek: LocalRsaKek; dek: Uint8Array }[], extra: Partial<DekRecord> = {}): Promise<DekRecord> {
  const identity = { keyRef: randomBytes(8).toString('hex'), kind: 'siv' as const, createdAt: Date.now(), name };
  const wrappedDeks = await Promise.all(wraps.map(({ kek, dek }) => kek.wrap(dek)));
  const record: DekRecord = { ...identity, wrappedDeks, revision: 1, commitment: computeCommitment(identity, wraps[0]!.dek), ...extra };
  const { created } = await store.createIfAbsent(record);
  expect(created).toBe(true);
  return record;
}

async function all(store: KeyStore): Promise<DekRecord[]> {
  const out: DekRecord[] = [];
  for await (const r of store.list()) out.push(r);
  return out;
}

describe('a store writer holding only the RSA public key', () => {
  it('plants a named record: the encryptor refuses to encrypt under it (unsigned), nothing is encrypted', async () => {
    const store = new MemoryKeyStore();
    await plant(store, 'users.email', [{ kek: pubA, dek: randomBytes(64) }]);
    const fields = new FieldEncryptor({ keks: kekA, keyStore: store });
    const err = await expectRefused(fields.encryptDeterministic('alice@example.com', { keyName: 'users.email' }), 'unsigned');
    expect(err.message).toContain('users.email');
    // refused again on retry (the refusal is not memoized as a success), and no record was added
    await expectRefused(fields.encryptDeterministic('bob@example.com', { keyName: 'users.email' }), 'unsigned');
    expect(await all(store)).toHaveLength(1);
  });

  it('adds a garbage or a copied signature: bad-signature', async () => {
    const store = new MemoryKeyStore();
    const legit = new FieldEncryptor({ keks: kekA, keyStore: store });
    await legit.encryptDeterministic('x', { keyName: 'users.ssn' });
    const signed = (await store.getByName('users.ssn'))!;
    expect(signed.signatures).toHaveLength(1);
    await plant(store, 'users.email', [{ kek: pubA, dek: randomBytes(64) }], { signatures: signed.signatures });
    await plant(store, 'users.phone', [{ kek: pubA, dek: randomBytes(64) }], { signatures: [{ kekId: kekA.id, alg: 'PS256', bytes: randomBytes(256) }] });
    const fields = new FieldEncryptor({ keks: kekA, keyStore: store });
    await expectRefused(fields.encryptDeterministic('a', { keyName: 'users.email' }), 'bad-signature');
    await expectRefused(fields.encryptDeterministic('a', { keyName: 'users.phone' }), 'bad-signature');
    // the legitimately signed record is adopted by a second encryptor
    await expect(fields.encryptDeterministic('x', { keyName: 'users.ssn' })).resolves.toEqual(await legit.encryptDeterministic('x', { keyName: 'users.ssn' }));
  });

  it('cannot forge a signature with the public key: a wrap-only LocalRsaKek cannot sign, and refuses to create a named record', async () => {
    await expect(pubA.signRecord(new Uint8Array(8))).rejects.toBeInstanceOf(UnsupportedKeyTypeError);
    const fields = new FieldEncryptor({ keks: pubA, keyStore: new MemoryKeyStore() });
    await expectRefused(fields.encryptDeterministic('a', { keyName: 'users.email' }), 'cannot-sign');
  });
});

describe('re-pointing a FileKeyStore name index to a planted record', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kv-record-auth-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a fresh encryptor refuses the planted record', async () => {
    const store = new FileKeyStore({ directory: dir });
    const legit = new FieldEncryptor({ keks: kekA, keyStore: store });
    const before = await legit.encryptDeterministic('alice@example.com', { keyName: 'users.email' });
    const nameFile = readdirSync(dir).find((f) => f.startsWith('name-'))!;
    // The attacker writes its own record file and points the existing name file at it.
    const dek = randomBytes(64);
    const identity = { keyRef: randomBytes(8).toString('hex'), kind: 'siv' as const, createdAt: Date.now(), name: 'users.email' };
    const planted: DekRecord = { ...identity, wrappedDeks: [await pubA.wrap(dek)], revision: 1, commitment: computeCommitment(identity, dek) };
    writeFileSync(join(dir, `${identity.keyRef}.dek`), encodeRecord(planted));
    writeFileSync(join(dir, nameFile), encodeNameRef(identity.keyRef));

    const fresh = new FieldEncryptor({ keks: kekA, keyStore: new FileKeyStore({ directory: dir }) });
    await expectRefused(fresh.encryptDeterministic('alice@example.com', { keyName: 'users.email' }), 'unsigned');
    expect(before.length).toBeGreaterThan(0);
    // the legitimate record is still there; the re-pointed name just hides it (a store writer can always deny service)
    expect(readdirSync(dir).filter((f) => f.endsWith('.dek'))).toHaveLength(2);
  });
});

describe('a record whose wrapped keys disagree (primary wrap of one DEK, DR wrap of another)', () => {
  it('made by the attacker: refused for encryption by the primary reader and by the DR reader; the DR reader refuses to decrypt under it', async () => {
    const store = new MemoryKeyStore();
    const dek1 = randomBytes(64);
    const dek2 = randomBytes(64);
    const record = await plant(store, 'users.email', [{ kek: pubA, dek: dek1 }, { kek: pubB, dek: dek2 }]);
    const primaryReader = new FieldEncryptor({ keks: kekA, keyStore: store });
    const drReader = new FieldEncryptor({ keks: kekB, keyStore: store });
    await expectRefused(primaryReader.encryptDeterministic('a', { keyName: 'users.email' }), 'unsigned');
    await expectRefused(drReader.encryptDeterministic('a', { keyName: 'users.email' }), 'unsigned');
    // a value the attacker made under dek2 (what the DR reader would see): refused, not decrypted
    const { sivSeal } = await import('../../src/aead/siv.js');
    const prefix = Uint8Array.from([0xf2, ...Buffer.from(record.keyRef, 'hex')]);
    const forged = new Uint8Array([...prefix, ...sivSeal(dek2, new TextEncoder().encode('evil'), prefix, new Uint8Array(0))]);
    await expectRefused(drReader.decrypt(forged), 'commitment-mismatch');
  });

  it('a legitimately signed record whose DR wrap was replaced: the DR reader never gets another DEK; rewrap refuses it from the DR side and heals it from the primary', async () => {
    const kekC = new LocalRsaKek({ id: 'rsa/dr-2', privateKey: rsaPair().privateKey });
    const store = new MemoryKeyStore();
    const writer = new FieldEncryptor({ keks: [kekA, kekB], keyStore: store });
    const ct = await writer.encryptDeterministic('alice@example.com', { keyName: 'users.email' });
    const legit = (await store.getByName('users.email'))!;
    expect(legit.signatures!.map((s) => s.kekId)).toEqual([kekA.id, kekB.id]);
    // The attacker swaps the DR wrap for a wrap of its own DEK, keeping commitment and signatures.
    await store.updateWrappedDeks(legit.keyRef, [legit.wrappedDeks[0]!, await pubB.wrap(randomBytes(64))], legit.revision);

    const drReader = new FieldEncryptor({ keks: kekB, keyStore: store });
    await expectRefused(drReader.decrypt(ct), 'commitment-mismatch');
    await expectRefused(drReader.encryptDeterministic('alice@example.com', { keyName: 'users.email' }), 'commitment-mismatch');
    const primaryReader = new FieldEncryptor({ keks: kekA, keyStore: store });
    expect(new TextDecoder().decode(await primaryReader.decrypt(ct))).toBe('alice@example.com');
    expect(await primaryReader.encryptDeterministic('alice@example.com', { keyName: 'users.email' })).toEqual(ct);

    const fromDr = [];
    for await (const r of rewrapKeyStore(store, { from: [kekB], to: [kekA, kekC] })) fromDr.push(r);
    expect(fromDr.map((r) => r.status)).toEqual(['failed']);
    const failure = fromDr[0] as { error: unknown };
    expect(failure.error).toBeInstanceOf(RecordAuthenticationError);
    expect((failure.error as RecordAuthenticationError).reason).toBe('commitment-mismatch');

    for await (const r of rewrapKeyStore(store, { from: [kekA], to: [kekA, kekC] })) expect(r.status).toBe('rewrapped');
    const healed = new FieldEncryptor({ keks: kekC, keyStore: store });
    expect(await healed.encryptDeterministic('alice@example.com', { keyName: 'users.email' })).toEqual(ct);
    expect(new TextDecoder().decode(await healed.decrypt(ct))).toBe('alice@example.com');
  });
});

describe('legacy records (made before record authentication)', () => {
  /** The store as an older version left it: same records without commitment or signatures. */
  async function legacyCopy(store: MemoryKeyStore): Promise<MemoryKeyStore> {
    const old = new MemoryKeyStore();
    for (const r of await all(store)) {
      const { commitment: _c, signatures: _s, ...rest } = r;
      await old.createIfAbsent(rest);
    }
    return old;
  }

  it('decrypt reads them; adoption refuses with advice; rewrapKeyStore adds the authentication, then adoption works', async () => {
    const made = new MemoryKeyStore();
    const writer = new FieldEncryptor({ keks: kekA, keyStore: made });
    const det = await writer.encryptDeterministic('alice@example.com', { keyName: 'users.email' });
    const rnd = await writer.encrypt('078-05-1120');
    const store = await legacyCopy(made);

    const reader = new FieldEncryptor({ keks: kekA, keyStore: store });
    expect(new TextDecoder().decode(await reader.decrypt(det))).toBe('alice@example.com');
    expect(new TextDecoder().decode(await reader.decrypt(rnd))).toBe('078-05-1120');
    const err = await expectRefused(reader.encryptDeterministic('alice@example.com', { keyName: 'users.email' }), 'legacy');
    expect(err.message).toContain('rewrapKeyStore');

    const results = [];
    for await (const r of rewrapKeyStore(store, { from: [kekA], to: [kekA] })) results.push(r.status);
    expect(results.sort()).toEqual(['rewrapped', 'rewrapped']);
    const upgraded = await all(store);
    expect(upgraded.every((r) => r.commitment?.length === 32)).toBe(true);
    expect(upgraded.find((r) => r.name === 'users.email')!.signatures).toHaveLength(1);
    const after = new FieldEncryptor({ keks: kekA, keyStore: store });
    expect(await after.encryptDeterministic('alice@example.com', { keyName: 'users.email' })).toEqual(det);
    // a second run has nothing left to do
    for await (const r of rewrapKeyStore(store, { from: [kekA], to: [kekA] })) expect(r.status).toBe('skipped');
  });

  it('a re-wrap that cannot sign leaves a legacy named record legacy, so a later run that can sign still upgrades it', async () => {
    const made = new MemoryKeyStore();
    const det = await new FieldEncryptor({ keks: kekA, keyStore: made }).encryptDeterministic('v', { keyName: 'users.email' });
    const store = await legacyCopy(made);
    // to a wrap-only target (it cannot sign): re-wrapped, still legacy
    for await (const r of rewrapKeyStore(store, { from: [kekA], to: [pubB] })) expect(r.status).toBe('rewrapped');
    expect((await store.getByName('users.email'))!.commitment).toBeUndefined();
    await expectRefused(new FieldEncryptor({ keks: kekB, keyStore: store }).encryptDeterministic('v', { keyName: 'users.email' }), 'legacy');
    for await (const r of rewrapKeyStore(store, { from: [kekB], to: [kekA] })) expect(r.status).toBe('rewrapped');
    expect(await new FieldEncryptor({ keks: kekA, keyStore: store }).encryptDeterministic('v', { keyName: 'users.email' })).toEqual(det);
  });

  it('rewrapKeyStore does not sign a planted named record that carries a commitment but no signature', async () => {
    const store = new MemoryKeyStore();
    await plant(store, 'users.email', [{ kek: pubA, dek: randomBytes(64) }]);
    const results = [];
    for await (const r of rewrapKeyStore(store, { from: [kekA], to: [kekA] })) results.push(r);
    expect(results).toHaveLength(1);
    expect(results[0]!.status).toBe('failed');
    expect(((results[0] as { error: unknown }).error as RecordAuthenticationError).reason).toBe('unsigned');
    expect((await store.getByName('users.email'))!.signatures).toBeUndefined();
  });
});

describe('symmetric KEKs authenticate by construction', () => {
  it('AES-KW: named records need no signature and are adopted; an RSA wrap the attacker adds to one is never used for encryption', async () => {
    const aes = new LocalAesKek({ id: 'aes/1', key: randomBytes(32) });
    const store = new MemoryKeyStore();
    const a = new FieldEncryptor({ keks: aes, keyStore: store });
    const ct = await a.encryptDeterministic('v', { keyName: 'n' });
    const record = (await store.getByName('n'))!;
    expect(record.signatures).toBeUndefined();
    const b = new FieldEncryptor({ keks: aes, keyStore: store });
    expect(await b.encryptDeterministic('v', { keyName: 'n' })).toEqual(ct);

    // An attacker's record under an RSA public key, for an encryptor with [aes, rsa]: refused.
    await plant(store, 'm', [{ kek: pubA, dek: randomBytes(64) }]);
    const mixed = new FieldEncryptor({ keks: [aes, kekA], keyStore: store });
    await expectRefused(mixed.encryptDeterministic('v', { keyName: 'm' }), 'unsigned');
  });

  it('the signature payload binds keyRef, kind, name and createdAt (no two identities encode alike)', () => {
    const c = new Uint8Array(32);
    const base = { keyRef: '0123456789abcdef', kind: 'siv' as const, createdAt: 1, name: 'a' };
    const variants = [base, { ...base, keyRef: '0123456789abcdee' }, { ...base, kind: 'gcm' as const }, { ...base, createdAt: 2 }, { ...base, name: 'b' }, { ...base, name: undefined }];
    const encoded = new Set(variants.map((v) => Buffer.from(signaturePayload(v, c)).toString('hex')));
    expect(encoded.size).toBe(variants.length);
  });

  it('property: two identities sign alike only when equal; a commitment changes with any field or DEK bit', () => {
    const identity = fc.record({
      keyRef: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')),
      kind: fc.constantFrom('gcm' as const, 'siv' as const),
      createdAt: fc.double({ min: 0, max: 1e15, noNaN: true }),
      name: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    });
    const c = new Uint8Array(32);
    fc.assert(
      fc.property(identity, identity, (a, b) => {
        const same = a.keyRef === b.keyRef && a.kind === b.kind && Object.is(a.createdAt, b.createdAt) && a.name === b.name;
        expect(Buffer.from(signaturePayload(a, c)).equals(Buffer.from(signaturePayload(b, c)))).toBe(same);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(identity, fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.nat(511), (id, dek, bit) => {
        const flipped = Uint8Array.from(dek);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expect(Buffer.from(computeCommitment(id, dek)).equals(Buffer.from(computeCommitment(id, flipped)))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
