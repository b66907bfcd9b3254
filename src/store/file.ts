/**
 * A {@link KeyStore} in a local directory, safe for many processes on one machine and for
 * crashes at any point, without any lock held between calls. One MessagePack file per record
 * plus one name index file per named record, all mode 0600, in a directory created 0700 if
 * missing (layout: internal/file-records.ts; encoding and why msgpackr: internal/codec.ts).
 *
 * Create-if-absent publishes the record with `link(temp, final)`, which fails with EEXIST
 * rather than overwrite. A named record is linked BEFORE its name file (with a directory
 * fsync in between), and the name file is the commit point: a name file always points at an
 * existing record, the loser of a name race removes its own record and returns the winner's,
 * and a named record whose name file does not point back at it (left by a crash between the
 * two links) is invisible to get/list/update. Updates replace the record with `rename` under
 * a short per-record lock file (internal/file-lock.ts explains why and how stale locks go).
 *
 * Local file systems only: `link`, `rename` and O_EXCL must be atomic (network file systems
 * may not guarantee that).
 *
 * @module
 */
import { readdir, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CreateResult, DekRecord, KeyStore, KeyStoreOptions, UpdateWrappedDeksOptions } from './key-store.js';
import type { WrappedKey } from '../keys/kek.js';
import { EnvelopeError, KeyNotFoundError, KeyStoreError } from '../errors.js';
import { assertPositiveInt, assertString } from '../internal/bytes.js';
import { assertKeyRef, assertRecordAuth, assertWrappedDeks, RECORD_LIMITS, toFrozenRecord, withWrappedDeks } from './internal/record.js';
import { encodeNameRef, encodeRecord } from './internal/codec.js';
import { createExclusive, ensureDirectory, isErrno, replaceAtomic } from './internal/file-io.js';
import { acquireLock } from './internal/file-lock.js';
import { RECORD_FILE, RecordFiles } from './internal/file-records.js';

/** Options of {@link FileKeyStore}. */
export interface FileKeyStoreOptions {
  /** The store directory; created (mode 0700) on the first write if missing. */
  directory: string;
  /** An update lock older than this is treated as left by a crashed process. Default 30 s. */
  lockStaleMs?: number;
  /** How long an update waits for another writer's lock. Default 5 s. */
  lockTimeoutMs?: number;
}

/**
 * A crash-safe, multi-process {@link KeyStore} with one file per record.
 *
 * Every record read is fully validated; a corrupt file gives a `KeyStoreError` naming the
 * keyRef, and any I/O failure a `KeyStoreError` whose `cause` is the system error. Argument
 * mistakes are `TypeError` / `RangeError`; an aborted `signal` rejects with its reason (checked
 * before every I/O step).
 *
 * @throws {TypeError | RangeError} from the constructor on bad options.
 * @example
 * ```ts
 * import { FileKeyStore } from 'kv-envelope';
 * const store = new FileKeyStore({ directory: '/var/lib/my-app/dek-store' });
 * const { record } = await store.createIfAbsent(newRecord);
 * for await (const r of store.list()) console.log(r.keyRef, r.revision);
 * ```
 */
export class FileKeyStore implements KeyStore {
  /** The absolute store directory. */
  readonly directory: string;
  readonly #files: RecordFiles;
  readonly #lockStaleMs: number;
  readonly #lockTimeoutMs: number;

