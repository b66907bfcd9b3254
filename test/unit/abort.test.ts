import { describe, expect, it } from 'vitest';
import { EnvelopeClient, FieldEncryptor, MemoryKeyStore } from '../../src/index.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { aesKek } from '../helpers/keys.js';

/** Precondition: shared (single-flight) work is not cancelled by one caller's abort. */
describe('one caller aborting does not fail the others sharing its work', () => {
  const text = (s: string) => new TextEncoder().encode(s);

  it('envelope encrypt: a cold DEK shared by two callers', async () => {
    const client = new EnvelopeClient({ keks: aesKek() });
    const ac = new AbortController();
    const aborted = client.encrypt(text('a'), { signal: ac.signal });
    const other = client.encrypt(text('b'));
    ac.abort(new Error('caller went away'));
    const [a, b] = await Promise.allSettled([aborted, other]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('fulfilled');
  });

  it('envelope decrypt: a cold unwrap shared by two callers', async () => {
    const inner = aesKek();
    const env = await new EnvelopeClient({ keks: inner }).encrypt(text('x'));
    const counting = new CountingKek(inner, { unwrapDelayMs: 30 });
    const reader = new EnvelopeClient({ keks: counting });
    const ac = new AbortController();
    const aborted = reader.decrypt(env, { signal: ac.signal });
    const other = reader.decrypt(env);
    setTimeout(() => ac.abort(new Error('caller went away')), 5);
    const [a, b] = await Promise.allSettled([aborted, other]);
    expect(a.status).toBe('rejected');
    expect((a as PromiseRejectedResult).reason.message).toBe('caller went away');
    expect(b.status).toBe('fulfilled');
    expect(counting.unwraps).toBe(1);
  });

  it('field encrypt, deterministic and decrypt', async () => {
    const inner = aesKek();
    const keyStore = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: inner, keyStore });
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const results = await Promise.allSettled([
      fields.encrypt('a', { signal: ac.signal }),
      fields.encrypt('b'),
      fields.encryptDeterministic('c', { keyName: 'n', signal: ac.signal }),
      fields.encryptDeterministic('c', { keyName: 'n' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const ct = (results[1] as PromiseFulfilledResult<Uint8Array>).value;
    const reader = new FieldEncryptor({ keks: new CountingKek(inner, { unwrapDelayMs: 20 }), keyStore });
    const late = new AbortController();
    const pending = [reader.decrypt(ct, { signal: late.signal }), reader.decrypt(ct)];
    setTimeout(() => late.abort(new Error('late')), 5);
    const [x, y] = await Promise.allSettled(pending);
    expect(x!.status).toBe('rejected');
    expect(y!.status).toBe('fulfilled');
  });
});
