import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UnwrappedKeyCache } from '../../src/cache/unwrap-cache.js';
import { wrappedKeyDigest } from '../../src/cache/digest.js';
import { SecretKey } from '../../src/internal/secret.js';

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const dek = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('UnwrappedKeyCache', () => {
  it('validates its options', () => {
    expect(() => new UnwrappedKeyCache({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => new UnwrappedKeyCache({ maxEntries: 1.5 })).toThrow(TypeError);
    expect(() => new UnwrappedKeyCache({ ttlMs: -1 })).toThrow(RangeError);
    expect(() => new UnwrappedKeyCache({ now: 5 as never })).toThrow(TypeError);
    const cache = new UnwrappedKeyCache();
    expect([cache.maxEntries, cache.ttlMs]).toEqual([1000, 300_000]);
  });

  it('1,000 concurrent misses on one cold digest share one load', async () => {
    const cache = new UnwrappedKeyCache();
    const load = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return dek(7);
    });
    const keys = await Promise.all(Array.from({ length: 1000 }, () => cache.getOrLoad('d', load)));
    expect(load).toHaveBeenCalledTimes(1);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]!.expose()).toEqual(dek(7));
    expect(cache.stats).toEqual({ hits: 0, misses: 1000, loads: 1, evictions: 0, negativeHits: 0 });
    expect(await cache.getOrLoad('d', load)).toBe(keys[0]);
    expect(cache.get('d')).toBe(keys[0]);
    expect(cache.stats).toMatchObject({ hits: 2, loads: 1 });
    cache.clear();
  });

  it('does not cache a failed load: every waiter gets the same rejection, the next call retries', async () => {
    const cache = new UnwrappedKeyCache();
    const failure = new Error('vault down');
    const failing = vi.fn(() => Promise.reject(failure));
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => cache.getOrLoad('d', failing)));
    expect(failing).toHaveBeenCalledTimes(1);
    for (const o of outcomes) expect(o).toEqual({ status: 'rejected', reason: failure });
    expect(cache.size).toBe(0);
    const throwing = (): Promise<Uint8Array> => {
      throw new Error('sync throw');
    };
    await expect(cache.getOrLoad('d', throwing)).rejects.toThrow('sync throw');
    await expect(cache.getOrLoad('d', async () => 'nope' as never)).rejects.toBeInstanceOf(TypeError);
    const key = await cache.getOrLoad('d', async () => dek(1));
    expect(key.expose()).toEqual(dek(1));
    expect(cache.stats.loads).toBe(4);
    cache.clear();
  });

  it('rejects bad arguments', async () => {
    const cache = new UnwrappedKeyCache();
    await expect(cache.getOrLoad('', async () => dek(1))).rejects.toBeInstanceOf(RangeError);
    await expect(cache.getOrLoad('d', undefined as never)).rejects.toBeInstanceOf(TypeError);
    expect(() => cache.set('d', dek(1) as never)).toThrow(TypeError);
    const wiped = new SecretKey(dek(1));
    wiped.wipe();
    expect(() => cache.set('d', wiped)).toThrow(RangeError);
  });

  it('evicts the least recently used entry and wipes it', async () => {
    const cache = new UnwrappedKeyCache({ maxEntries: 3 });
    const a = await cache.getOrLoad('a', async () => dek(1));
    const b = await cache.getOrLoad('b', async () => dek(2));
    const c = await cache.getOrLoad('c', async () => dek(3));
    expect(await cache.getOrLoad('a', async () => dek(9))).toBe(a); // a is now most recent
    const d = await cache.getOrLoad('d', async () => dek(4));
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    await nextMacrotask();
    expect(b.wiped).toBe(true);
    expect(() => b.expose()).toThrow();
    expect([a.wiped, c.wiped, d.wiped]).toEqual([false, false, false]);
    expect(cache.stats.evictions).toBe(1);
    cache.clear();
  });

  it('never wipes a key before the awaiting caller’s continuation runs', async () => {
    const cache = new UnwrappedKeyCache({ maxEntries: 1 });
    // Both loads settle in the same turn: inserting the second evicts the first immediately.
    const [x, y] = await Promise.all([
      cache.getOrLoad('x', async () => dek(1)).then((k) => k.expose()[0]),
      cache.getOrLoad('y', async () => dek(2)).then((k) => k.expose()[0]),
    ]);
    expect([x, y]).toEqual([1, 2]);
    cache.clear();
  });

  it('expires entries after ttlMs from load (hits do not extend it), using the injected clock', async () => {
    let now = 1_000;
    const cache = new UnwrappedKeyCache({ ttlMs: 100, now: () => now });
    const load = vi.fn(async () => dek(5));
    const first = await cache.getOrLoad('d', load);
    now += 99;
    expect(await cache.getOrLoad('d', load)).toBe(first);
    now += 1;
    expect(cache.get('d')).toBeUndefined();
    const second = await cache.getOrLoad('d', load);
    expect(second).not.toBe(first);
    expect(load).toHaveBeenCalledTimes(2);
    await nextMacrotask();
    expect(first.wiped).toBe(true);
    expect(second.wiped).toBe(false);
    expect(cache.stats.evictions).toBe(1);
    cache.clear();
  });

  it('sweeps expired entries with an unref()d timer that exists only while non-empty', async () => {
    const setSpy = vi.spyOn(globalThis, 'setInterval');
    const clearSpy = vi.spyOn(globalThis, 'clearInterval');
    let now = 0;
    const cache = new UnwrappedKeyCache({ ttlMs: 1_000, now: () => now });
    expect(setSpy).not.toHaveBeenCalled();
    const key = await cache.getOrLoad('d', async () => dek(3));
    await cache.getOrLoad('e', async () => dek(4));
    expect(setSpy).toHaveBeenCalledTimes(1);
    const timer = setSpy.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    now = 1_000;
    const sweep = setSpy.mock.calls[0]![0] as () => void;
    sweep();
    expect(cache.size).toBe(0);
    expect(clearSpy).toHaveBeenCalledWith(timer);
    await nextMacrotask();
    expect(key.wiped).toBe(true);
    expect(cache.stats.evictions).toBe(2);
  });

  it('runs the sweep on its interval (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const cache = new UnwrappedKeyCache({ ttlMs: 2_000 });
    await cache.getOrLoad('d', async () => dek(3));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_999);
    expect(cache.size).toBe(1);
    vi.advanceTimersByTime(2_001);
    expect(cache.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clear() wipes everything at once; a load in flight is handed out but not cached', async () => {
    const cache = new UnwrappedKeyCache();
    const a = await cache.getOrLoad('a', async () => dek(1));
    let release!: () => void;
    const pending = cache.getOrLoad('b', () => new Promise<Uint8Array>((r) => (release = () => r(dek(2)))));
    cache.clear();
    expect(a.wiped).toBe(true);
    expect(cache.size).toBe(0);
    await Promise.resolve();
    release();
    const b = await pending;
    expect(b.expose()).toEqual(dek(2));
    expect(cache.size).toBe(0);
    await nextMacrotask();
    expect(b.wiped).toBe(true);
  });

  it('set() stores a key, replacing (and later wiping) the previous one', async () => {
    const cache = new UnwrappedKeyCache();
    const one = new SecretKey(dek(1));
    const two = new SecretKey(dek(2));
    cache.set('k', one);
    expect(cache.get('k')).toBe(one);
    cache.set('k', two);
    expect(await cache.getOrLoad('k', async () => dek(9))).toBe(two);
    await nextMacrotask();
    expect([one.wiped, two.wiped]).toEqual([true, false]);
    cache.dispose();
    expect(two.wiped).toBe(true);
  });

  it('never shows key bytes when inspected or serialized', async () => {
    const cache = new UnwrappedKeyCache();
    const key = await cache.getOrLoad('d', async () => new Uint8Array(32).fill(0xab));
    for (const text of [inspect(cache, { showHidden: true, depth: 10 }), inspect(key), String(key), JSON.stringify({ key })]) {
      expect(text).not.toMatch(/171|0xab|ab,|Uint8Array/i);
    }
    expect(inspect(cache)).toContain('size: 1');
    cache.clear();
  });
});

