/**
 * rewrapEnvelopes: payload bytes kept, one unwrap per distinct DEK, skips, per-item failures,
 * order, backpressure, abort, dry run, verify, progress and option checks.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DecryptionFailedError, EnvelopeClient, replaceWrappedKeys, EnvelopeMalformedError, KekUnavailableError, LocalRsaKek, NoMatchingKekError,
  type KekOperationOptions, type KeyEncryptionKey, type WrappedKey,
} from '../../src/index.js';
import { envelopeDigest, rewrapEnvelopes, rewrapResultToJSON, type EnvelopeRewrapResult, type RewrapProgress } from '../../src/rewrap/index.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { aesKek } from '../helpers/keys.js';
import { countingSource, drain, makeEnvelopes, sleep, splitEnvelope, str, text, VersionedTestKek } from '../helpers/rewrap.js';

const rewrapped = (r: EnvelopeRewrapResult) => {
  if (r.status !== 'rewrapped') throw new Error(`${r.id}: expected rewrapped, got ${JSON.stringify(rewrapResultToJSON(r))}`);
  return r;
};

describe('rewrapEnvelopes', () => {
  it('replaces only the wrapped-key section; the result opens with the new KEK alone', async () => {
    const a = aesKek('kek/a');
    const b = aesKek('kek/b');
    const items = await makeEnvelopes(a, 40, 10);
    const results = await drain(rewrapEnvelopes(items, { to: [b], from: [a] }));
    expect(results.map((r) => r.id)).toEqual(items.map((i) => i.id));
    const onlyB = new EnvelopeClient({ keks: b });
    for (const [i, r] of results.entries()) {
      const out = rewrapped(r);
      expect(out.kekIds).toEqual(['kek/b']);
      expect(out.verified).toBe(false);
      const before = splitEnvelope(items[i]!.envelope);
      const after = splitEnvelope(out.envelope);
      expect(after.outside.equals(before.outside)).toBe(true);
      expect(after.wrappedKeys.map((w) => w.kekId)).toEqual(['kek/b']);
      expect(str((await onlyB.decrypt(out.envelope)).plaintext)).toBe(`item ${i}`);
    }
  });

  it('unwraps each distinct DEK once, even with concurrent items of one DEK and a shuffled order', async () => {
    const a = aesKek();
    const b = aesKek();
    const items = await makeEnvelopes(a, 1000, 50); // 20 DEKs
    const shuffled = [...items].sort(() => Math.random() - 0.5);
    for (const order of [items, shuffled]) {
      const from = new CountingKek(a, { unwrapDelayMs: 2 });
      const to = new CountingKek(b);
      const results = await drain(rewrapEnvelopes(order, { to: [to], from: [from], concurrency: 16 }));
      expect(results.every((r) => r.status === 'rewrapped')).toBe(true);
      expect(from.unwraps).toBe(20);
      expect(to.wraps).toBe(20 + 1); // + the probe that learns the target's kekId
    }
  });

  it('keeps memory bounded with maxCachedDeks: a small map costs extra unwraps, never wrong results', async () => {
    const a = aesKek();
    const b = aesKek();
    const items = await makeEnvelopes(a, 200, 10); // 20 DEKs
    const interleaved = items.map((_, i) => items[(i % 20) * 10 + Math.floor(i / 20)]!); // DEK changes every item
    const from = new CountingKek(a);
    const results = await drain(rewrapEnvelopes(interleaved, { to: [b], from: [from], maxCachedDeks: 4, concurrency: 1 }));
    expect(from.unwraps).toBeGreaterThan(20);
    const client = new EnvelopeClient({ keks: b });
    for (const r of results) expect(str((await client.decrypt(rewrapped(r).envelope)).plaintext)).toBe(`item ${Number(r.id.slice(5))}`);
    // A map of one entry under 16 concurrent items: entries are evicted (and wiped) while
    // other items still wait for them; those items load their DEK again on their own.
    const thrash = await drain(rewrapEnvelopes(interleaved, { to: [b], from: [a], maxCachedDeks: 1, concurrency: 16 }));
    for (const r of thrash) expect(str((await client.decrypt(rewrapped(r).envelope)).plaintext)).toBe(`item ${Number(r.id.slice(5))}`);
  });

  it('skips items already under the targets (local KEKs: kekId == id) and re-wraps the rest', async () => {
    const a = aesKek('kek/a');
    const b = aesKek('kek/b');
    const items = [...(await makeEnvelopes(a, 5, 5)), ...(await makeEnvelopes(b, 5, 5)).map((x, i) => ({ ...x, id: `b-${i}` }))];
    const from = new CountingKek(a);
    const results = await drain(rewrapEnvelopes(items, { to: [b], from: [from, b] }));
    expect(results.map((r) => r.status)).toEqual([...Array(5).fill('rewrapped'), ...Array(5).fill('skipped')]);
    expect(results[5]).toEqual({ status: 'skipped', id: 'b-0', skipped: true, reason: 'already-current', sourceDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // A second run over the output does nothing and calls no KEK.
    const again = new CountingKek(a);
    const second = await drain(rewrapEnvelopes(results.map((r, i) => ({ id: r.id, envelope: r.status === 'rewrapped' ? r.envelope : items[i]!.envelope })), { to: [b], from: [again, b] }));
    expect(second.every((r) => r.status === 'skipped')).toBe(true);
    expect(again.unwraps).toBe(0);
  });

  it('re-wrapping under the same local KEK is a no-op', async () => {
    const a = new CountingKek(aesKek());
    const items = await makeEnvelopes(a, 10, 5);
    const results = await drain(rewrapEnvelopes(items, { to: [a] }));
    expect(results.every((r) => r.status === 'skipped')).toBe(true);
    expect(a.unwraps).toBe(0);
  });

  it('a rotated versioned KEK: refreshed once, old-version items re-wrapped to the new version, new ones skipped', async () => {
    const kek = new VersionedTestKek();
    const old = await makeEnvelopes(kek, 20, 10);
    const v2 = kek.rotate();
    const results = await drain(rewrapEnvelopes(old, { to: [kek] }));
    expect(kek.refreshes).toBe(1);
    expect(results.every((r) => rewrapped(r).kekIds[0] === v2)).toBe(true);
    expect(kek.unwraps).toBe(2);
    const second = await drain(rewrapEnvelopes(results.map((r) => ({ id: r.id, envelope: rewrapped(r).envelope })), { to: [kek] }));
    expect(second.every((r) => r.status === 'skipped')).toBe(true);
  });

  it('multi-KEK envelopes: dropping a KEK re-wraps; the same set of targets skips', async () => {
    const a = aesKek('kek/a');
    const b = aesKek('kek/b');
    const items = await makeEnvelopes([a, b], 6, 3);
    expect((await drain(rewrapEnvelopes(items, { to: [b, a] }))).every((r) => r.status === 'skipped')).toBe(true);
    const results = await drain(rewrapEnvelopes(items, { to: [b], from: [a, b] }));
    for (const r of results) expect(splitEnvelope(rewrapped(r).envelope).wrappedKeys.map((w) => w.kekId)).toEqual(['kek/b']);
  });

  it('yields per-item failures with typed errors and goes on', async () => {
    const a = aesKek('kek/a');
    const b = aesKek('kek/b');
    const stranger = aesKek('kek/stranger');
    const good = await makeEnvelopes(a, 4, 2); // DEKs: [0,1], [2,3]
    const impostor = aesKek('kek/a'); // same id, other key material: the wrapped key will not unwrap
    // Envelope 2's payload with envelope 0's wrapped key: another DEK than its commitment names
    // (a section MAC under envelope 2's own DEK, so only the commitment check can catch it).
    const dek2 = await a.unwrap(splitEnvelope(good[2]!.envelope).wrappedKeys[0]!);
    const spliced = replaceWrappedKeys(good[2]!.envelope, splitEnvelope(good[0]!.envelope).wrappedKeys, { dek: dek2 });
    const items = [
      good[0]!,
      { id: 'random', envelope: randomBytes(100) },
      { id: 'base64', envelope: text(Buffer.from(good[1]!.envelope).toString('base64')) },
      { id: 'truncated', envelope: good[1]!.envelope.subarray(0, 50) },
      { id: 'stranger', envelope: (await makeEnvelopes(stranger, 1))[0]!.envelope },
      { id: 'spliced', envelope: spliced },
      good[3]!,
    ];
    const results = await drain(rewrapEnvelopes(items, { to: [b], from: [a] }));
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['item-000000', 'rewrapped'], ['random', 'failed'], ['base64', 'failed'], ['truncated', 'failed'],
      ['stranger', 'failed'], ['spliced', 'failed'], ['item-000003', 'rewrapped'],
    ]);
    const errors = Object.fromEntries(results.flatMap((r) => (r.status === 'failed' ? [[r.id, r.error]] : [])));
    expect(errors.random).toBeInstanceOf(EnvelopeMalformedError);
    expect(errors.base64!.message).toMatch(/base64/);
    expect(errors.truncated!.code).toBe('ERR_ENVELOPE_MALFORMED');
    expect(errors.stranger).toBeInstanceOf(NoMatchingKekError);
    expect(errors.spliced).toBeInstanceOf(DecryptionFailedError); // the key commitment caught it
    const failedUnwrap = await drain(rewrapEnvelopes(good.slice(0, 1), { to: [b], from: [impostor] }));
    expect(failedUnwrap[0]).toMatchObject({ status: 'failed', error: { code: 'ERR_DECRYPTION_FAILED' } });
    expect(rewrapResultToJSON(results[4]!)).toEqual({
      id: 'stranger', status: 'failed', error: { name: 'NoMatchingKekError', code: 'ERR_NO_MATCHING_KEK', message: expect.any(String) },
      sourceDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('remembers a permanent unwrap failure per DEK, but retries after ERR_KEK_UNAVAILABLE', async () => {
    const a = aesKek('kek/a');
    const items = await makeEnvelopes(a, 30, 30);
    const broken = new CountingKek(aesKek('kek/a'));
    const results = await drain(rewrapEnvelopes(items, { to: [aesKek()], from: [broken] }));
    expect(results.every((r) => r.status === 'failed' && r.error.code === 'ERR_DECRYPTION_FAILED')).toBe(true);
    expect(broken.unwraps).toBe(1);

    let calls = 0;
    const flaky: KeyEncryptionKey = {
      id: a.id,
      wrap: (dek, o) => a.wrap(dek, o),
      unwrap: async (w, o) => (++calls === 1 ? Promise.reject(new KekUnavailableError('throttled')) : a.unwrap(w, o)),
      matches: (w) => a.matches(w),
    };
    const second = await drain(rewrapEnvelopes(items.slice(0, 3), { to: [aesKek()], from: [flaky], concurrency: 1 }));
    expect(second.map((r) => r.status)).toEqual(['failed', 'rewrapped', 'rewrapped']);
    expect(calls).toBe(2);
  });

  it('wraps a non-EnvelopeError thrown by a KEK into a failed item', async () => {
    const a = aesKek('kek/a');
    const items = await makeEnvelopes(a, 2, 2);
    const buggy: KeyEncryptionKey = { id: a.id, wrap: (d, o) => a.wrap(d, o), unwrap: async () => { throw new Error('bug'); }, matches: (w) => a.matches(w) };
    const [r] = await drain(rewrapEnvelopes(items.slice(0, 1), { to: [aesKek()], from: [buggy] }));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'ERR_KEK_UNAVAILABLE', cause: { message: 'bug' } } });
  });
});

/** A KEK whose unwraps take a random time, to shuffle completion order. */
function jitteryKek(inner: KeyEncryptionKey, maxMs: number): KeyEncryptionKey {
  return {
    id: inner.id,
    wrap: (dek, o) => inner.wrap(dek, o),
    unwrap: async (w: WrappedKey, o?: KekOperationOptions) => {
      await sleep(Math.random() * maxMs);
      return inner.unwrap(w, o);
    },
    matches: (w) => inner.matches(w),
  };
}

