/**
 * encryptMany / decryptMany: per-item results, input order, one failing item never sinks the
 * batch, and K distinct DEKs cost K unwraps for any number of rows.
 */
import { describe, expect, it } from 'vitest';
import { FieldEncryptor, LocalAesKek, MemoryKeyStore } from '../../src/index.js';
import { CountingKek } from '../helpers/counting-kek.js';

const aes = () => new LocalAesKek({ id: 'bulk-kek', key: new Uint8Array(32).fill(9) });

describe('FieldEncryptor bulk', () => {
  it('round trips with per-item aad, results in input order', async () => {
    const fields = new FieldEncryptor({ keks: aes(), keyStore: new MemoryKeyStore() });
    const rows = Array.from({ length: 50 }, (_, i) => ({ value: `ssn-${i}`, aad: `users.ssn#${i}` }));
    const enc = await fields.encryptMany(rows);
    expect(enc.map((r) => r.index)).toEqual(rows.map((_, i) => i));
    const dec = await fields.decryptMany(enc.map((r, i) => ({ value: (r as { value: Uint8Array }).value, aad: `users.ssn#${i}` })));
    expect(dec.map((r) => r.ok && new TextDecoder().decode(r.value))).toEqual(rows.map((r) => r.value));
  });

  it('attack: a swapped row, a truncated value and a wrong type fail alone, typed; the rest decrypt', async () => {
    const fields = new FieldEncryptor({ keks: aes(), keyStore: new MemoryKeyStore() });
    const [a, b] = (await fields.encryptMany([{ value: 'a', aad: 'r#1' }, { value: 'b', aad: 'r#2' }])).map((r) => (r as { value: Uint8Array }).value);
    const results = await fields.decryptMany([
      { value: a!, aad: 'r#2' }, // moved to another row
      { value: b!.subarray(0, 10), aad: 'r#2' },
      { value: 'text' as never },
      { value: b!, aad: 'r#2' },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : (r.error as { code?: string }).code ?? r.error.name))).toEqual([
      'ERR_DECRYPTION_FAILED', 'ERR_ENVELOPE_MALFORMED', 'TypeError', 'ok',
    ]);
  });

  it('10,000 values under 5 DEKs decrypt in a fresh encryptor with 5 unwraps', async () => {
    const store = new MemoryKeyStore();
    const writer = new FieldEncryptor({ keks: aes(), keyStore: store, limits: { maxEncryptionsPerDek: 2_000 } });
    const enc = await writer.encryptMany(Array.from({ length: 10_000 }, (_, i) => `v${i}`));
    const counting = new CountingKek(aes());
    const reader = new FieldEncryptor({ keks: counting, keyStore: store });
    const dec = await reader.decryptMany(enc.map((r) => (r as { value: Uint8Array }).value));
    expect(dec.every((r) => r.ok)).toBe(true);
    expect(counting.unwraps).toBe(5);
  });

  it('an aborted signal rejects the whole call', async () => {
    const fields = new FieldEncryptor({ keks: aes(), keyStore: new MemoryKeyStore() });
    const c = new AbortController();
    c.abort(new Error('stop'));
    await expect(fields.encryptMany(['x'], { signal: c.signal })).rejects.toThrow('stop');
    await expect(fields.encryptMany(42 as never)).rejects.toBeInstanceOf(TypeError);
  });
});
