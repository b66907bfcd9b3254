/**
 * Property tests of rewrapEnvelopes: for any batch (any plaintexts, contexts, required
 * contexts, frame sizes, DEK sharing and order, one or two source KEKs, one or two targets,
 * any concurrency), every byte outside the wrapped-key section is identical after the re-wrap
 * and the result decrypts to the same plaintext with a client holding only one target KEK.
 * And the engine is total: arbitrary bytes and mutated envelopes give per-item results in
 * source order, never a rejection, and a result is never an envelope that fails to decrypt.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeClient, EnvelopeError, LocalAesKek, type EncryptionContext } from '../../src/index.js';
import { rewrapEnvelopes, type EnvelopeItem } from '../../src/rewrap/index.js';
import { drain, splitEnvelope } from '../helpers/rewrap.js';

const source1 = new LocalAesKek({ id: 'local/source-1', key: randomBytes(32) });
const source2 = new LocalAesKek({ id: 'local/source-2', key: randomBytes(32) });
const target1 = new LocalAesKek({ id: 'vault/keys/target/0001', key: randomBytes(32) });
const target2 = new LocalAesKek({ id: 'vault/keys/target-dr/0001', key: randomBytes(32) });

const contextArb = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.startsWith('kv-envelope:')), fc.string({ maxLength: 12 }), { maxKeys: 3 });
const messageArb = fc.record({
  plaintext: fc.uint8Array({ maxLength: 3000 }),
  context: contextArb,
  required: fc.option(fc.constant({ row: 'r-1' } as EncryptionContext), { nil: undefined }),
});

const batchArb = fc.record({
  messages: fc.array(messageArb, { minLength: 1, maxLength: 12 }),
  perDek: fc.integer({ min: 1, max: 5 }),
  frameSize: fc.constantFrom(1024, 2048, 1024 * 1024),
  sources: fc.constantFrom([source1], [source2], [source1, source2]),
  targets: fc.constantFrom([target1], [target2, target1]),
  concurrency: fc.integer({ min: 1, max: 6 }),
  shuffle: fc.func(fc.integer()),
});

describe('rewrapEnvelopes properties', () => {
  it('everything but the wrapped-key section is byte-identical; the result decrypts with one target alone', async () => {
    await fc.assert(
      fc.asyncProperty(batchArb, async (b) => {
        const writer = new EnvelopeClient({ keks: b.sources, frameSize: b.frameSize, cache: { maxMessages: b.perDek } });
        const items: EnvelopeItem[] = [];
        for (const [i, m] of b.messages.entries()) {
          const contexts = m.required === undefined ? {} : { requiredContext: Object.fromEntries(Object.entries(m.required).filter(([k]) => !Object.hasOwn(m.context, k))) };
          items.push({ id: `m${i}`, envelope: await writer.encrypt(m.plaintext, { context: m.context, ...contexts }) });
        }
        const order = items.map((item, i) => ({ item, key: b.shuffle(i) })).sort((x, y) => x.key - y.key).map((x) => x.item);
        const results = await drain(rewrapEnvelopes(order, { to: b.targets, from: b.sources, concurrency: b.concurrency }));
        expect(results.map((r) => r.id)).toEqual(order.map((i) => i.id));
        for (const [k, r] of results.entries()) {
          if (r.status !== 'rewrapped') throw new Error(`unexpected ${r.status}`);
          const before = splitEnvelope(order[k]!.envelope);
          const after = splitEnvelope(r.envelope);
          expect(after.outside.equals(before.outside)).toBe(true);
          expect(after.wrappedKeys.map((w) => w.kekId)).toEqual(b.targets.map((t) => t.id));
          const m = b.messages[Number(r.id.slice(1))]!;
          const requiredContext = m.required === undefined ? undefined : Object.fromEntries(Object.entries(m.required).filter(([key]) => !Object.hasOwn(m.context, key)));
          const reader = new EnvelopeClient({ keks: b.targets[b.targets.length - 1]! });
          const { plaintext, context } = await reader.decrypt(r.envelope, { requiredContext });
          expect(Buffer.from(plaintext).equals(Buffer.from(m.plaintext))).toBe(true);
          expect(context).toEqual(m.context);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('is total: arbitrary bytes and mutated envelopes become per-item results, in order', async () => {
    const writer = new EnvelopeClient({ keks: source1, frameSize: 1024 });
    const seeds = await Promise.all([0, 5, 1500].map((n) => writer.encrypt(randomBytes(n))));
    const reader = new EnvelopeClient({ keks: target1 });
    const itemArb = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([e, at, bit]) => {
        const copy = Uint8Array.from(e);
        copy[at % copy.length]! ^= 1 << bit;
        return copy;
      }),
      fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([e, cut]) => e.subarray(0, cut % e.length)),
      fc.constantFrom(...seeds),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(itemArb, { maxLength: 10 }), fc.integer({ min: 1, max: 4 }), async (envelopes, concurrency) => {
        const items = envelopes.map((envelope, i) => ({ id: String(i), envelope }));
        const results = await drain(rewrapEnvelopes(items, { to: [target1], from: [source1], concurrency }));
        expect(results.map((r) => r.id)).toEqual(items.map((i) => i.id));
        for (const r of results) {
          if (r.status === 'failed') expect(r.error).toBeInstanceOf(EnvelopeError);
          // A mutation may sit in the payload: it was bad before and stays bad. Otherwise it must open.
          if (r.status === 'rewrapped') {
            const original = items[Number(r.id)]!.envelope;
            const opensBefore = await new EnvelopeClient({ keks: source1 }).decrypt(original).then(() => true, () => false);
            const opensAfter = await reader.decrypt(r.envelope).then(() => true, () => false);
            expect(opensAfter).toBe(opensBefore);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
