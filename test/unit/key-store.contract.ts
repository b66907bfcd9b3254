/**
 * The KeyStore contract as a reusable suite: every KeyStore implementation runs it.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyNotFoundError, KeyStoreError } from '../../src/errors.js';
import type { DekRecord, KeyStore } from '../../src/store/key-store.js';
import type { WrappedKey } from '../../src/keys/kek.js';

/** A random wrapped key (the bytes are arbitrary: stores never unwrap). */
export function wrapped(kekId = 'local/aes/1', length = 40): WrappedKey {
  return { kekId, alg: 'A256KW', bytes: new Uint8Array(randomBytes(length)) };
}

/** A valid record with a random keyRef, overridable field by field. */
export function makeRecord(overrides: Partial<DekRecord> = {}): DekRecord {
  return {
    keyRef: randomBytes(8).toString('hex'),
    kind: 'gcm',
    createdAt: Date.now(),
    revision: 1,
    wrappedDeks: [wrapped('kek/a'), wrapped('kek/b', 256)],
    ...overrides,
  };
}

async function collect(store: KeyStore): Promise<DekRecord[]> {
  const out: DekRecord[] = [];
  for await (const r of store.list()) out.push(r);
  return out;
}

/** Registers the contract suite for a store made fresh (empty) for every test. */
export function describeKeyStoreContract(name: string, makeStore: () => KeyStore | Promise<KeyStore>): void {
  describe(`KeyStore contract: ${name}`, () => {
    it('returns undefined for unknown keyRefs and names', async () => {
      const store = await makeStore();
      expect(await store.get('0000000000000000')).toBeUndefined();
      expect(await store.getByName('nope')).toBeUndefined();
      expect(await collect(store)).toEqual([]);
    });

    it('creates a record and reads it back by keyRef and by name', async () => {
      const store = await makeStore();
      const record = makeRecord({ name: 'customers.email', kind: 'siv' });
      const result = await store.createIfAbsent(record);
      expect(result.created).toBe(true);
      expect(result.record).toEqual(record);
      expect(await store.get(record.keyRef)).toEqual(record);
      expect(await store.getByName('customers.email')).toEqual(record);
      expect(await store.getByName('customers.phone')).toBeUndefined();
    });

    it('createIfAbsent twice on one keyRef returns the first record with created: false', async () => {
      const store = await makeStore();
      const first = makeRecord();
      await store.createIfAbsent(first);
      const second = await store.createIfAbsent({ ...first, wrappedDeks: [wrapped('kek/other')] });
      expect(second.created).toBe(false);
      expect(second.record).toEqual(first);
      expect(await store.get(first.keyRef)).toEqual(first);
    });

    it('createIfAbsent on a taken name returns the named record, whatever the keyRef', async () => {
      const store = await makeStore();
      const first = makeRecord({ name: 'n1' });
      await store.createIfAbsent(first);
      const loser = makeRecord({ name: 'n1' });
      const result = await store.createIfAbsent(loser);
      expect(result).toEqual({ record: first, created: false });
      expect(await store.get(loser.keyRef)).toBeUndefined();
      expect((await collect(store)).map((r) => r.keyRef)).toEqual([first.keyRef]);
    });

    it('concurrent createIfAbsent on one name: exactly one created, all see the same record', async () => {
      const store = await makeStore();
      const results = await Promise.all(
        Array.from({ length: 12 }, () => store.createIfAbsent(makeRecord({ name: 'race' }))),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.record.keyRef)).size).toBe(1);
      expect((await store.getByName('race'))?.keyRef).toBe(results[0]!.record.keyRef);
      expect(await collect(store)).toHaveLength(1);
    });

    it('updateWrappedDeks is a compare-and-swap on revision', async () => {
      const store = await makeStore();
      const record = makeRecord({ name: 'rotating' });
      await store.createIfAbsent(record);
      const next = [wrapped('kek/c'), wrapped('kek/a')];
      const updated = await store.updateWrappedDeks(record.keyRef, next, 1);
      expect(updated).toEqual({ ...record, wrappedDeks: next, revision: 2 });
      expect(await store.get(record.keyRef)).toEqual(updated);
      expect(await store.getByName('rotating')).toEqual(updated);
      const stale = store.updateWrappedDeks(record.keyRef, [wrapped()], 1);
      await expect(stale).rejects.toBeInstanceOf(KeyStoreError);
      await expect(stale).rejects.toMatchObject({ code: 'ERR_KEY_STORE' });
      expect((await store.get(record.keyRef))?.revision).toBe(2);
      expect((await store.updateWrappedDeks(record.keyRef, [wrapped()], 2)).revision).toBe(3);
    });

    it('concurrent updates with one expected revision: exactly one wins', async () => {
      const store = await makeStore();
      const record = makeRecord();
      await store.createIfAbsent(record);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, () => store.updateWrappedDeks(record.keyRef, [wrapped()], 1)),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(KeyStoreError);
      expect((await store.get(record.keyRef))?.revision).toBe(2);
    });

    it('keeps a record\'s commitment and signatures; updateWrappedDeks replaces them only when given auth', async () => {
      const store = await makeStore();
      const signature = { kekId: 'kek/a', alg: 'PS256', bytes: new Uint8Array(randomBytes(256)) };
      const record = makeRecord({ name: 'users.email', kind: 'siv', commitment: new Uint8Array(randomBytes(32)), signatures: [signature] });
      await store.createIfAbsent(record);
      expect(await store.get(record.keyRef)).toEqual(record);
      const kept = await store.updateWrappedDeks(record.keyRef, [wrapped('kek/c')], 1);
      expect(kept.commitment).toEqual(record.commitment);
      expect(kept.signatures).toEqual([signature]);
      const auth = { commitment: new Uint8Array(randomBytes(32)), signatures: [] };
      const renewed = await store.updateWrappedDeks(record.keyRef, [wrapped('kek/d')], 2, { auth });
      expect(renewed.commitment).toEqual(auth.commitment);
      expect(renewed.signatures).toEqual([]);
      expect(await store.get(record.keyRef)).toEqual(renewed);
      await expect(store.updateWrappedDeks(record.keyRef, [wrapped()], 3, { auth: { commitment: new Uint8Array(31), signatures: [] } })).rejects.toThrow(RangeError);
      await expect(store.createIfAbsent(makeRecord({ signatures: [signature] }))).rejects.toThrow(TypeError); // signatures need a commitment
    });

    it('updateWrappedDeks on a missing record throws KeyNotFoundError', async () => {
      const store = await makeStore();
      await expect(store.updateWrappedDeks('00000000000000ff', [wrapped()], 1)).rejects.toBeInstanceOf(KeyNotFoundError);
    });

    it('list yields every record at its current revision', async () => {
      const store = await makeStore();
      const records = [makeRecord(), makeRecord({ name: 'a' }), makeRecord({ name: 'b', kind: 'siv' })];
      for (const r of records) await store.createIfAbsent(r);
      await store.updateWrappedDeks(records[0]!.keyRef, [wrapped()], 1);
      const listed = await collect(store);
      expect(listed.map((r) => r.keyRef).sort()).toEqual(records.map((r) => r.keyRef).sort());
      expect(listed.find((r) => r.keyRef === records[0]!.keyRef)?.revision).toBe(2);
    });

    it('records cannot be mutated through returned objects or the caller’s input', async () => {
      const store = await makeStore();
      const input = makeRecord({ name: 'frozen' });
      const original = structuredClone(input);
      const { record } = await store.createIfAbsent(input);
      (input.wrappedDeks[0]!.bytes as Uint8Array).fill(0);
      (input.wrappedDeks as WrappedKey[]).push(wrapped());
      expect(Object.isFrozen(record)).toBe(true);
      expect(Object.isFrozen(record.wrappedDeks)).toBe(true);
      expect(Object.isFrozen(record.wrappedDeks[0])).toBe(true);
      expect(() => {
        (record as { revision: number }).revision = 99;
      }).toThrow(TypeError);
      for (const r of [record, await store.get(input.keyRef), await store.getByName('frozen'), ...(await collect(store))]) {
        r!.wrappedDeks[0]!.bytes.fill(0xee);
      }
      expect(await store.get(input.keyRef)).toEqual(original);
      expect(await store.getByName('frozen')).toEqual(original);
    });

    it('rejects malformed arguments with TypeError / RangeError', async () => {
      const store = await makeStore();
      await expect(store.get('ABCDEF0123456789')).rejects.toBeInstanceOf(RangeError);
      await expect(store.get(42 as unknown as string)).rejects.toBeInstanceOf(TypeError);
      await expect(store.getByName('')).rejects.toBeInstanceOf(RangeError);
      await expect(store.createIfAbsent(makeRecord({ wrappedDeks: [] }))).rejects.toBeInstanceOf(RangeError);
      await expect(store.createIfAbsent(makeRecord({ kind: 'cbc' as 'gcm' }))).rejects.toBeInstanceOf(TypeError);
      await expect(store.createIfAbsent(makeRecord({ revision: 0 }))).rejects.toBeInstanceOf(RangeError);
      const bad = { kekId: 'k', alg: 'A256KW', bytes: 'not bytes' } as unknown as WrappedKey;
      await expect(store.createIfAbsent(makeRecord({ wrappedDeks: [bad] }))).rejects.toBeInstanceOf(TypeError);
      await expect(store.updateWrappedDeks('0123456789abcdef', [wrapped()], 0)).rejects.toBeInstanceOf(RangeError);
      expect(await collect(store)).toEqual([]);
    });

    it('rejects with the signal’s reason when aborted', async () => {
      const store = await makeStore();
      const controller = new AbortController();
      const reason = new Error('stop');
      controller.abort(reason);
      const signal = controller.signal;
      await expect(store.get('0123456789abcdef', { signal })).rejects.toBe(reason);
      await expect(store.getByName('x', { signal })).rejects.toBe(reason);
      await expect(store.createIfAbsent(makeRecord(), { signal })).rejects.toBe(reason);
      await expect(store.updateWrappedDeks('0123456789abcdef', [wrapped()], 1, { signal })).rejects.toBe(reason);
      await expect(
        (async () => {
          for await (const _ of store.list({ signal })) void _;
        })(),
      ).rejects.toBe(reason);
      expect(await collect(store)).toEqual([]);
    });
  });
}
