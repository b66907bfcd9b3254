/**
 * Issue 8 item 4: decrypting untrusted input costs bounded KEK (vault) work. The adversary
 * submits envelopes built to waste vault calls: 16 wrapped keys naming our KEK, the same hostile
 * envelope a thousand times, a thousand times at once; or writes such a record to the key store.
 */
import { describe, expect, it } from 'vitest';
import {
  DecryptionFailedError, EnvelopeClient, EnvelopeError, FieldEncryptor, KekUnavailableError, type KeyEncryptionKey, LimitExceededError, MemoryKeyStore, UnwrappedKeyCache,
  readWrappedKeys, type WrappedKey,
} from '../../src/index.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { withWrappedKeys } from '../helpers/forge-envelope.js';
import { aesKek } from '../helpers/keys.js';

const text = (s: string) => new TextEncoder().encode(s);
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

/** `n` wrapped keys that name `w.kekId` but do not authenticate (each differs from the next). */
function garbage(w: WrappedKey, n: number): WrappedKey[] {
  return Array.from({ length: n }, (_, i) => {
    const bytes = w.bytes.slice();
    bytes[0]! ^= i + 1;
    return { ...w, bytes };
  });
}

class Clock {
  ms = 1_000_000;
  readonly now = () => this.ms;
}

async function hostileSetup(options: { negativeTtlMs?: number } = {}) {
  const kek = new CountingKek(aesKek());
  const clock = new Clock();
  const cache = new UnwrappedKeyCache({ now: clock.now, ...options });
  const client = new EnvelopeClient({ keks: kek, unwrappedKeyCache: cache });
  const legit = await new EnvelopeClient({ keks: kek }).encrypt(text('legit'));
  const hostile = await withWrappedKeys(legit, garbage(readWrappedKeys(legit)[0]!, 16), kek);
  kek.unwraps = 0;
  return { kek, clock, cache, client, hostile };
}

