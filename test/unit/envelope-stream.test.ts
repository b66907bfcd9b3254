import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { EnvelopeClient, EnvelopeError } from '../../src/index.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { aesKek, collect } from '../helpers/keys.js';

function chunked(data: Uint8Array, size: number): Readable {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

describe('EnvelopeClient streams', () => {
  const kek = aesKek();
  const client = new EnvelopeClient({ keks: kek, frameSize: 1024 });

  it('stream output is a valid one-shot envelope and vice versa, for odd chunkings', async () => {
    for (const [n, chunk] of [[0, 7], [1, 1], [1024, 1024], [1025, 100], [5000, 333], [4096, 4096]] as const) {
      const pt = randomBytes(n);
      const streamed = await collect(chunked(pt, chunk).pipe(client.encryptStream({ context: { n: String(n) } })));
      const { plaintext, context } = await client.decrypt(streamed);
      expect(Buffer.from(plaintext)).toEqual(pt);
      expect(context).toEqual({ n: String(n) });
      const oneShot = await client.encrypt(pt);
      expect(await collect(chunked(oneShot, chunk).pipe(client.decryptStream()))).toEqual(pt);
    }
  });

  it('emits the context before the first plaintext byte', async () => {
    const env = await client.encrypt(randomBytes(3000), { context: { file: 'a.bin' } });
    const events: string[] = [];
    const dec = client.decryptStream();
    dec.on('context', () => events.push('context'));
    dec.on('data', () => events.push('data'));
    await pipeline(chunked(env, 500), dec);
    expect(events[0]).toBe('context');
    expect(events.filter((e) => e === 'data').length).toBeGreaterThan(1);
  });

  it('fails with an EnvelopeError on a flipped bit, a truncation and trailing bytes', async () => {
    const env = Buffer.from(await client.encrypt(randomBytes(3000)));
    const cases: Buffer[] = [];
    const flipped = Buffer.from(env);
    flipped[env.length - 100]! ^= 1;
    cases.push(flipped, env.subarray(0, env.length - 30), env.subarray(0, 50), Buffer.concat([env, Buffer.of(1, 2)]));
    for (const bad of cases) {
      const err = await pipeline(chunked(bad, 256), client.decryptStream(), new Writable({ write: (_c, _e, cb) => cb() })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EnvelopeError);
    }
  });

  it('requires the required context when streaming', async () => {
    const env = await collect(chunked(randomBytes(2000), 100).pipe(client.encryptStream({ requiredContext: { row: '1' } })));
    const bad = await collect(chunked(env, 64).pipe(client.decryptStream({ requiredContext: { row: '2' } }))).catch((e) => e);
    expect((bad as EnvelopeError).code).toBe('ERR_DECRYPTION_FAILED');
    expect((await collect(chunked(env, 64).pipe(client.decryptStream({ requiredContext: { row: '1' } })))).length).toBe(2000);
  });

  it('works as web streams', async () => {
    const pt = randomBytes(10_000);
    const source = new Blob([pt]).stream();
    const decrypted = source.pipeThrough(client.encryptWebStream()).pipeThrough(client.decryptWebStream());
    const chunks: Uint8Array[] = [];
    for await (const c of decrypted as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(Buffer.concat(chunks)).toEqual(pt);
  });

  it('encrypt streams reuse the cached DEK', async () => {
    const counting = new CountingKek(aesKek());
    const c = new EnvelopeClient({ keks: counting });
    for (let i = 0; i < 3; i++) await collect(chunked(randomBytes(100), 10).pipe(c.encryptStream()));
    expect(counting.wraps).toBe(1);
  });

  it('keeps memory flat on a 1 GiB stream (encrypt → decrypt)', async () => {
    const big = new EnvelopeClient({ keks: kek });
    const block = randomBytes(1024 * 1024);
    const total = 1024;
    async function* source() {
      for (let i = 0; i < total; i++) yield block;
    }
    const expected = createHash('sha256');
    for (let i = 0; i < total; i++) expected.update(block);
    const seen = createHash('sha256');
    let bytes = 0;
    let peakRss = 0;
    const baseline = process.memoryUsage().rss;
    await pipeline(
      Readable.from(source()),
      big.encryptStream(),
      big.decryptStream(),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          seen.update(chunk);
          bytes += chunk.length;
          if ((bytes & (64 * 1024 * 1024 - 1)) < chunk.length) peakRss = Math.max(peakRss, process.memoryUsage().rss);
          cb();
        },
      }),
    );
    expect(bytes).toBe(total * block.length);
    expect(seen.digest('hex')).toBe(expected.digest('hex'));
    // 1 GiB went through; resident memory may not grow by more than a small multiple of the frame size.
    expect(peakRss - baseline).toBeLessThan(128 * 1024 * 1024);
  }, 120_000);
});
