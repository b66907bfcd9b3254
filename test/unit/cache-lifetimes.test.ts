/**
 * Issue 8 item 5: key lifetimes follow the KEK. The adversary is time: a KEK version rotated or
 * disabled mid-run (a compromised version being revoked), while a long-running process keeps
 * encrypting with cached DEKs and decrypting through memos. The bound docs/security.md §Key
 * lifetimes states is checked here with an injected clock.
 */
import { describe, expect, it } from 'vitest';
import {
  EnvelopeClient, EnvelopeError, FieldEncryptor, KeyDisabledError, MemoryKeyStore, UnwrappedKeyCache, readWrappedKeys,
} from '../../src/index.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { aesKek } from '../helpers/keys.js';
import { RotatingKek } from '../helpers/rotating-kek.js';

const text = (s: string) => new TextEncoder().encode(s);
const keyRefOf = (ct: Uint8Array) => Buffer.from(ct.subarray(1, 9)).toString('hex');
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

class Clock {
  ms = 1_000_000;
  readonly now = () => this.ms;
}

describe('encrypt side: a rotation or a disabled version retires cached DEKs', () => {
  it('envelope: after a rotation the very next envelope names the new version', async () => {
    const kek = new RotatingKek();
    const client = new EnvelopeClient({ keks: kek });
    const v1 = kek.currentId;
    const before = await client.encrypt(text('a'));
    expect((await client.encrypt(text('b'))).length).toBe(before.length); // same DEK reused meanwhile
    expect(kek.wraps).toBe(1);
    const v2 = kek.rotate();
    const after = await client.encrypt(text('c'));
    expect(readWrappedKeys(before).map((w) => w.kekId)).toEqual([v1]);
    expect(readWrappedKeys(after).map((w) => w.kekId)).toEqual([v2]);
    expect((await client.decrypt(before)).plaintext).toEqual(text('a'));
    expect((await client.decrypt(after)).plaintext).toEqual(text('c'));
  });

  it('field: after a rotation the very next value goes to a new record wrapped under the new version', async () => {
    const kek = new RotatingKek();
    const keyStore = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek, keyStore });
    const a = await fields.encrypt('a');
    expect(keyRefOf(await fields.encrypt('b'))).toBe(keyRefOf(a));
    const v2 = kek.rotate();
    const c = await fields.encrypt('c');
    expect(keyRefOf(c)).not.toBe(keyRefOf(a));
    expect((await keyStore.get(keyRefOf(c)))!.wrappedDeks.map((w) => w.kekId)).toEqual([v2]);
    expect(keyRefOf(await fields.encrypt('d'))).toBe(keyRefOf(c));
  });

  it('a version disabled without a successor ends the DEK once, not once per message', async () => {
    const kek = new RotatingKek();
    const client = new EnvelopeClient({ keks: kek });
    await client.encrypt(text('a'));
    kek.disable(kek.currentId); // the KEK now calls even its own fresh wraps stale
    for (let i = 0; i < 5; i++) await client.encrypt(text('b'));
    expect(kek.wraps).toBe(2);
  });

  it('retireDataKey() on both clients starts a new DEK with local KEKs too (which cannot tell versions)', async () => {
    const kek = new CountingKek(aesKek());
    const client = new EnvelopeClient({ keks: kek });
    const a = readWrappedKeys(await client.encrypt(text('a')))[0]!;
    expect(readWrappedKeys(await client.encrypt(text('b')))[0]!.bytes).toEqual(a.bytes);
    client.retireDataKey();
    expect(readWrappedKeys(await client.encrypt(text('c')))[0]!.bytes).not.toEqual(a.bytes);
    expect(kek.wraps).toBe(2);

    const fields = new FieldEncryptor({ keks: kek, keyStore: new MemoryKeyStore() });
    const f1 = await fields.encrypt('a');
    fields.retireDataKey();
    const f2 = await fields.encrypt('b');
    expect(keyRefOf(f2)).not.toBe(keyRefOf(f1));
    fields.retireActiveDek(); // the deprecated name still works
    expect(keyRefOf(await fields.encrypt('c'))).not.toBe(keyRefOf(f2));
  });
});

