/**
 * Memory stays flat: 200,000 tiny envelopes made on the fly by a generator (10,000 distinct
 * DEKs, ten times what the run's DEK map holds), consumed and dropped one by one. The heap after a forced GC must
 * not grow between the first quarter of the run and its end, and the generator must never be
 * more than `concurrency` items ahead of the consumer.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { EnvelopeClient } from '../../src/index.js';
import { rewrapEnvelopes, type EnvelopeItem } from '../../src/rewrap/index.js';
import { aesKek } from '../helpers/keys.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ITEMS = 200_000;
const CONCURRENCY = 16;

describe('rewrapEnvelopes memory', () => {
  it(`${ITEMS.toLocaleString('en')} envelopes: heap bounded, reads bounded`, async () => {
    const from = aesKek();
    const to = aesKek();
    const writer = new EnvelopeClient({ keks: from, cache: { maxMessages: 20 } });
    const plaintext = new TextEncoder().encode('tiny');
    let produced = 0;
    async function* source(): AsyncGenerator<EnvelopeItem> {
      for (let i = 0; i < ITEMS; i++) {
        // A real source does I/O. Without any macrotask, the writer's UnwrappedKeyCache (which
        // wipes evicted keys on setImmediate) would hold every evicted DEK until the end.
        if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
        produced++;
        yield { id: `e${i}`, envelope: await writer.encrypt(plaintext) };
      }
    }
    const heap: number[] = [];
    let consumed = 0;
    let maxAhead = 0;
    let bytes = 0;
    for await (const r of rewrapEnvelopes(source(), { to: [to], from: [from], concurrency: CONCURRENCY, maxCachedDeks: 1000 })) {
      if (r.status !== 'rewrapped') throw new Error(`${r.id}: ${r.status}`);
      bytes += r.envelope.length;
      consumed++;
      maxAhead = Math.max(maxAhead, produced - consumed);
      if (consumed % 50_000 === 0) {
        gc();
        heap.push(process.memoryUsage().heapUsed);
      }
    }
    expect(consumed).toBe(ITEMS);
    expect(bytes).toBeGreaterThan(ITEMS * 100);
    expect(maxAhead).toBeLessThanOrEqual(CONCURRENCY);
    const growthMiB = (Math.max(...heap) - heap[0]!) / 2 ** 20;
    console.log(`heap after GC at 50k/100k/150k/200k items: ${heap.map((h) => (h / 2 ** 20).toFixed(1)).join(' / ')} MiB`);
    expect(growthMiB).toBeLessThan(4);
  }, 120_000);
});
