/**
 * A short-lived, cross-process lock file for FileKeyStore's compare-and-swap.
 *
 * Why a lock at all: `rename` replaces a file atomically but unconditionally, so "read the
 * revision, then rename the new record over it" is a race between processes. Creating
 * `<keyRef>.lock` with `open(path, 'wx')` (O_CREAT|O_EXCL, atomic on local file systems) makes
 * the read-check-rename sequence exclusive per record. The lock is held only for that
 * sequence (milliseconds), never across KeyStore calls, and reads never take it: they see the
 * old or the new file, both complete, thanks to rename.
 *
 * Stale locks: a process that dies holding the lock leaves the file behind. A lock whose
 * mtime is older than `staleMs` (default 30 s, far above any healthy hold) is broken. Breaking
 * renames the lock file to a unique name first (atomic: only one breaker gets that inode) and
 * checks it is the inode that was judged stale; if a live lock was grabbed instead, it is put
 * back with `link`. What remains is a microsecond window, reachable only after a crash while
 * holding the lock, in which two breakers racing a third acquirer can let two writers in; the
 * cost would be one lost re-wrap, not a lost key, since updates only replace wrapped copies of
 * the same DEK.
 *
 * Waiting is bounded (`timeoutMs`, default 5 s) with jittered backoff, then KeyStoreError.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { KeyStoreError } from '../../errors.js';
import { FILE_MODE, isErrno } from './file-io.js';

/** Tuning of {@link acquireLock}. */
export interface LockOptions {
  /** A lock file older than this is considered abandoned and broken. */
  staleMs: number;
  /** Give up (KeyStoreError) after waiting this long. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** A held lock; `release()` is idempotent and never throws. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the lock at `lockPath`, waiting with jittered backoff.
 * @throws {KeyStoreError} when the lock stays busy for `timeoutMs`.
 * @throws the signal's reason when aborted while waiting.
 * @example
 * ```ts
 * const lock = await acquireLock(`${dir}/${keyRef}.lock`, { staleMs: 30_000, timeoutMs: 5_000 });
 * try { ... } finally { await lock.release(); }
 * ```
 */
export async function acquireLock(lockPath: string, options: LockOptions): Promise<HeldLock> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    const ino = await tryCreate(lockPath);
    if (ino !== undefined) return heldLock(lockPath, ino);
    const seen = await stat(lockPath).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    });
    if (seen === undefined) continue; // released in between: try again at once
    if (Date.now() - seen.mtimeMs > options.staleMs) {
      await breakStale(lockPath, seen.ino);
      continue;
    }
    if (Date.now() - started >= options.timeoutMs) {
      throw new KeyStoreError(`key store record is locked by another writer: ${basename(lockPath)}`);
    }
    await delay(Math.min(100, 2 + 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()), options.signal);
  }
}

async function tryCreate(lockPath: string): Promise<number | undefined> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', FILE_MODE);
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return undefined;
    throw err;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
    return (await handle.stat()).ino;
  } finally {
    await handle.close();
  }
}

function heldLock(lockPath: string, ino: number): HeldLock {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        // Only remove the lock if it is still ours (it may have been broken as stale).
        if ((await stat(lockPath)).ino === ino) await unlink(lockPath);
      } catch {
        // ENOENT (broken as stale) or an I/O error: a leftover lock is recovered as stale.
      }
    },
  };
}

async function breakStale(lockPath: string, staleIno: number): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(8).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return; // another process broke or released it
    throw err;
  }
  try {
    if ((await stat(aside)).ino !== staleIno) {
      // We moved a fresh lock taken after our stat: put it back unless someone re-locked.
      await link(aside, lockPath).catch((err: unknown) => {
        if (!isErrno(err, 'EEXIST')) throw err;
      });
    }
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