describe('rewrapEnvelopes: order, backpressure, end of run', () => {
  it('yields in source order and never reads more than `concurrency` items ahead of the consumer', async () => {
    const a = aesKek();
    const items = await makeEnvelopes(a, 300, 1); // a DEK per item: completion order is random
    const { source, state } = countingSource(items);
    let taken = 0;
    let maxAhead = 0;
    const ids: string[] = [];
    for await (const r of rewrapEnvelopes(source, { to: [aesKek()], from: [jitteryKek(a, 3)], concurrency: 7 })) {
      taken++;
      maxAhead = Math.max(maxAhead, state.read - taken);
      ids.push(r.id);
      if (taken % 50 === 0) await sleep(10); // a slow consumer: reads must stop meanwhile
    }
    expect(ids).toEqual(items.map((i) => i.id));
    expect(maxAhead).toBeLessThanOrEqual(7);
    expect(maxAhead).toBeGreaterThanOrEqual(5); // the window is actually used
  });

  it('a failing source: the items read before it are yielded, then the run rejects with its error', async () => {
    const a = aesKek();
    const items = await makeEnvelopes(a, 5, 5);
    async function* source() {
      yield* items.slice(0, 3);
      throw new Error('listing failed');
    }
    const seen: string[] = [];
    const run = (async () => {
      for await (const r of rewrapEnvelopes(source(), { to: [aesKek()], from: [a] })) seen.push(r.id);
    })();
    await expect(run).rejects.toThrow('listing failed');
    expect(seen).toEqual(items.slice(0, 3).map((i) => i.id));
  });

  it('a malformed source item ends the run with a TypeError naming it', async () => {
    const a = aesKek();
    const items = await makeEnvelopes(a, 2, 2);
    const { source, state } = countingSource([items[0]!, { id: 'x', envelope: 'nope' } as never, items[1]!]);
    const run = drain(rewrapEnvelopes(source, { to: [aesKek()], from: [a] }));
    await expect(run).rejects.toThrow(/source item 1 \("x"\): envelope must be a Uint8Array/);
    expect(state.returned).toBe(true); // the source is closed
  });

  it('abort rejects promptly with the reason, even while an unwrap hangs, and closes the source', async () => {
    const a = aesKek();
    const items = await makeEnvelopes(a, 20, 1);
    const hanging: KeyEncryptionKey = { id: a.id, wrap: (d, o) => a.wrap(d, o), unwrap: () => new Promise(() => undefined), matches: (w) => a.matches(w) };
    const controller = new AbortController();
    const { source, state } = countingSource(items);
    const run = drain(rewrapEnvelopes(source, { to: [aesKek()], from: [hanging], signal: controller.signal }));
    await sleep(20);
    controller.abort(new Error('operator stop'));
    await expect(run).rejects.toThrow('operator stop');
    expect(state.returned).toBe(true);
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(drain(rewrapEnvelopes(items, { to: [aesKek()], from: [a], signal: pre.signal }))).rejects.toThrow('already');
  });

  it('break closes the source and stops', async () => {
    const a = aesKek();
    const items = await makeEnvelopes(a, 100, 10);
    const { source, state } = countingSource(items);
    let n = 0;
    for await (const _ of rewrapEnvelopes(source, { to: [aesKek()], from: [a], concurrency: 4 })) if (++n === 10) break;
    expect(state.returned).toBe(true);
    expect(state.read).toBeLessThanOrEqual(10 + 4);
  });
});

