/**
 * A re-wrap job ends with a count of what is still under old key versions: 0 is what lets an
 * operator disable them. The adversary: items the job could not move (no matching KEK, a
 * malformed one, a record whose KEK is gone) must keep that count above 0; a run that was
 * aborted must not claim a count at all (it has not seen the whole source).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldEncryptor, MemoryKeyStore } from '../../src/index.js';
import { rewrapEnvelopes, rewrapKeyStore, verifyEnvelopes, type RewrapProgress } from '../../src/rewrap/index.js';
import { aesKek } from '../helpers/keys.js';
import { drain, makeEnvelopes } from '../helpers/rewrap.js';

const a = aesKek('kek/a');
const b = aesKek('kek/b');
const stranger = aesKek('kek/stranger');

describe('the verification count', () => {
  it('envelopes: the final progress counts failed items as remaining; verifyEnvelopes counts what is stored, by kekId', async () => {
    const items = [...(await makeEnvelopes(a, 6, 3)), ...(await makeEnvelopes(stranger, 2, 2)).map((i) => ({ ...i, id: `s-${i.id}` })), { id: 'junk', envelope: randomBytes(40) }];
    let final: RewrapProgress | undefined;
    const stored = new Map(items.map((i) => [i.id, i.envelope]));
    for await (const r of rewrapEnvelopes(items, { to: b, from: a, onProgress: (p) => void (final = p) })) {
      if (r.status === 'rewrapped') stored.set(r.id, r.envelope);
    }
    expect(final).toMatchObject({ final: true, rewrapped: 6, failed: 3, remaining: 3 });
    const v = await verifyEnvelopes([...stored].map(([id, envelope]) => ({ id, envelope })), { to: b, maxIds: 2 });
    expect(v).toEqual({
      checked: 9, current: 6, remaining: 3, malformed: 1, byKekId: { 'kek/stranger': 2 }, remainingIds: ['s-item-000000', 's-item-000001'],
    });
    // Before the job, everything remains, grouped by the version it needs.
    expect((await verifyEnvelopes(items, { to: b })).byKekId).toEqual({ 'kek/a': 6, 'kek/stranger': 2 });
  });

  it('an aborted run reports no count: it has not seen the whole source', async () => {
    const items = await makeEnvelopes(a, 20, 5);
    const controller = new AbortController();
    let final: RewrapProgress | undefined;
    let n = 0;
    await expect((async () => {
      for await (const _ of rewrapEnvelopes(items, { to: b, from: a, signal: controller.signal, onProgress: (p) => void (final = p) })) {
        if (++n === 5) controller.abort(new Error('stop'));
      }
    })()).rejects.toThrow('stop');
    expect(final?.final).toBe(true);
    expect(final?.remaining).toBeUndefined();
  });

  it('key stores: a record no `from` KEK opens remains; a dry run counts what it would re-wrap', async () => {
    const store = new MemoryKeyStore();
    await new FieldEncryptor({ keks: a, keyStore: store }).encryptText('x', { aad: 'r#1' });
    await new FieldEncryptor({ keks: stranger, keyStore: store }).encryptText('y', { aad: 'r#2' });
    let planned: RewrapProgress | undefined;
    await drain(rewrapKeyStore(store, { to: b, from: a, dryRun: true, onProgress: (p) => void (planned = p) }));
    expect(planned).toMatchObject({ rewrapped: 1, failed: 1, remaining: 2 });
    let final: RewrapProgress | undefined;
    await drain(rewrapKeyStore(store, { to: b, from: a, onProgress: (p) => void (final = p) }));
    expect(final).toMatchObject({ rewrapped: 1, failed: 1, remaining: 1 });
  });

  it('verifyEnvelopes rejects bad options and bad items with TypeError/RangeError', async () => {
    expect(() => verifyEnvelopes([], undefined as never)).toThrow(TypeError);
    expect(() => verifyEnvelopes([], { to: b, maxIds: -1 })).toThrow(RangeError);
    expect(() => verifyEnvelopes(42 as never, { to: b })).toThrow(TypeError);
    await expect(verifyEnvelopes([{ id: 1 } as never], { to: b })).rejects.toThrow(TypeError);
  });
});
