import { describe, expect, it } from 'vitest';
import { EnvelopeClient, FieldEncryptor, LocalAesKek, MemoryKeyStore } from '../../src/index.js';

describe('smoke', () => {
  it('round trips', async () => {
    const kek = new LocalAesKek({ id: 'k1', key: new Uint8Array(32).fill(7) });
    const c = new EnvelopeClient({ keks: kek });
    const env = await c.encrypt(new TextEncoder().encode('hello'), { context: { a: 'b' } });
    const r = await c.decrypt(env);
    expect(new TextDecoder().decode(r.plaintext)).toBe('hello');
    expect(r.context).toEqual({ a: 'b' });
    const f = new FieldEncryptor({ keks: kek, keyStore: new MemoryKeyStore() });
    const ct = await f.encrypt('x'.repeat(100), { aad: 'users.ssn#1' });
    expect(ct.length).toBe(137);
    expect(new TextDecoder().decode(await f.decrypt(ct, { aad: 'users.ssn#1' }))).toBe('x'.repeat(100));
    const d1 = await f.encryptDeterministic('a@b.c', { keyName: 'users.email' });
    const d2 = await f.encryptDeterministic('a@b.c', { keyName: 'users.email' });
    expect(d1).toEqual(d2);
    expect(new TextDecoder().decode(await f.decrypt(d1))).toBe('a@b.c');
  });
});
