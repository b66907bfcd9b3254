/**
 * A {@link KeyStore} in a local directory, safe for many processes on one machine and for
 * crashes at any point, without any lock held between calls.
 *
 * Layout (all files mode 0600; the directory is created 0700 if missing):
 * - `<keyRef>.dek`: one MessagePack record per DEK (see internal/codec.ts).
 * - `name-<sha256hex(utf8 name)>.ref`: for named records, the keyRef the name belongs to. The
 *   name is hashed so any name (up to 1,024 chars) gives a short, portable file name.
 * - `<keyRef>.lock`: exists only while an update of that record is in progress.
 * - `.tmp-*`: a write in progress, or left by a crash; ignored by every reader.
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
import { createHash } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CreateResult, DekRecord, KeyStore, KeyStoreOptions } from './key-store.js';
import type { WrappedKey } from '../keys/kek.js';
import { EnvelopeError, KeyNotFoundError, KeyStoreError } from '../errors.js';
import { assertPositiveInt, assertString } from '../internal/bytes.js';
import { assertKeyRef, assertWrappedDeks, RECORD_LIMITS, toFrozenRecord, withWrappedDeks } from './internal/record.js';
import { decodeNameRef, decodeRecord, encodeNameRef, encodeRecord } from './internal/codec.js';
import { createExclusive, ensureDirectory, readBounded, replaceAtomic } from './internal/file-io.js';
import { acquireLock } from './internal/file-lock.js';

/** Options of {@link FileKeyStore}. */
export interface FileKeyStoreOptions {
  /** The store directory; created (mode 0700) on the first write if missing. */
  directory: string;
  /** An update lock older than this is treated as left by a crashed process. Default 30 s. */
  lockStaleMs?: number;
  /** How long an update waits for another writer's lock. Default 5 s. */
  lockTimeoutMs?: number;
}

const RECORD_FILE = /^[0-9a-f]{16}\.dek$/;

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
  readonly #lockStaleMs: number;
  readonly #lockTimeoutMs: number;

  constructor(options: FileKeyStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    assertString(options.directory, 'options.directory');
    this.directory = resolve(options.directory);
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
    return this.#guard(`read of ${keyRef}`, signal, () => this.#readVisible(keyRef, signal));
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
    return this.#guard('read by name', signal, () => this.#readByName(name, signal));
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
        const existing = await this.#readByName(own.name, signal);
        if (existing !== undefined) return Object.freeze({ record: existing, created: false });
      }
      const recordPath = this.#recordPath(own.keyRef);
      if (!(await createExclusive(this.directory, recordPath, encodeRecord(own), signal))) {
        const existing = await this.#readRecord(own.keyRef, signal);
        if (existing === undefined) throw new KeyStoreError(`key store record ${own.keyRef} vanished during create`);
        return Object.freeze({ record: existing, created: false });
      }
      if (own.name === undefined) return Object.freeze({ record: own, created: true });
      let claimed: boolean;
      try {
        claimed = await createExclusive(this.directory, this.#namePath(own.name), encodeNameRef(own.keyRef), signal);
      } catch (err) {
        await unlink(recordPath).catch(() => undefined); // uncommitted: nothing points at it
        throw err;
      }
      if (claimed) return Object.freeze({ record: own, created: true });
      await unlink(recordPath).catch(() => undefined); // lost the name race
      const winner = await this.#readByName(own.name, signal);
      if (winner === undefined) throw new KeyStoreError(`name index of key store record vanished during create`);
      return Object.freeze({ record: winner, created: false });
    });
  }

  /**
   * Replaces the wrapped DEKs when the stored revision is `expectedRevision`, atomically with
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
    options?: KeyStoreOptions,
  ): Promise<DekRecord> {
    assertKeyRef(keyRef);
    assertWrappedDeks(wrappedDeks);
    assertPositiveInt(expectedRevision, 'expectedRevision');
    const signal = options?.signal;
    return this.#guard(`update of ${keyRef}`, signal, async () => {
      this.#checkCurrent(keyRef, await this.#readVisible(keyRef, signal), expectedRevision); // fast path
      const lock = await acquireLock(join(this.directory, `${keyRef}.lock`), {
        staleMs: this.#lockStaleMs,
        timeoutMs: this.#lockTimeoutMs,
        signal,
      });
      try {
        const current = this.#checkCurrent(keyRef, await this.#readVisible(keyRef, signal), expectedRevision);
        const next = withWrappedDeks(current, wrappedDeks);
        await replaceAtomic(this.directory, this.#recordPath(keyRef), encodeRecord(next), signal);
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
        if ((err as { code?: unknown }).code === 'ENOENT') return [];
        throw err;
      });
    });
    for (const file of files) {
      if (!RECORD_FILE.test(file)) continue;
      const keyRef = file.slice(0, 16);
      const record = await this.#guard(`read of ${keyRef}`, signal, () => this.#readVisible(keyRef, signal));
      if (record !== undefined) yield record;
    }
  }

  #recordPath(keyRef: string): string {
    return join(this.directory, `${keyRef}.dek`);
  }

  #namePath(name: string): string {
    return join(this.directory, `name-${createHash('sha256').update(name, 'utf8').digest('hex')}.ref`);
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

  async #readRecord(keyRef: string, signal: AbortSignal | undefined): Promise<DekRecord | undefined> {
    const bytes = await readBounded(this.#recordPath(keyRef), signal).catch((err: unknown) => {
      if (err instanceof RangeError) throw new KeyStoreError(`corrupt key store record ${keyRef}`, { cause: err });
      throw err;
    });
    if (bytes === undefined) return undefined;
    try {
      return decodeRecord(bytes, keyRef);
    } catch (err) {
      throw new KeyStoreError(`corrupt key store record ${keyRef}`, { cause: err });
    }
  }

  /** A record, unless it is named and its name file does not point back at it (uncommitted). */
  async #readVisible(keyRef: string, signal: AbortSignal | undefined): Promise<DekRecord | undefined> {
    const record = await this.#readRecord(keyRef, signal);
    if (record?.name === undefined) return record;
    return (await this.#readNameRef(record.name, signal)) === keyRef ? record : undefined;
  }

  async #readNameRef(name: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    const bytes = await readBounded(this.#namePath(name), signal);
    if (bytes === undefined) return undefined;
    try {
      return decodeNameRef(bytes);
    } catch (err) {
      throw new KeyStoreError('corrupt key store name index file', { cause: err });
    }
  }

  async #readByName(name: string, signal: AbortSignal | undefined): Promise<DekRecord | undefined> {
    const keyRef = await this.#readNameRef(name, signal);
    if (keyRef === undefined) return undefined;
    const record = await this.#readRecord(keyRef, signal);
    if (record === undefined) throw new KeyStoreError(`name index points at missing key store record ${keyRef}`);
    if (record.name !== name) throw new KeyStoreError(`name index does not match key store record ${keyRef}`);
    return record;
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
