/**
 * The FileKeyStore directory layout and its validated readers: where each file lives, how a
 * record, a name index and their link are read back, and what counts as corrupt.
 *
 * Layout (see ../file.ts for the write protocol):
 * - `<keyRef>.dek`: one MessagePack record (./codec.ts).
 * - `name-<sha256hex(utf8 name)>.ref`: the keyRef a name belongs to. Hashing the name keeps
 *   file names short and portable for any name (up to 1,024 chars, any characters).
 * - `<keyRef>.lock`: exists only while an update of that record runs (./file-lock.ts).
 * - `.tmp-*`: a write in progress or a crash leftover; never read.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { DekRecord } from '../key-store.js';
import { KeyStoreError } from '../../errors.js';
import { decodeNameRef, decodeRecord } from './codec.js';
import { FileTooLargeError, readBounded } from './file-io.js';

/** File names of records (anything else in the directory is not a record). */
export const RECORD_FILE = /^[0-9a-f]{16}\.dek$/;

/**
 * Paths and validated reads of one store directory. Reads take no lock: files are only ever
 * published whole (link or rename), so a reader sees the old or the new content.
 *
 * @example
 * ```ts
 * const files = new RecordFiles('/var/lib/app/dek-store');
 * const record = await files.readVisible('0123456789abcdef', signal);
 * ```
 */
export class RecordFiles {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = directory;
  }

  /** Path of a record file. */
  recordPath(keyRef: string): string {
    return join(this.directory, `${keyRef}.dek`);
  }

  /** Path of the name index file of `name`. */
  namePath(name: string): string {
    return join(this.directory, `name-${createHash('sha256').update(name, 'utf8').digest('hex')}.ref`);
  }

  /** Path of the update lock of a record. */
  lockPath(keyRef: string): string {
    return join(this.directory, `${keyRef}.lock`);
  }

  /**
   * The record file's content, validated; undefined when there is no such file.
   * @throws {KeyStoreError} naming the keyRef when the file is corrupt or oversized.
   * @throws the raw system error on I/O failure (the store wraps it).
   * @example `const record = await files.readRecord(keyRef, signal);`
   */
  async readRecord(keyRef: string, signal: AbortSignal | undefined): Promise<DekRecord | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await readBounded(this.recordPath(keyRef), signal);
      if (bytes === undefined) return undefined;
      return decodeRecord(bytes, keyRef);
    } catch (err) {
      if (bytes === undefined && !(err instanceof FileTooLargeError)) throw err; // I/O, not content
      throw new KeyStoreError(`corrupt key store record ${keyRef}`, { cause: err });
    }
  }

  /**
   * A record, unless it is named and its name file does not point back at it: such a record
   * was never committed (its creator crashed between the two links, or lost the name race).
   * @throws {KeyStoreError} on a corrupt record or name file.
   * @example `const record = await files.readVisible(keyRef, signal);`
   */
  async readVisible(keyRef: string, signal: AbortSignal | undefined): Promise<DekRecord | undefined> {
    const record = await this.readRecord(keyRef, signal);
    if (record?.name === undefined) return record;
    return (await this.readNameRef(record.name, signal)) === keyRef ? record : undefined;
  }

  /**
   * The keyRef a name index file holds, or undefined when the name is not taken.
   * @throws {KeyStoreError} when the name file is corrupt.
   * @example `const keyRef = await files.readNameRef('customers.email', signal);`
   */
  async readNameRef(name: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await readBounded(this.namePath(name), signal);
      if (bytes === undefined) return undefined;
      return decodeNameRef(bytes);
    } catch (err) {
      if (bytes === undefined && !(err instanceof FileTooLargeError)) throw err;
      throw new KeyStoreError('corrupt key store name index file', { cause: err });
    }
  }

  /**
   * The record a name belongs to, or undefined when the name is not taken.
   * @throws {KeyStoreError} when the name file is corrupt, dangling, or names another record.
   * @example `const record = await files.readByName('customers.email', signal);`
   */
  async readByName(name: string, signal: AbortSignal | undefined): Promise<DekRecord | undefined> {
    const keyRef = await this.readNameRef(name, signal);
    if (keyRef === undefined) return undefined;
    const record = await this.readRecord(keyRef, signal);
    if (record === undefined) throw new KeyStoreError(`name index points at missing key store record ${keyRef}`);
    if (record.name !== name) throw new KeyStoreError(`name index does not match key store record ${keyRef}`);
    return record;
  }
}
