/**
 * A short-lived, cross-process lock file for FileKeyStore's compare-and-swap and the local
 * vault's state file.
 *
 * Why a lock at all: `rename` replaces a file atomically but unconditionally, so "read the
 * revision, then rename the new record over it" is a race between processes. Publishing
 * `<name>.lock` with `link(temp, lock)` (fails with EEXIST when it exists, atomic on local file
 * systems) makes the read-check-rename sequence exclusive. The lock is held only for that
 * sequence (milliseconds), and reads never take it: they see the old or the new file, both
 * complete, thanks to rename.
 *
 * Owner: the lock file records its owner as one JSON line `{pid, host, started}` (started = the
 * owner process's start time). It is written to a temp file first and then linked into place,
 * so a lock file is never seen empty or half-written, even when its creator is killed.
 *
 * Abandoned locks: a process that dies holding the lock leaves the file behind. It is taken over
 * at once when its owner is provably gone: the same host and `kill(pid, 0)` answers ESRCH. A lock
 * whose owner cannot be checked (another host sharing the directory, an older lock format, a
 * live reused pid) is broken once its mtime is older than `staleMs` (default 30 s, far above any
 * healthy hold). An empty lock (only an older version, or an OS crash, can leave one) counts as
 * abandoned after one second. Breaking renames the lock file to a unique name first (atomic:
 * only one breaker gets that inode) and checks it is the inode that was judged abandoned; if a
 * live lock was grabbed instead, it is put back with `link`. What remains is a microsecond
 * window, reachable only after a crash while holding the lock, in which two breakers racing a
 * third acquirer can let two writers in.
 *
 * Waiting is bounded (`timeoutMs`, default 5 s) with jittered backoff, then KeyStoreError.
 *
 * @module
 */
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { KeyStoreError } from '../../errors.js';
import { FILE_MODE, HOST_NAME, isErrno, processAlive, sweepAbandonedTemps, tempPath } from './file-io.js';

/** Tuning of {@link acquireLock}. */
export interface LockOptions {
  /** A lock file whose owner cannot be checked is broken when older than this. */
  staleMs: number;
  /** Give up (KeyStoreError) after waiting this long. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** A held lock; `release()` is idempotent and never throws. */
export interface HeldLock {
  release(): Promise<void>;
}

/** What a lock file says about its owner. */
export interface LockOwner {
  pid: number;
  host: string;
  /** The owner process's start time, ms since the epoch. */
  started: number;
}

const EMPTY_LOCK_GRACE_MS = 1_000;
const PROCESS_STARTED = Math.round(Date.now() - process.uptime() * 1000);

/**
 * Takes the lock at `lockPath`, waiting with jittered backoff; a dead owner's lock is taken
 * over at once.
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
    const seen = await inspectLock(lockPath);
    if (seen === undefined) continue; // released in between: try again at once
    if (abandoned(seen, options.staleMs)) {
      await breakStale(lockPath, seen.ino);
      // A dead owner may have died mid-write too: its temp files go now, not at the next start.
      await sweepAbandonedTemps(dirname(lockPath), undefined, undefined, true);
      continue;
    }
    if (Date.now() - started >= options.timeoutMs) {
      const by = seen.owner ? ` (pid ${seen.owner.pid} on ${seen.owner.host})` : '';
      throw new KeyStoreError(`${basename(lockPath)} is locked by another writer${by}`);
    }
    await delay(Math.min(100, 2 + 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()), options.signal);
  }
}

/** A lock file as found: its inode, age and owner (undefined when unreadable or legacy). */
interface SeenLock {
  ino: number;
  mtimeMs: number;
  size: number;
  owner: LockOwner | undefined;
}

async function inspectLock(lockPath: string): Promise<SeenLock | undefined> {
  let info;
  let text: string;
  try {
    info = await stat(lockPath);
    text = await readFile(lockPath, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  return { ino: info.ino, mtimeMs: info.mtimeMs, size: info.size, owner: parseOwner(text) };
}

/**
 * Parses a lock file's owner line; undefined for anything else (an older lock holding only a
 * pid names no host, so its pid cannot be checked).
 */
export function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner> | null;
    if (value === null || typeof value !== 'object') return undefined;
    const { pid, host, started } = value;
    if (!Number.isSafeInteger(pid) || typeof host !== 'string' || typeof started !== 'number') return undefined;
    return { pid: pid as number, host, started };
  } catch {
    return undefined;
  }
}

function abandoned(seen: SeenLock, staleMs: number): boolean {
  const age = Date.now() - seen.mtimeMs;
  if (seen.owner !== undefined && seen.owner.host === HOST_NAME && !processAlive(seen.owner.pid)) return true;
  if (seen.size === 0 && age > EMPTY_LOCK_GRACE_MS) return true;
  return age > staleMs;
}

async function tryCreate(lockPath: string): Promise<number | undefined> {
  const owner: LockOwner = { pid: process.pid, host: HOST_NAME, started: PROCESS_STARTED };
  const temp = tempPath(dirname(lockPath));
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`);
  } finally {
    await handle.close();
  }
  try {
    await link(temp, lockPath);
    return (await stat(temp)).ino;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return undefined;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
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
        // ENOENT (broken as stale) or an I/O error: a leftover lock is recovered as abandoned.
      }
    },
  };
}

async function breakStale(lockPath: string, staleIno: number): Promise<void> {
  const aside = tempPath(dirname(lockPath));
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