  constructor(options: FileKeyStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    assertString(options.directory, 'options.directory');
    this.directory = resolve(options.directory);
    this.#files = new RecordFiles(this.directory);
    this.#lockStaleMs = options.lockStaleMs ?? 30_000;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
    assertPositiveInt(this.#lockStaleMs, 'options.lockStaleMs');
    assertPositiveInt(this.#lockTimeoutMs, 'options.lockTimeoutMs');
  }

  /**
   * The record with this keyRef, or undefined.
   * @throws {KeyStoreError} on I/O failure or a corrupt record.
   * @throws {TypeError | RangeError} when `keyRef` is not 16 lowercase hex chars.
   * @example `const record = await store.get('0123456789abcdef');`
   */
  async get(keyRef: string, options?: KeyStoreOptions): Promise<DekRecord | undefined> {
    assertKeyRef(keyRef);
    const signal = options?.signal;
    return this.#guard(`read of ${keyRef}`, signal, () => this.#files.readVisible(keyRef, signal));
  }

  /**
   * The named record, or undefined.
   * @throws {KeyStoreError} on I/O failure, a corrupt record or a dangling name index.
   * @throws {TypeError | RangeError} when `name` is not a non-empty string.
   * @example `const record = await store.getByName('customers.email');`
   */
  async getByName(name: string, options?: KeyStoreOptions): Promise<DekRecord | undefined> {
    assertString(name, 'name', RECORD_LIMITS.maxNameLength);
    const signal = options?.signal;
    return this.#guard('read by name', signal, () => this.#files.readByName(name, signal));
  }

  /**
   * Stores `record` unless its name (checked first) or its keyRef is taken, in which case the
   * existing record is returned with `created: false`. Concurrent callers in any number of
   * processes racing on one name all get the same record, and exactly one gets `created: true`.
   * @throws {KeyStoreError} on I/O failure or a corrupt existing record.
   * @throws {TypeError | RangeError} when `record` is malformed.
   * @example `const { record, created } = await store.createIfAbsent(newRecord);`
   */
  async createIfAbsent(record: DekRecord, options?: KeyStoreOptions): Promise<CreateResult> {
    const own = toFrozenRecord(record);
    const signal = options?.signal;
    return this.#guard(`create of ${own.keyRef}`, signal, async () => {
      signal?.throwIfAborted();
      await ensureDirectory(this.directory);
      if (own.name !== undefined) {
        const existing = await this.#files.readByName(own.name, signal);
        if (existing !== undefined) return Object.freeze({ record: existing, created: false });
      }
      const recordPath = this.#files.recordPath(own.keyRef);
      if (!(await createExclusive(this.directory, recordPath, encodeRecord(own), signal))) {
        const existing = await this.#files.readRecord(own.keyRef, signal);
        if (existing === undefined) throw new KeyStoreError(`key store record ${own.keyRef} vanished during create`);
        return Object.freeze({ record: existing, created: false });
      }
      if (own.name === undefined) return Object.freeze({ record: own, created: true });
      let claimed: boolean;
      try {
        claimed = await createExclusive(this.directory, this.#files.namePath(own.name), encodeNameRef(own.keyRef), signal);
      } catch (err) {
        await unlink(recordPath).catch(() => undefined); // uncommitted: nothing points at it
        throw err;
      }
      if (claimed) return Object.freeze({ record: own, created: true });
      await unlink(recordPath).catch(() => undefined); // lost the name race
      const winner = await this.#files.readByName(own.name, signal);
      if (winner === undefined) throw new KeyStoreError(`name index of key store record vanished during create`);
      return Object.freeze({ record: winner, created: false });
    });
  }

  /**
   * Replaces the wrapped DEKs (and with `options.auth` the commitment and signatures) when the
   * stored revision is `expectedRevision`, atomically with
   * respect to every other process using the directory.
   * @throws {KeyNotFoundError} when no record has this keyRef.
   * @throws {KeyStoreError} on a revision conflict, a lock timeout, I/O failure or corruption.
   * @throws {TypeError | RangeError} on malformed arguments.
   * @example `const next = await store.updateWrappedDeks(r.keyRef, [w1, w2], r.revision);`
   */
  async updateWrappedDeks(
    keyRef: string,
    wrappedDeks: readonly WrappedKey[],
    expectedRevision: number,
    options?: UpdateWrappedDeksOptions,
  ): Promise<DekRecord> {
    assertKeyRef(keyRef);
    assertWrappedDeks(wrappedDeks);
    assertPositiveInt(expectedRevision, 'expectedRevision');
    const auth = options?.auth;
    if (auth !== undefined) assertRecordAuth(auth, 'options.auth');
    const signal = options?.signal;
    return this.#guard(`update of ${keyRef}`, signal, async () => {
      this.#checkCurrent(keyRef, await this.#files.readVisible(keyRef, signal), expectedRevision); // fast path
      const lock = await acquireLock(this.#files.lockPath(keyRef), {
        staleMs: this.#lockStaleMs,
        timeoutMs: this.#lockTimeoutMs,
        signal,
      });
      try {
        const current = this.#checkCurrent(keyRef, await this.#files.readVisible(keyRef, signal), expectedRevision);
        const next = withWrappedDeks(current, wrappedDeks, auth);
        await replaceAtomic(this.directory, this.#files.recordPath(keyRef), encodeRecord(next), signal);
        return next;
      } finally {
        await lock.release();
      }
    });
  }

  /**
   * Every committed record, read one file at a time; temp, lock and name files are skipped.
   * @throws {KeyStoreError} on I/O failure or a corrupt record.
   * @example `for await (const record of store.list()) console.log(record.keyRef);`
   */
  async *list(options?: KeyStoreOptions): AsyncIterable<DekRecord> {
    const signal = options?.signal;
    const files = await this.#guard('listing', signal, async () => {
      signal?.throwIfAborted();
      return readdir(this.directory).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return [];
        throw err;
      });
    });
    for (const file of files) {
      if (!RECORD_FILE.test(file)) continue;
      const keyRef = file.slice(0, 16);
      const record = await this.#guard(`read of ${keyRef}`, signal, () => this.#files.readVisible(keyRef, signal));
      if (record !== undefined) yield record;
    }
  }

  #checkCurrent(keyRef: string, current: DekRecord | undefined, expectedRevision: number): DekRecord {
    if (current === undefined) throw new KeyNotFoundError(`key store record not found: ${keyRef}`);
    if (current.revision !== expectedRevision) {
      throw new KeyStoreError(
        `revision conflict on key store record ${keyRef}: expected ${expectedRevision}, found ${current.revision}`,
      );
    }
    return current;
  }

  /** Runs `fn`, turning any failure other than our own errors or an abort into KeyStoreError. */
  async #guard<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof EnvelopeError || (signal?.aborted === true && err === signal.reason)) throw err;
      const code = (err as { code?: unknown } | null)?.code;
      throw new KeyStoreError(`key store ${what} failed${typeof code === 'string' ? ` (${code})` : ''}`, {
        cause: err,
      });
    }
  }
}
