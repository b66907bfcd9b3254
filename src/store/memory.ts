/**
 * An in-process {@link KeyStore}: tests, short-lived tools, single-process services that can
 * afford to lose their DEK records on exit (and with them every field encrypted under them).
 *
 * @module
 */
import type { CreateResult, DekRecord, KeyStore, KeyStoreOptions, UpdateWrappedDeksOptions } from './key-store.js';
import type { WrappedKey } from '../keys/kek.js';
import { KeyNotFoundError, KeyStoreError } from '../errors.js';
import { assertPositiveInt, assertString } from '../internal/bytes.js';
import {
  assertKeyRef,
  assertRecordAuth,
  assertWrappedDeks,
  cloneRecord,
  RECORD_LIMITS,
  toFrozenRecord,
  withWrappedDeks,
} from './internal/record.js';

/**
 * A {@link KeyStore} held in two Maps (by keyRef and by name). Every method runs its check and
 * its write in one synchronous step, so `createIfAbsent` and the compare-and-swap of
 * `updateWrappedDeks` are atomic within the process. Records are validated on the way in and
 * every record handed out is a frozen copy with its own wrapped bytes, so nothing a caller
 * does to a returned record reaches the store.
 *
 * @example
 * ```ts
 * import { MemoryKeyStore } from 'kv-envelope';
 * const store = new MemoryKeyStore();
 * const { record, created } = await store.createIfAbsent({
 *   keyRef: '0123456789abcdef', kind: 'gcm', createdAt: Date.now(), revision: 1,
 *   wrappedDeks: [await kek.wrap(dek)],
 * });
 * const same = await store.get(record.keyRef);
 * ```
 */
export class MemoryKeyStore implements KeyStore {
  readonly #byRef = new Map<string, DekRecord>();
  readonly #refByName = new Map<string, string>();

  /**
   * The record with this keyRef, or undefined.
   * @throws {TypeError | RangeError} when `keyRef` is not 16 lowercase hex chars.
   * @throws the signal's reason when `options.signal` is aborted.
   * @example `const record = await store.get('0123456789abcdef');`
   */
  async get(keyRef: string, options?: KeyStoreOptions): Promise<DekRecord | undefined> {
    options?.signal?.throwIfAborted();
    assertKeyRef(keyRef);
    const record = this.#byRef.get(keyRef);
    return record === undefined ? undefined : cloneRecord(record);
  }

  /**
   * The named record, or undefined.
   * @throws {TypeError | RangeError} when `name` is not a non-empty string.
   * @throws the signal's reason when `options.signal` is aborted.
   * @example `const record = await store.getByName('customers.email');`
   */
  async getByName(name: string, options?: KeyStoreOptions): Promise<DekRecord | undefined> {
    options?.signal?.throwIfAborted();
    assertString(name, 'name', RECORD_LIMITS.maxNameLength);
    const keyRef = this.#refByName.get(name);
    return keyRef === undefined ? undefined : this.get(keyRef, options);
  }

  /**
   * Stores `record` unless its name (checked first) or its keyRef is taken; then returns the
   * existing record with `created: false`.
   * @throws {TypeError | RangeError} when `record` is malformed.
   * @throws the signal's reason when `options.signal` is aborted.
   * @example `const { record, created } = await store.createIfAbsent(newRecord);`
   */
  async createIfAbsent(record: DekRecord, options?: KeyStoreOptions): Promise<CreateResult> {
    options?.signal?.throwIfAborted();
    const own = toFrozenRecord(record);
    const existingRef = own.name === undefined ? own.keyRef : (this.#refByName.get(own.name) ?? own.keyRef);
    const existing = this.#byRef.get(existingRef);
    if (existing !== undefined) return Object.freeze({ record: cloneRecord(existing), created: false });
    this.#byRef.set(own.keyRef, own);
    if (own.name !== undefined) this.#refByName.set(own.name, own.keyRef);
    return Object.freeze({ record: cloneRecord(own), created: true });
  }

  /**
   * Replaces the wrapped DEKs (and with `options.auth` the commitment and signatures) when the
   * stored revision is `expectedRevision`.
   * @throws {KeyNotFoundError} when no record has this keyRef.
   * @throws {KeyStoreError} when the revision moved on (a concurrent update won).
   * @throws {TypeError | RangeError} on malformed arguments.
   * @throws the signal's reason when `options.signal` is aborted.
   * @example `const next = await store.updateWrappedDeks(r.keyRef, [w1, w2], r.revision);`
   */
  async updateWrappedDeks(
    keyRef: string,
    wrappedDeks: readonly WrappedKey[],
    expectedRevision: number,
    options?: UpdateWrappedDeksOptions,
  ): Promise<DekRecord> {
    options?.signal?.throwIfAborted();
    assertKeyRef(keyRef);
    assertWrappedDeks(wrappedDeks);
    assertPositiveInt(expectedRevision, 'expectedRevision');
    const auth = options?.auth;
    if (auth !== undefined) assertRecordAuth(auth, 'options.auth');
    const current = this.#byRef.get(keyRef);
    if (current === undefined) throw new KeyNotFoundError(`key store record not found: ${keyRef}`);
    if (current.revision !== expectedRevision) {
      throw new KeyStoreError(
        `revision conflict on key store record ${keyRef}: expected ${expectedRevision}, found ${current.revision}`,
      );
    }
    const next = withWrappedDeks(current, wrappedDeks, auth);
    this.#byRef.set(keyRef, next);
    return cloneRecord(next);
  }

  /**
   * Every record (a snapshot taken when iteration starts), in insertion order.
   * @throws the signal's reason when `options.signal` is aborted (checked before each record).
   * @example `for await (const record of store.list()) console.log(record.keyRef);`
   */
  async *list(options?: KeyStoreOptions): AsyncIterable<DekRecord> {
    options?.signal?.throwIfAborted();
    const snapshot = [...this.#byRef.values()];
    for (const record of snapshot) {
      options?.signal?.throwIfAborted();
      yield cloneRecord(record);
    }
  }
}
