/**
 * `backend: 'noble'` covers both field modes (GCM and AES-SIV): outputs are byte-identical to
 * the node:crypto backend's and each backend opens the other's ciphertexts.
 */
import { describe, expect, it } from 'vitest';
import { FieldEncryptor, LocalAesKek, MemoryKeyStore } from '../../src/index.js';

describe('FieldEncryptor backends', () => {
  it('deterministic values are byte-identical across backends and cross-decrypt', async () => {
    const store = new MemoryKeyStore();
    const kek = new LocalAesKek({ id: 'b', key: new Uint8Array(32).fill(2) });
    const node = new FieldEncryptor({ keks: kek, keyStore: store });
    const noble = new FieldEncryptor({ keks: kek, keyStore: store, backend: 'noble' });
    for (const v of ['', 'a', 'ada@example.com', 'x'.repeat(1000)]) {
      const a = await node.encryptDeterministic(v, { keyName: 'users.email', aad: 'users.email' });
      const b = await noble.encryptDeterministic(v, { keyName: 'users.email', aad: 'users.email' });
      expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
      expect(new TextDecoder().decode(await noble.decrypt(a, { aad: 'users.email' }))).toBe(v);
      const r = await noble.encrypt(v, { aad: 'r#1' });
      expect(new TextDecoder().decode(await node.decrypt(r, { aad: 'r#1' }))).toBe(v);
    }
    const tampered = await noble.encryptDeterministic('x', { keyName: 'users.email' });
    tampered[tampered.length - 1]! ^= 1;
    await expect(noble.decrypt(tampered)).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
  });
});
