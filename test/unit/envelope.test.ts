import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  DecryptionFailedError, EnvelopeClient, EnvelopeError, NoMatchingKekError, UnwrappedKeyCache, readWrappedKeys,
} from '../../src/index.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { aesKek } from '../helpers/keys.js';

const text = (s: string) => new TextEncoder().encode(s);

async function rejection(p: Promise<unknown>): Promise<EnvelopeError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EnvelopeError);
  return err as EnvelopeError;
}

describe('EnvelopeClient', () => {
  it('round trips plaintext of many sizes across frame boundaries', async () => {
    const client = new EnvelopeClient({ keks: aesKek(), frameSize: 1024 });
    for (const n of [0, 1, 1023, 1024, 1025, 2048, 5000]) {
      const pt = randomBytes(n);
      const env = await client.encrypt(pt);
      expect(Buffer.from((await client.decrypt(env)).plaintext)).toEqual(pt);
    }
  });

  it('returns the stored context and authenticates it', async () => {
    const client = new EnvelopeClient({ keks: aesKek() });
    const env = await client.encrypt(text('x'), { context: { tenant: 'acme', purpose: 'backup' } });
    expect((await client.decrypt(env)).context).toEqual({ tenant: 'acme', purpose: 'backup' });
  });

  it('requires the required context, which is not stored', async () => {
    const client = new EnvelopeClient({ keks: aesKek() });
    const env = await client.encrypt(text('secret'), { requiredContext: { row: '42' } });
    // the encoded pair (u16 3 ‖ 'row' ‖ u16 2 ‖ '42') is nowhere in the envelope
    expect(Buffer.from(env).includes(Buffer.from([0, 3, ...Buffer.from('row'), 0, 2, ...Buffer.from('42')]))).toBe(false);
    expect(Buffer.from(env).includes(Buffer.from('row'))).toBe(false);
    expect((await client.decrypt(env, { requiredContext: { row: '42' } })).context).toEqual({});
    expect((await rejection(client.decrypt(env))).code).toBe('ERR_DECRYPTION_FAILED');
    expect((await rejection(client.decrypt(env, { requiredContext: { row: '43' } }))).code).toBe('ERR_DECRYPTION_FAILED');
  });

  it('refuses a requiredContext key that is also in context', async () => {
    const client = new EnvelopeClient({ keks: aesKek() });
    await expect(client.encrypt(text('x'), { context: { a: '1' }, requiredContext: { a: '1' } })).rejects.toThrow(RangeError);
  });

  it('wraps each DEK under every KEK; either one alone decrypts', async () => {
    const primary = aesKek('primary');
    const dr = aesKek('dr');
    const env = await new EnvelopeClient({ keks: [primary, dr] }).encrypt(text('both'));
    expect(readWrappedKeys(env).map((w) => w.kekId)).toEqual(['primary', 'dr']);
    for (const only of [primary, dr]) {
      const { plaintext } = await new EnvelopeClient({ keks: only }).decrypt(env);
      expect(new TextDecoder().decode(plaintext)).toBe('both');
    }
  });

  it('names the kekIds when no configured KEK matches', async () => {
    const env = await new EnvelopeClient({ keks: aesKek('a') }).encrypt(text('x'));
    const err = await rejection(new EnvelopeClient({ keks: aesKek('b') }).decrypt(env));
    expect(err).toBeInstanceOf(NoMatchingKekError);
    expect(err.code).toBe('ERR_NO_MATCHING_KEK');
    expect(err.message).toContain('a');
  });

  it('gives ERR_DECRYPTION_FAILED for a KEK with the right id but the wrong key', async () => {
    const env = await new EnvelopeClient({ keks: aesKek('same') }).encrypt(text('x'));
    const err = await rejection(new EnvelopeClient({ keks: aesKek('same') }).decrypt(env));
    expect(err).toBeInstanceOf(DecryptionFailedError);
  });

  it('says so when given base64 text instead of bytes', async () => {
    const client = new EnvelopeClient({ keks: aesKek() });
    const env = await client.encrypt(text('x'));
    const err = await rejection(client.decrypt(Buffer.from(Buffer.from(env).toString('base64'))));
    expect(err.code).toBe('ERR_ENVELOPE_MALFORMED');
    expect(err.message).toMatch(/base64/);
  });

  it('rejects truncation and trailing bytes as malformed', async () => {
    const client = new EnvelopeClient({ keks: aesKek(), frameSize: 1024 });
    const env = await client.encrypt(randomBytes(3000));
    const frameStart = env.length - (3000 - 2048 + 20);
    expect((await rejection(client.decrypt(env.subarray(0, frameStart)))).code).toBe('ERR_ENVELOPE_MALFORMED');
    expect((await rejection(client.decrypt(Buffer.concat([env, Buffer.of(0)])))).code).toBe('ERR_ENVELOPE_MALFORMED');
  });

  it('reuses one DEK across envelopes until maxMessages, then makes a new one', async () => {
    const kek = new CountingKek(aesKek());
    const client = new EnvelopeClient({ keks: kek, cache: { maxMessages: 3 } });
    const envs = [];
    for (let i = 0; i < 7; i++) envs.push(await client.encrypt(text(`m${i}`)));
    expect(kek.wraps).toBe(3);
    const wrapped = envs.map((e) => Buffer.from(readWrappedKeys(e)[0]!.bytes).toString('hex'));
    expect(new Set(wrapped).size).toBe(3);
    expect(wrapped[0]).toBe(wrapped[2]);
    expect(wrapped[2]).not.toBe(wrapped[3]);
  });

  it('makes a new DEK per envelope with cache: false', async () => {
    const kek = new CountingKek(aesKek());
    const client = new EnvelopeClient({ keks: kek, cache: false });
    await Promise.all([1, 2, 3].map((i) => client.encrypt(text(`m${i}`))));
    expect(kek.wraps).toBe(3);
  });

  it('makes one DEK for a burst of concurrent cold encryptions', async () => {
    const kek = new CountingKek(aesKek());
    const client = new EnvelopeClient({ keks: kek });
    await Promise.all(Array.from({ length: 500 }, (_, i) => client.encrypt(text(`m${i}`))));
    expect(kek.wraps).toBe(1);
  });

  it('1,000 concurrent cold decrypts of 1,000 envelopes sharing one DEK make exactly 1 unwrap', async () => {
    const inner = aesKek('shared');
    const envs = await (async () => {
      const writer = new EnvelopeClient({ keks: inner });
      return Promise.all(Array.from({ length: 1000 }, (_, i) => writer.encrypt(text(`message ${i}`))));
    })();
    expect(new Set(envs.map((e) => Buffer.from(readWrappedKeys(e)[0]!.bytes).toString('hex'))).size).toBe(1);
    const counting = new CountingKek(inner, { unwrapDelayMs: 20 });
    const reader = new EnvelopeClient({ keks: counting });
    const results = await Promise.all(envs.map((e) => reader.decrypt(e)));
    expect(counting.unwraps).toBe(1);
    expect(new TextDecoder().decode(results[999]!.plaintext)).toBe('message 999');
  });

  it('shares a decrypt-side cache between clients when given one', async () => {
    const inner = aesKek('k');
    const env = await new EnvelopeClient({ keks: inner }).encrypt(text('x'));
    const cache = new UnwrappedKeyCache();
    const counting = new CountingKek(inner);
    await new EnvelopeClient({ keks: counting, unwrappedKeyCache: cache }).decrypt(env);
    await new EnvelopeClient({ keks: counting, unwrappedKeyCache: cache }).decrypt(env);
    expect(counting.unwraps).toBe(1);
  });

  it('decrypts its own envelopes without an unwrap', async () => {
    const kek = new CountingKek(aesKek());
    const client = new EnvelopeClient({ keks: kek });
    await client.decrypt(await client.encrypt(text('x')));
    expect(kek.unwraps).toBe(0);
  });

  it('encrypts and decrypts identically with the noble backend', async () => {
    const kek = aesKek();
    const node = new EnvelopeClient({ keks: kek });
    const noble = new EnvelopeClient({ keks: kek, backend: 'noble' });
    const pt = randomBytes(5000);
    expect(Buffer.from((await noble.decrypt(await node.encrypt(pt))).plaintext)).toEqual(pt);
    expect(Buffer.from((await node.decrypt(await noble.encrypt(pt))).plaintext)).toEqual(pt);
  });

  it('rejects bad arguments with TypeError/RangeError naming them', async () => {
    expect(() => new EnvelopeClient({ keks: [] })).toThrow(/options.keks/);
    expect(() => new EnvelopeClient({ keks: {} as never })).toThrow(TypeError);
    expect(() => new EnvelopeClient({ keks: aesKek(), frameSize: 10 })).toThrow(/options.frameSize/);
    expect(() => new EnvelopeClient({ keks: aesKek(), cache: { maxAgeMs: -1 } })).toThrow(/maxAgeMs/);
    const client = new EnvelopeClient({ keks: aesKek() });
    await expect(client.encrypt('text' as never)).rejects.toThrow(/plaintext/);
    await expect(client.decrypt(null as never)).rejects.toThrow(/envelope/);
    await expect(client.encrypt(text('x'), { context: { a: 1 } as never })).rejects.toThrow(/context.a/);
  });

  it('honours an aborted signal', async () => {
    const client = new EnvelopeClient({ keks: aesKek() });
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(client.encrypt(text('x'), { signal: ac.signal })).rejects.toThrow('stop');
  });

  it('does not show keys in inspect or JSON', async () => {
    const key = randomBytes(32);
    const { LocalAesKek } = await import('../../src/index.js');
    const client = new EnvelopeClient({ keks: new LocalAesKek({ id: 'k', key }) });
    await client.encrypt(text('x'));
    const shown = inspect(client, { depth: 10, showHidden: true }) + JSON.stringify(client);
    expect(shown).not.toContain(key.toString('hex'));
    expect(shown).not.toContain(key.toString('base64'));
  });
});
