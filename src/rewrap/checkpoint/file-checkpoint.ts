/**
 * A checkpoint kept in one JSON file, replaced atomically on every save.
 *
 * @module
 */
import { dirname, resolve } from 'node:path';
import { inspect } from 'node:util';
import { assertString } from '../../internal/bytes.js';
import { ensureDirectory, readBounded, replaceAtomic } from '../../store/internal/file-io.js';
import { assertCheckpointState, type CheckpointState, type CheckpointStore, RewrapCheckpointError } from './checkpoint.js';

/**
 * A {@link CheckpointStore} in a JSON file. `save` writes a temp file next to it (mode 0600),
 * fsyncs it, renames it over the file and fsyncs the directory, so a crash at any moment
 * leaves either the previous checkpoint or the new one (plus at worst a `.tmp-*` file). The
 * directory is created (0700) if missing. The file holds item ids and counts, no key material.
 *
 * @example
 * ```ts
 * import { FileCheckpoint, rewrapEnvelopes } from 'kv-envelope/rewrap';
 * const checkpoint = new FileCheckpoint('/var/lib/rewrap/job-42.json');
 * for await (const r of rewrapEnvelopes(source, { to: [kek], checkpoint: { store: checkpoint } })) { … }
 * ```
 */
export class FileCheckpoint implements CheckpointStore {
  /** The absolute path of the checkpoint file. */
  readonly path: string;

  /** @throws {TypeError | RangeError} when `path` is not a non-empty string. */
  constructor(path: string) {
    assertString(path, 'path');
    this.path = resolve(path);
  }

  /**
   * The saved state, or undefined when the file does not exist.
   * @throws {RewrapCheckpointError} when the file is not a valid checkpoint (the cause says why).
   * @throws {Error} on I/O failure other than a missing file.
   * @throws {unknown} `options.signal.reason` when the signal is aborted.
   * @example `const state = await new FileCheckpoint('job.json').load();`
   */
  async load(options?: { signal?: AbortSignal }): Promise<CheckpointState | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await readBounded(this.path, options?.signal);
    } catch (err) {
      if (err instanceof RangeError) throw new RewrapCheckpointError(`${this.path} is too large to be a checkpoint`, { cause: err });
      throw err;
    }
    if (bytes === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (cause) {
      throw new RewrapCheckpointError(`${this.path} is not valid JSON`, { cause });
    }
    assertCheckpointState(value, this.path);
    return value;
  }

  /**
   * Atomically replaces the file with `state`.
   * @throws {Error} on I/O failure (the previous checkpoint is then intact).
   * @throws {unknown} `options.signal.reason` when the signal is aborted before the rename.
   * @example `await checkpoint.save(state);`
   */
  async save(state: CheckpointState, options?: { signal?: AbortSignal }): Promise<void> {
    const directory = dirname(this.path);
    await ensureDirectory(directory);
    const bytes = Buffer.from(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
    await replaceAtomic(directory, this.path, bytes, options?.signal);
  }

  toString(): string {
    return `FileCheckpoint(${this.path})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