describe('bounded decrypt work', () => {
  it('an envelope with 16 wrapped keys naming the configured KEK costs one unwrap, not 16', async () => {
    const { kek, client, hostile } = await hostileSetup();
    const err = await errorOf(client.decrypt(hostile));
    expect(err).toBeInstanceOf(DecryptionFailedError);
    expect((err as EnvelopeError).code).toBe('ERR_DECRYPTION_FAILED');
    expect(kek.unwraps).toBe(1);
  });

  it('1,000 decrypts of one hostile envelope cost one unwrap within the negative TTL, and one more after it', async () => {
    const { kek, clock, cache, client, hostile } = await hostileSetup({ negativeTtlMs: 5_000 });
    for (let i = 0; i < 1000; i++) {
      const err = await errorOf(client.decrypt(hostile));
      expect((err as EnvelopeError).code).toBe('ERR_DECRYPTION_FAILED');
    }
    expect(kek.unwraps).toBe(1);
    expect(cache.stats.negativeHits).toBe(999);
    clock.ms += 4_999;
    await errorOf(client.decrypt(hostile));
    expect(kek.unwraps).toBe(1);
    clock.ms += 1;
    await errorOf(client.decrypt(hostile));
    expect(kek.unwraps).toBe(2);
  });

  it('1,000 concurrent decrypts of one hostile envelope share one unwrap', async () => {
    const { kek, client, hostile } = await hostileSetup();
    const errors = await Promise.all(Array.from({ length: 1000 }, () => errorOf(client.decrypt(hostile))));
    expect(errors.every((e) => e instanceof DecryptionFailedError)).toBe(true);
    expect(kek.unwraps).toBe(1);
  });

  it('with two KEKs, a hostile envelope costs at most one unwrap per KEK', async () => {
    const a = new CountingKek(aesKek());
    const b = new CountingKek(aesKek());
    const client = new EnvelopeClient({ keks: [a, b] });
    const legit = await client.encrypt(text('x'));
    const [wa, wb] = readWrappedKeys(legit);
    const hostile = await withWrappedKeys(legit, [...garbage(wa!, 8), ...garbage(wb!, 8)], a);
    a.unwraps = 0;
    b.unwraps = 0;
    for (let i = 0; i < 100; i++) await errorOf(client.decrypt(hostile));
    expect([a.unwraps, b.unwraps]).toEqual([1, 1]);
  });

  it('maxWrappedKeys: an envelope with more entries is refused before any unwrap', async () => {
    const kek = new CountingKek(aesKek());
    const legit = await new EnvelopeClient({ keks: kek }).encrypt(text('x'));
    const [w] = readWrappedKeys(legit);
    const three = await withWrappedKeys(legit, [w!, ...garbage(w!, 2)], kek);
    const client = new EnvelopeClient({ keks: kek, maxWrappedKeys: 2 });
    kek.unwraps = 0;
    const err = await errorOf(client.decrypt(three));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as EnvelopeError).code).toBe('ERR_LIMIT_EXCEEDED');
    expect(kek.unwraps).toBe(0);
    // Within the limit it still opens (the genuine entry comes first).
    expect((await client.decrypt(await withWrappedKeys(legit, [w!, ...garbage(w!, 1)], kek))).plaintext).toEqual(text('x'));
  });

  it('maxWrappedKeys is validated: 1..16 and at least one per KEK', () => {
    const keks = [aesKek(), aesKek()];
    expect(() => new EnvelopeClient({ keks, maxWrappedKeys: 1 })).toThrow(RangeError);
    expect(() => new EnvelopeClient({ keks, maxWrappedKeys: 17 })).toThrow(RangeError);
    expect(() => new EnvelopeClient({ keks, maxWrappedKeys: 1.5 })).toThrow(TypeError);
    expect(() => new EnvelopeClient({ keks, maxWrappedKeys: 2 })).not.toThrow();
  });

  it('a failure remembered for one owner is not served to another (negative entries are partitioned too)', async () => {
    const cache = new UnwrappedKeyCache();
    const owner = new CountingKek(aesKek('shared/id'));
    const impostor = new CountingKek(aesKek('shared/id'));
    const envelope = await new EnvelopeClient({ keks: owner }).encrypt(text('x'));
    const err = await errorOf(new EnvelopeClient({ keks: impostor, unwrappedKeyCache: cache }).decrypt(envelope));
    expect(err).toBeInstanceOf(DecryptionFailedError);
    expect((await new EnvelopeClient({ keks: owner, unwrappedKeyCache: cache }).decrypt(envelope)).plaintext).toEqual(text('x'));
    expect([impostor.unwraps, owner.unwraps]).toEqual([1, 1]);
  });

  it('a flood of distinct hostile envelopes does not evict the DEKs legitimate traffic uses', async () => {
    const kek = new CountingKek(aesKek());
    const cache = new UnwrappedKeyCache({ maxEntries: 2 });
    const client = new EnvelopeClient({ keks: kek, unwrappedKeyCache: cache });
    const legit = await new EnvelopeClient({ keks: kek }).encrypt(text('legit'));
    await client.decrypt(legit);
    const [w] = readWrappedKeys(legit);
    for (const forged of garbage(w!, 16)) await errorOf(client.decrypt(await withWrappedKeys(legit, [forged], kek)));
    kek.unwraps = 0;
    await new EnvelopeClient({ keks: kek, unwrappedKeyCache: cache }).decrypt(legit); // a fresh client: no hot memo
    expect(kek.unwraps).toBe(0);
  });

  it('field: a planted record with 16 wrapped keys naming our KEK costs one unwrap, remembered', async () => {
    const kek = new CountingKek(aesKek());
    const keyStore = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek, keyStore });
    const ct = await fields.encrypt('x');
    const record = (await keyStore.get(Buffer.from(ct.subarray(1, 9)).toString('hex')))!;
    const planted = 'bb'.repeat(8);
    await keyStore.createIfAbsent({ keyRef: planted, kind: 'gcm', createdAt: Date.now(), wrappedDeks: garbage(record.wrappedDeks[0]!, 16), revision: 1 });
    const forged = ct.slice();
    forged.set(Buffer.from(planted, 'hex'), 1);
    const reader = new FieldEncryptor({ keks: kek, keyStore });
    kek.unwraps = 0;
    for (let i = 0; i < 100; i++) {
      const err = await errorOf(reader.decrypt(forged));
      expect((err as EnvelopeError).code).toBe('ERR_DECRYPTION_FAILED');
    }
    expect(kek.unwraps).toBe(1);
  });

  it('a transient failure is remembered only for the negative TTL: the same DEK opens once it passes', async () => {
    const kek = new CountingKek(aesKek());
    const clock = new Clock();
    const envelope = await new EnvelopeClient({ keks: kek }).encrypt(text('x'));
    let down = true;
    const flaky: KeyEncryptionKey = {
      id: kek.id,
      wrap: (dek) => kek.wrap(dek),
      unwrap: (w) => (down ? Promise.reject(new KekUnavailableError('vault down')) : kek.unwrap(w)),
      matches: (w) => kek.matches(w),
    };
    const client = new EnvelopeClient({ keks: flaky, unwrappedKeyCache: new UnwrappedKeyCache({ now: clock.now, negativeTtlMs: 1_000 }) });
    expect(((await errorOf(client.decrypt(envelope))) as EnvelopeError).code).toBe('ERR_KEK_UNAVAILABLE');
    down = false;
    expect(((await errorOf(client.decrypt(envelope))) as EnvelopeError).code).toBe('ERR_KEK_UNAVAILABLE'); // from memory
    clock.ms += 1_000;
    expect((await client.decrypt(envelope)).plaintext).toEqual(text('x'));
  });
});