describe('decrypt side: every memo ends with its cache entry (TTL), whatever the clock says about sweeps', () => {
  const TTL = 60_000;

  it('field hot memo: a disabled version stops decrypting exactly ttlMs after the unwrap', async () => {
    const kek = new RotatingKek();
    const keyStore = new MemoryKeyStore();
    const value = await new FieldEncryptor({ keks: kek, keyStore }).encrypt('secret', { aad: 'users.ssn#1' });
    const clock = new Clock();
    const reader = new FieldEncryptor({ keks: kek, keyStore, unwrappedKeyCache: new UnwrappedKeyCache({ ttlMs: TTL, now: clock.now }) });
    await reader.decrypt(value, { aad: 'users.ssn#1' }); // unwraps at t0, memoizes
    kek.disable(kek.currentId);
    clock.ms += TTL - 1;
    expect(new TextDecoder().decode(await reader.decrypt(value, { aad: 'users.ssn#1' }))).toBe('secret'); // within the bound
    clock.ms += 1;
    const err = await errorOf(reader.decrypt(value, { aad: 'users.ssn#1' }));
    expect(err).toBeInstanceOf(KeyDisabledError);
    expect((err as EnvelopeError).code).toBe('ERR_KEY_DISABLED');
  });

  it('envelope hot memo: same bound', async () => {
    const kek = new RotatingKek();
    const envelope = await new EnvelopeClient({ keks: kek }).encrypt(text('secret'));
    const clock = new Clock();
    const reader = new EnvelopeClient({ keks: kek, unwrappedKeyCache: new UnwrappedKeyCache({ ttlMs: TTL, now: clock.now }) });
    await reader.decrypt(envelope);
    kek.disable(kek.currentId);
    clock.ms += TTL - 1;
    expect((await reader.decrypt(envelope)).plaintext).toEqual(text('secret'));
    clock.ms += 1;
    expect(((await errorOf(reader.decrypt(envelope))) as EnvelopeError).code).toBe('ERR_KEY_DISABLED');
  });

  it('named (deterministic) keys: the memo expires with the cache TTL, so a revoked KEK stops them too', async () => {
    const kek = new RotatingKek();
    const keyStore = new MemoryKeyStore();
    const first = await new FieldEncryptor({ keks: kek, keyStore }).encryptDeterministic('ada', { keyName: 'users.email' });
    const clock = new Clock();
    const fields = new FieldEncryptor({ keks: kek, keyStore, unwrappedKeyCache: new UnwrappedKeyCache({ ttlMs: TTL, now: clock.now }) });
    expect(await fields.encryptDeterministic('ada', { keyName: 'users.email' })).toEqual(first);
    kek.disable(kek.currentId);
    clock.ms += TTL - 1;
    expect(await fields.encryptDeterministic('ada', { keyName: 'users.email' })).toEqual(first);
    clock.ms += 1;
    const err = await errorOf(fields.encryptDeterministic('ada', { keyName: 'users.email' }));
    expect((err as EnvelopeError).code).toBe('ERR_KEY_DISABLED');
  });

  it('blind index keys: the same bound, also on the await-free path a loaded key takes', async () => {
    const kek = new RotatingKek();
    const keyStore = new MemoryKeyStore();
    const def = { name: 'users.email', bits: 16 } as const;
    const first = await new FieldEncryptor({ keks: kek, keyStore }).blindIndex('ada', def);
    const clock = new Clock();
    const fields = new FieldEncryptor({ keks: kek, keyStore, unwrappedKeyCache: new UnwrappedKeyCache({ ttlMs: TTL, now: clock.now }) });
    expect(await fields.blindIndex('ada', def)).toBe(first);
    kek.disable(kek.currentId);
    clock.ms += TTL - 1;
    expect(await fields.blindIndex('ada', def)).toBe(first); // served by the loaded key, no KEK call
    clock.ms += 1;
    expect(((await errorOf(fields.blindIndex('ada', def))) as EnvelopeError).code).toBe('ERR_KEY_DISABLED');
    // An aborted signal is refused before any work, loaded key or not.
    const aborted = AbortSignal.abort(new Error('stop'));
    expect(((await errorOf(fields.blindIndex('ada', { ...def, signal: aborted }))) as Error).message).toBe('stop');
  });

  it('a named key found in a warm cache ends with that entry, not ttlMs after it was first used to encrypt', async () => {
    const kek = new RotatingKek();
    const keyStore = new MemoryKeyStore();
    const first = await new FieldEncryptor({ keks: kek, keyStore }).encryptDeterministic('ada', { keyName: 'users.email' });
    const clock = new Clock();
    const fields = new FieldEncryptor({ keks: kek, keyStore, unwrappedKeyCache: new UnwrappedKeyCache({ ttlMs: TTL, now: clock.now }) });
    await fields.decrypt(first); // t0: unwraps the named DEK into the cache
    clock.ms += TTL / 2;
    expect(await fields.encryptDeterministic('ada', { keyName: 'users.email' })).toEqual(first); // memo made from the t0 entry
    kek.disable(kek.currentId);
    clock.ms += TTL / 2; // t0 + ttlMs
    expect(((await errorOf(fields.encryptDeterministic('ada', { keyName: 'users.email' }))) as EnvelopeError).code).toBe('ERR_KEY_DISABLED');
  });

  it('retireDataKey() re-reads named keys: same DEK, same ciphertexts (equality search keeps working)', async () => {
    const kek = new CountingKek(aesKek());
    const keyStore = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek, keyStore });
    const a = await fields.encryptDeterministic('x', { keyName: 'n' });
    fields.retireDataKey();
    await new Promise((r) => setImmediate(r)); // the dropped memo's copy is wiped by now
    expect(await fields.encryptDeterministic('x', { keyName: 'n' })).toEqual(a);
  });
});
