/**
 * One state file shared by every process that opens the same vault home: any number of CLI
 * processes and a `vault serve`, concurrently.
 *
 * - Writes are transactions: take `<state file>.lock` (store/internal/file-lock.ts: owner
 *   recorded, a dead owner's lock taken over at once), reload the file, apply the change to that
 *   fresh state, write the whole file atomically (temp + fsync + rename + directory fsync) with
 *   the generation incremented, release. No process ever writes a view it did not just read
 *   under the lock, so no write is lost ("last writer wins" is gone).
 * - Reads reload only when the file changed: one `stat` per request, compared with the
 *   signature (inode, size, mtime and ctime in ns) of the content in memory. Every write is a
 *   rename of a new inode, so the signature changes with every generation.
 * - A write that cannot be made throws; the in-memory change is then discarded (the next use
 *   reloads), so memory never claims what the disk does not hold.
 * - SIGKILL at any point leaves the previous or the next generation (rename is atomic), a lock
 *   that the next process takes over at once (its owner is dead) and perhaps a temp file that
 *   the next write's sweep removes.
 *
 * @module
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { acquireLock } from '../../store/internal/file-lock.js';
import { DIR_MODE, isErrno, replaceAtomic } from '../../store/internal/file-io.js';
import { parseStateFile, serializeStateFile, type VaultIdentity, type VaultSnapshot } from './state-file.js';

/** How the durable state reads and replaces the vault's in-memory state. */
export interface StateBinding {
  /** Replaces the in-memory state with `snapshot`. @throws when it belongs to another vault. */
  apply(snapshot: VaultSnapshot): void;
  /** The in-memory state (the generation is set by the writer). */
  capture(): Omit<VaultSnapshot, 'generation'>;
  /** Whether the in-memory state changed since the last call; clears the flag. */
  takeChanged(): boolean;
}

/** A lock holder that has not written for this long while alive is presumed hung (another host). */
const LOCK_STALE_MS = 60_000;
/** Waiting longer than this for the lock fails the request (loudly, 500). RSA-4096 generation under load takes ~1 s. */
const LOCK_TIMEOUT_MS = 30_000;

async function signature(path: string): Promise<string> {
  const s = await stat(path, { bigint: true });
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** The state file of one vault, shared between processes. */
export class DurableState {
  /** The absolute path of the state file. */
  readonly path: string;
  readonly #binding: StateBinding;
  /** Signature of the file whose content memory holds. */
  #seen: string | undefined;
  #generation = 0;
  /** Memory may differ from the file (a failed write or operation): reload before next use. */
  #stale = true;

  private constructor(path: string, binding: StateBinding) {
    this.path = path;
    this.#binding = binding;
  }

  /**
   * Opens (creating it, with `fresh()`'s identity, when absent) the state file at `path` and
   * applies it to the binding.
   *
   * @throws {Error} when the file is corrupt, or cannot be read or created.
   */
  static async open(path: string, binding: StateBinding, fresh: () => VaultIdentity): Promise<{ durable: DurableState; identity: VaultIdentity }> {
    const durable = new DurableState(resolve(path), binding);
    await mkdir(dirname(durable.path), { recursive: true, mode: DIR_MODE });
    let identity: VaultIdentity | undefined;
    try {
      identity = (await durable.#reload()).identity;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      identity = await durable.#locked(async () => {
        try {
          return (await durable.#reload()).identity; // another process created it meanwhile
        } catch (again) {
          if (!isErrno(again, 'ENOENT')) throw again;
        }
        const first: VaultSnapshot = { generation: 0, identity: fresh(), roleAssignments: [], objects: { keys: [], secrets: [], certificates: [], certificateIssuers: [], certificateContacts: [] }, clockOffsetMs: 0 };
        binding.apply(first);
        await durable.#write(first);
        return first.identity;
      });
    }
    return { durable, identity };
  }

  /** The generation memory holds (incremented by every write of any process). */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Reloads the file when another process changed it (one `stat` when nothing changed).
   * @throws {Error} when the file vanished or is corrupt.
   */
  async refresh(): Promise<void> {
    if (!this.#stale && (await signature(this.path)) === this.#seen) return;
    await this.#reload();
  }

  /**
   * Runs `fn` on the freshest state under the cross-process lock and writes the file when `fn`
   * changed the state (even when `fn` then threw: the change happened).
   * @throws {KeyStoreError} when the lock stays busy for 30 s.
   * @throws {Error} when the state cannot be written; the change is discarded.
   */
  transaction<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#locked(async () => {
      await this.#reload();
      this.#binding.takeChanged();
      let result: T | undefined;
      let failure: { error: unknown } | undefined;
      try {
        result = await fn();
      } catch (error) {
        failure = { error };
        this.#stale = true; // fn may have changed memory half-way
      }
      if (this.#binding.takeChanged()) await this.#write({ ...this.#binding.capture(), generation: this.#generation + 1 });
      if (failure) throw failure.error;
      return result as T;
    });
  }

  async #reload(): Promise<VaultSnapshot> {
    const seen = await signature(this.path);
    const snapshot = parseStateFile(this.path, await readFile(this.path, 'utf8'));
    this.#binding.apply(snapshot);
    this.#seen = seen;
    this.#generation = snapshot.generation;
    this.#stale = false;
    return snapshot;
  }

  async #write(snapshot: VaultSnapshot): Promise<void> {
    try {
      await replaceAtomic(dirname(this.path), this.path, serializeStateFile(snapshot));
      // Under the lock: nobody else can have replaced the file since our rename.
      this.#seen = await signature(this.path);
      this.#generation = snapshot.generation;
      this.#stale = false;
    } catch (cause) {
      this.#stale = true;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new Error(`The local vault could not save its state to ${this.path}: ${reason}`, { cause });
    }
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = await acquireLock(`${this.path}.lock`, { staleMs: LOCK_STALE_MS, timeoutMs: LOCK_TIMEOUT_MS });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }
}
