/**
 * Issue 8 item 2: a cache hit is only ever served to a client that could have unwrapped the key
 * itself. The adversary shares the process's UnwrappedKeyCache (as the docs recommend) but holds
 * neither our KEK nor our key store, or holds a KEK that merely shares our KEK's id, or can write
 * our key store.
 */
import { describe, expect, it } from 'vitest';
import {
  DecryptionFailedError, EnvelopeClient, EnvelopeError, FieldEncryptor, KeyNotFoundError, LocalAesKek, MemoryKeyStore,
  UnwrappedKeyCache,
} from '../../src/index.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { aesKek } from '../helpers/keys.js';

const text = (s: string) => new TextEncoder().encode(s);
const keyRefOf = (ct: Uint8Array) => Buffer.from(ct.subarray(1, 9)).toString('hex');
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('UnwrappedKeyCache partitions (shared between tenants)', () => {
  it('field: B encrypts, A (other KEK, other store, same cache) cannot decrypt it from the warm cache', async () => {
    const cache = new UnwrappedKeyCache();
    const a = new FieldEncryptor({ keks: aesKek(), keyStore: new MemoryKeyStore(), unwrappedKeyCache: cache });
    const b = new FieldEncryptor({ keks: aesKek(), keyStore: new MemoryKeyStore(), unwrappedKeyCache: cache });
    const secret = await b.encrypt('tenant B secret', { aad: 'users.ssn#1' });
    expect(new TextDecoder().decode(await b.decrypt(secret, { aad: 'users.ssn#1' }))).toBe('tenant B secret');
    // A has neither B's store nor B's KEK: the record is not in A's store.
    const err = await errorOf(a.decrypt(secret, { aad: 'users.ssn#1' }));
    expect(err).toBeInstanceOf(KeyNotFoundError);
    expect((err as EnvelopeError).code).toBe('ERR_KEY_NOT_FOUND');
  });

  it('field: A reads B\'s store through the shared cache but holds only a KEK with the same id: no hit, the unwrap fails', async () => {
    const cache = new UnwrappedKeyCache();
    const keyStore = new MemoryKeyStore();
    const b = new FieldEncryptor({ keks: aesKek('tenant/kek'), keyStore, unwrappedKeyCache: cache });
    const a = new FieldEncryptor({ keks: aesKek('tenant/kek'), keyStore, unwrappedKeyCache: cache });
    const secret = await b.encrypt('tenant B secret');
    const err = await errorOf(a.decrypt(secret));
    expect(err).toBeInstanceOf(DecryptionFailedError);
    expect((err as EnvelopeError).code).toBe('ERR_DECRYPTION_FAILED');
  });

  it('envelope: two KEKs that share an id do not share cached DEKs', async () => {
    const cache = new UnwrappedKeyCache();
    const b = new EnvelopeClient({ keks: aesKek('shared/id'), unwrappedKeyCache: cache });
    const a = new EnvelopeClient({ keks: aesKek('shared/id'), unwrappedKeyCache: cache });
    const envelope = await b.encrypt(text('for B only')); // primes the cache for B
    expect((await b.decrypt(envelope)).plaintext).toEqual(text('for B only'));
    const err = await errorOf(a.decrypt(envelope));
    expect(err).toBeInstanceOf(DecryptionFailedError);
    expect((err as EnvelopeError).code).toBe('ERR_DECRYPTION_FAILED');
  });

  it('clients holding the same KEK object (and store) do share: one unwrap for both', async () => {
    const cache = new UnwrappedKeyCache();
    const kek = new CountingKek(aesKek());
    const keyStore = new MemoryKeyStore();
    const ct = await new FieldEncryptor({ keks: kek, keyStore }).encrypt('shared');
    const env = await new EnvelopeClient({ keks: kek }).encrypt(text('shared'));
    for (let i = 0; i < 3; i++) {
      await new FieldEncryptor({ keks: kek, keyStore, unwrappedKeyCache: cache }).decrypt(ct);
      await new EnvelopeClient({ keks: kek, unwrappedKeyCache: cache }).decrypt(env);
    }
    expect(kek.unwraps).toBe(2); // one per DEK, not per client
  });

  it('a 64-byte SIV DEK never reaches AES-GCM through a warm cache: a planted GCM record reusing its wrapped key fails cleanly', async () => {
    const kek = aesKek();
    const keyStore = new MemoryKeyStore();
    const writer = new FieldEncryptor({ keks: kek, keyStore });
    const det = await writer.encryptDeterministic('ada@example.com', { keyName: 'users.email' });
    const fields = new FieldEncryptor({ keks: kek, keyStore });
    await fields.decrypt(det); // a cold read: unwraps the SIV DEK and warms the cache with it
    // The attacker can write the store: a GCM record whose wrapped key is the SIV record's.
    const siv = (await keyStore.get(keyRefOf(det)))!;
    const planted = 'aa'.repeat(8);
    await keyStore.createIfAbsent({ keyRef: planted, kind: 'gcm', createdAt: Date.now(), wrappedDeks: siv.wrappedDeks, revision: 1 });
    const forged = new Uint8Array(9 + 12 + 5 + 16);
    forged.set(await writer.encrypt('x'), 0); // a real GCM field, then re-pointed at the planted record
    forged.set(Buffer.from(planted, 'hex'), 1);
    const err = await errorOf(fields.decrypt(forged));
    expect(err).toBeInstanceOf(DecryptionFailedError);
    expect((err as EnvelopeError).code).toBe('ERR_DECRYPTION_FAILED');
  });

  it('each field DEK takes one cache entry: 600 DEKs read round-robin from a 1,000-entry cache cost 600 unwraps', async () => {
    const kek = new CountingKek(aesKek());
    const keyStore = new MemoryKeyStore();
    const writer = new FieldEncryptor({ keks: kek, keyStore, limits: { maxEncryptionsPerDek: 1 } });
    const values: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) values.push(await writer.encrypt(`v${i}`, { aad: `t.c#${i}` }));
    expect(new Set(values.map(keyRefOf)).size).toBe(600);

    const cache = new UnwrappedKeyCache({ maxEntries: 1000 });
    const reader = new FieldEncryptor({ keks: kek, keyStore, unwrappedKeyCache: cache });
    kek.unwraps = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 600; i++) expect(new TextDecoder().decode(await reader.decrypt(values[i]!, { aad: `t.c#${i}` }))).toBe(`v${i}`);
    }
    expect(kek.unwraps).toBe(600);
    expect(cache.size).toBe(600);
    expect(cache.stats.evictions).toBe(0);
  });

  it('an encrypting envelope client primes one entry per DEK, whatever the number of KEKs', async () => {
    const cache = new UnwrappedKeyCache();
    const keks = [new CountingKek(aesKek()), new CountingKek(aesKek()), new CountingKek(aesKek())];
    const client = new EnvelopeClient({ keks, unwrappedKeyCache: cache, cache: false });
    const envelopes = [await client.encrypt(text('1')), await client.encrypt(text('2'))];
    for (const e of envelopes) await client.decrypt(e);
    expect(cache.size).toBe(2);
    expect(keks.map((k) => k.unwraps)).toEqual([0, 0, 0]);
  });

  it('a LocalAesKek instance made twice from the same key bytes is a different owner (object identity, not ids)', async () => {
    const key = new Uint8Array(32).fill(9);
    const cache = new UnwrappedKeyCache();
    const first = new CountingKek(new LocalAesKek({ id: 'k', key }));
    const second = new CountingKek(new LocalAesKek({ id: 'k', key }));
    const env = await new EnvelopeClient({ keks: first, unwrappedKeyCache: cache }).encrypt(text('x'));
    expect((await new EnvelopeClient({ keks: second, unwrappedKeyCache: cache }).decrypt(env)).plaintext).toEqual(text('x'));
    expect(second.unwraps).toBe(1); // it unwrapped for itself: it could, so it did
  });
});
