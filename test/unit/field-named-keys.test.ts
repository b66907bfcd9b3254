import { describe, expect, it } from 'vitest';
import { EnvelopeClient, FieldEncryptor, MemoryKeyStore, UnwrappedKeyCache } from '../../src/index.js';
import { aesKek } from '../helpers/keys.js';

describe('FieldEncryptor named (deterministic) keys', () => {
  it('keep working after the shared cache evicts their DEK', async () => {
    const kek = aesKek();
    const keyStore = new MemoryKeyStore();
    const first = await new FieldEncryptor({ keks: kek, keyStore }).encryptDeterministic('ada', { keyName: 'users.email' });
    // A second encryptor opens the existing named key through a tiny shared cache…
    const cache = new UnwrappedKeyCache({ maxEntries: 1 });
    const fields = new FieldEncryptor({ keks: kek, keyStore, unwrappedKeyCache: cache });
    expect(await fields.encryptDeterministic('ada', { keyName: 'users.email' })).toEqual(first);
    // …which unrelated decrypts then evict (and wipe) on a later macrotask.
    const envelopes = new EnvelopeClient({ keks: kek, unwrappedKeyCache: cache });
    const env = await new EnvelopeClient({ keks: kek }).encrypt(new Uint8Array(1));
    await envelopes.decrypt(env);
    await new Promise((r) => setImmediate(r));
    expect(await fields.encryptDeterministic('ada', { keyName: 'users.email' })).toEqual(first);
  });
});
