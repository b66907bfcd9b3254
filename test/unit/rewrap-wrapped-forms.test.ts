/**
 * Re-wrap after a multi-worker re-wrap: RSA-OAEP wraps are randomized, so N workers leave each
 * DEK under up to N different wrapped keys. The adversary is that history: a run that keyed its
 * DEK map by wrapped bytes alone paid one vault unwrap per (DEK, wrapped form). The key
 * commitment lets a run recognize a DEK it already holds under a new wrapped form; it must
 * never hand an envelope another DEK's section (every output is opened by a fresh reader).
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnvelopeClient, LocalRsaKek } from '../../src/index.js';
import { type EnvelopeItem, rewrapEnvelopes } from '../../src/rewrap/index.js';
import { RECENT_DEKS } from '../../src/rewrap/internal/envelope-item.js';
import { CountingKek } from '../helpers/counting-kek.js';
import { aesKek } from '../helpers/keys.js';
import { drain, makeEnvelopes, splitEnvelope, str } from '../helpers/rewrap.js';

const rsaKek = (id: string) => new LocalRsaKek({ id, privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey });

/** Re-wraps `items` to `to` as `workers` independent runs taking chunks of `chunk` items in turn. */
async function asWorkers(items: readonly EnvelopeItem[], to: LocalRsaKek, from: LocalRsaKek | ReturnType<typeof aesKek>, workers: number, chunk: number): Promise<EnvelopeItem[]> {
  const shares: EnvelopeItem[][] = Array.from({ length: workers }, () => []);
  items.forEach((item, i) => shares[Math.floor(i / chunk) % workers]!.push(item));
  const out = new Map<string, Uint8Array>();
  for (const share of shares) {
    for (const r of await drain(rewrapEnvelopes(share, { to: [to], from: [from] }))) {
      if (r.status !== 'rewrapped') throw new Error(`${r.id}: ${r.status}`);
      out.set(r.id, r.envelope);
    }
  }
  return items.map((i) => ({ id: i.id, envelope: out.get(i.id)! }));
}

const forms = (items: readonly EnvelopeItem[]) => new Set(items.map((i) => Buffer.from(splitEnvelope(i.envelope).wrappedKeys[0]!.bytes).toString('hex'))).size;

describe('rewrapEnvelopes: one unwrap per distinct DEK across wrapped forms', () => {
  it('envelopes left by 3 workers (3 RSA wrapped forms per DEK) cost one unwrap per DEK, and each opens with its own DEK', async () => {
    const source = aesKek();
    const items = await makeEnvelopes(source, 600, 100); // 6 DEKs, 100 consecutive envelopes each
    const v2 = rsaKek('rsa/v2');
    const spread = await asWorkers(items, v2, source, 3, 20);
    expect(forms(spread)).toBe(18); // the history this test is about: 3 forms of each of 6 DEKs

    const from = new CountingKek(v2);
    const v3 = rsaKek('rsa/v3');
    const results = await drain(rewrapEnvelopes(spread, { to: [v3], from: [from] }));
    expect(from.unwraps).toBe(6);
    const reader = new EnvelopeClient({ keks: v3 });
    for (const [i, r] of results.entries()) {
      if (r.status !== 'rewrapped') throw new Error(`${r.id}: ${r.status}`);
      expect(str((await reader.decrypt(r.envelope)).plaintext)).toBe(`item ${i}`);
      expect(splitEnvelope(r.envelope).outside.equals(splitEnvelope(spread[i]!.envelope).outside)).toBe(true);
    }
  });

  it(`a DEK seen again after more than ${RECENT_DEKS} other DEKs costs one more unwrap (bounded work per new wrapped key), never a wrong result`, async () => {
    const source = aesKek();
    const deks = RECENT_DEKS + 4;
    const items = await makeEnvelopes(source, deks * 2, 2); // 2 envelopes per DEK
    const v2 = rsaKek('rsa/v2');
    // Form A for the first envelope of every DEK, form B for the second, in two separate runs.
    const first = await asWorkers(items.filter((_, i) => i % 2 === 0), v2, source, 1, 1);
    const second = await asWorkers(items.filter((_, i) => i % 2 === 1), v2, source, 1, 1);
    const far = [...first, ...second]; // each DEK's second form comes `deks` DEKs later
    const near = first.flatMap((f, i) => [f, second[i]!]); // each DEK's two forms side by side

    const countFar = new CountingKek(v2);
    const rFar = await drain(rewrapEnvelopes(far, { to: [rsaKek('rsa/v3')], from: [countFar], concurrency: 1 }));
    expect(rFar.every((r) => r.status === 'rewrapped')).toBe(true);
    expect(countFar.unwraps).toBe(deks * 2);
    const countNear = new CountingKek(v2);
    const v3 = rsaKek('rsa/v3');
    // One at a time, as rewrapTable goes: a form met while its DEK's first unwrap is still in
    // flight cannot be recognized yet (with concurrency it may cost its own unwrap).
    const rNear = await drain(rewrapEnvelopes(near, { to: [v3], from: [countNear], concurrency: 1 }));
    expect(countNear.unwraps).toBe(deks);
    const reader = new EnvelopeClient({ keks: v3 });
    for (const r of rNear) {
      if (r.status !== 'rewrapped') throw new Error(`${r.id}: ${r.status}`);
      expect(str((await reader.decrypt(r.envelope)).plaintext)).toBe(`item ${Number(r.id.slice(5))}`);
    }
  });
});