describe('rewrapEnvelopes: dry run, verify, progress, options', () => {
  it('dry run unwraps nothing and reports what would happen', async () => {
    const a = new CountingKek(aesKek('kek/a'));
    const b = new CountingKek(aesKek('kek/b'));
    const items = [...(await makeEnvelopes(a, 3, 3)), { id: 'b', envelope: (await makeEnvelopes(b, 1))[0]!.envelope }, { id: 'bad', envelope: randomBytes(9) }];
    const results = await drain(rewrapEnvelopes(items, { to: [b], from: [a, b], dryRun: true }));
    expect(results.map((r) => r.status)).toEqual(['would-rewrap', 'would-rewrap', 'would-rewrap', 'skipped', 'failed']);
    expect(results[0]).toEqual({ status: 'would-rewrap', id: 'item-000000', dryRun: true, currentKekIds: ['kek/a'], sourceDigest: envelopeDigest(items[0]!.envelope) });
    expect(a.unwraps + b.unwraps).toBe(0);
  });

  it('verify re-opens every new wrapping; a wrap-only target fails the items it cannot verify', async () => {
    const a = aesKek();
    const b = new CountingKek(aesKek());
    const items = await makeEnvelopes(a, 20, 10);
    const results = await drain(rewrapEnvelopes(items, { to: [b], from: [a], verify: true }));
    expect(results.every((r) => rewrapped(r).verified)).toBe(true);
    expect(b.unwraps).toBe(2); // one per distinct DEK
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrapOnly = new LocalRsaKek({ id: 'rsa/public-only', publicKey });
    const failed = await drain(rewrapEnvelopes(items.slice(0, 2), { to: [wrapOnly], from: [a], verify: true }));
    expect(failed.map((r) => r.status === 'failed' && r.error.code)).toEqual(['ERR_UNSUPPORTED_KEY_TYPE', 'ERR_UNSUPPORTED_KEY_TYPE']);
    // Without verify, a wrap-only target is enough (e.g. re-wrapping for a recipient who holds the private key).
    expect((await drain(rewrapEnvelopes(items.slice(0, 2), { to: [wrapOnly], from: [a] }))).map((r) => r.status)).toEqual(['rewrapped', 'rewrapped']);
  });

  it('progress: at most one event per interval, a final event, counts and an ETA with `total`', async () => {
    const a = aesKek();
    const items = [...(await makeEnvelopes(a, 10, 5)), { id: 'bad', envelope: randomBytes(5) }];
    const every: RewrapProgress[] = [];
    await drain(rewrapEnvelopes(items, { to: [aesKek()], from: [a], onProgress: (p) => every.push(p), progressIntervalMs: 0, total: 20 }));
    expect(every).toHaveLength(12);
    expect(every.at(-1)).toMatchObject({ done: 11, rewrapped: 10, skipped: 0, failed: 1, resumed: 0, total: 20, final: true });
    expect(every.at(-2)?.final).toBe(false);
    expect(every.at(-1)!.rate).toBeGreaterThan(0);
    expect(every.at(-1)!.etaMs).toBeGreaterThanOrEqual(0);
    const sparse: RewrapProgress[] = [];
    await drain(rewrapEnvelopes(items, { to: [aesKek()], from: [a], onProgress: (p) => sparse.push(p), progressIntervalMs: 60_000 }));
    expect(sparse).toEqual([expect.objectContaining({ done: 11, final: true })]);
    expect(sparse[0]).not.toHaveProperty('etaMs');
  });

  it('rejects bad options synchronously, naming them', () => {
    const k = aesKek();
    const ok = [] as never[];
    expect(() => rewrapEnvelopes(ok, {} as never)).toThrow(TypeError);
    expect(() => rewrapEnvelopes(ok, { to: [] })).toThrow(RangeError);
    expect(() => rewrapEnvelopes(ok, { to: [k, k] })).toThrow(/same key twice/);
    expect(() => rewrapEnvelopes(ok, { to: k, concurrency: 0 })).toThrow(/options.concurrency/);
    expect(() => rewrapEnvelopes(ok, { to: k, concurrency: 5000 })).toThrow(RangeError);
    expect(() => rewrapEnvelopes(ok, { to: k, maxCachedDeks: 1.5 })).toThrow(/options.maxCachedDeks/);
    expect(() => rewrapEnvelopes(ok, { to: k, dryRun: 'yes' as never })).toThrow(/options.dryRun/);
    expect(() => rewrapEnvelopes(ok, { to: k, checkpoint: { everyItems: 5 } })).toThrow(/exactly one of path and store/);
    expect(() => rewrapEnvelopes(ok, { to: k, checkpoint: { path: 'x', everyMs: -1 } })).toThrow(RangeError);
    expect(() => rewrapEnvelopes(42 as never, { to: k })).toThrow(/source must be an async iterable/);
    expect(() => rewrapEnvelopes(ok, { to: k, signal: {} as never })).toThrow(/options.signal/);
  });

  it('refuses a `from` KEK that is another local key with a target\'s id', async () => {
    const items = await makeEnvelopes(aesKek('kek/x'), 1);
    await expect(drain(rewrapEnvelopes(items, { to: [aesKek('kek/x')], from: [aesKek('kek/x')] }))).rejects.toThrow(RangeError);
  });
});