describe('wrappedKeyDigest', () => {
  const w = { kekId: 'https://v.vault.azure.net/keys/k/0123', alg: 'RSA-OAEP-256', bytes: new Uint8Array(256).fill(3) };

  it('is base64url(SHA-256(u16 len | kekId | u16 len | alg | bytes))', () => {
    const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
    const expected = createHash('sha256')
      .update(Buffer.concat([u16(w.kekId.length), Buffer.from(w.kekId), u16(w.alg.length), Buffer.from(w.alg), w.bytes]))
      .digest('base64url');
    expect(wrappedKeyDigest(w)).toBe(expected);
    expect(wrappedKeyDigest(w)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('separates every field unambiguously', () => {
    const base = wrappedKeyDigest(w);
    expect(wrappedKeyDigest({ ...w, kekId: `${w.kekId}x` })).not.toBe(base);
    expect(wrappedKeyDigest({ ...w, alg: 'A256KW' })).not.toBe(base);
    expect(wrappedKeyDigest({ ...w, bytes: new Uint8Array(256).fill(4) })).not.toBe(base);
    const b = new Uint8Array([1]);
    expect(wrappedKeyDigest({ kekId: 'ab', alg: 'c', bytes: b })).not.toBe(wrappedKeyDigest({ kekId: 'a', alg: 'bc', bytes: b }));
    expect(wrappedKeyDigest({ kekId: 'é', alg: 'A', bytes: b })).not.toBe(wrappedKeyDigest({ kekId: 'e', alg: 'A', bytes: b }));
  });

  it('rejects malformed wrapped keys', () => {
    expect(() => wrappedKeyDigest(null as never)).toThrow(TypeError);
    expect(() => wrappedKeyDigest({ ...w, bytes: 'x' as never })).toThrow(TypeError);
    expect(() => wrappedKeyDigest({ ...w, kekId: '' })).toThrow(RangeError);
    expect(() => wrappedKeyDigest({ ...w, kekId: 'é'.repeat(40_000) })).toThrow(RangeError);
  });
});
