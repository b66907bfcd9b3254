/**
 * The file-system steps FileKeyStore is built from. Every durable write has the same shape:
 * write a uniquely named temp file in the store directory (mode 0600, exclusive create),
 * fsync it, then publish it atomically, either with `link` (create-if-absent: fails with
 * EEXIST when the name is taken, never overwrites) or with `rename` (replace), and finally
 * fsync the directory so the new name is durable. A crash at any point leaves either the old
 * state or the new one, plus at worst a `.tmp-*` file that readers ignore and that the first
 * write of a later process in that directory removes (its name records host and pid).
 *
 * Every helper checks the AbortSignal before each I/O step; once a publishing step has run, the
 * operation is not interrupted half-way.
 *
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MAX_FILE_BYTES } from './codec.js';

/** Prefix of temp files; list() and every reader skip them. */
export const TEMP_PREFIX = '.tmp-';

/**
 * A temp file untouched for this long is abandoned whoever made it (a writer on another host,
 * or a pid reused by a live process). Far above any healthy write: a record write takes
 * milliseconds, and a streaming write touches its file on every chunk.
 */
export const ABANDONED_TEMP_MS = 60 * 60_000;

/** 8 hex digits naming this host in temp and lock names (a hash: host names may hold anything). */
export const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** This host's name, as lock files record it. */
export const HOST_NAME = hostname();

/** File mode of everything the store writes. */
export const FILE_MODE = 0o600;

/** Mode of the store directory when the store creates it. */
export const DIR_MODE = 0o700;

/** True when `err` is a Node system error with this `code`. */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/**
 * Creates the directory (mode 0700) if missing; an existing directory keeps its mode.
 * @example `await ensureDirectory('/var/lib/app/keys');`
 */
export async function ensureDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: DIR_MODE });
}

/**
 * A fresh temp file path in `directory`: `.tmp-<host tag>-<pid>-<96 random bits>`, so no two
 * writers collide and a later process can tell whose it was (see {@link sweepAbandonedTemps}).
 */
export function tempPath(directory: string): string {
  return join(directory, `${TEMP_PREFIX}${HOST_TAG}-${process.pid}-${randomBytes(12).toString('hex')}`);
}

/**
 * Whether process `pid` of this host is alive: `kill(pid, 0)` answers ESRCH only for a pid that
 * does not exist (EPERM means it exists under another user). A reused pid counts as alive.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, 'ESRCH');
  }
}

const OWN_TEMP = /^\.tmp-([0-9a-f]{8})-(\d{1,10})-[0-9a-f]{24}$/;
const LEGACY_TEMP = /^\.tmp-\d{1,10}-[0-9a-f]{24}$/;

/**
 * Whether a temp file named `name` (matched by `pattern`, whose groups 1 and 2 are the host tag
 * and the pid) with mtime `mtimeMs` is provably abandoned: its writer was a process of this
 * host that no longer exists, or it has not been written for {@link ABANDONED_TEMP_MS}.
 */
export function abandonedTemp(name: string, mtimeMs: number, pattern: RegExp, legacy?: RegExp): boolean {
  const own = pattern.exec(name);
  if (own === null && !legacy?.test(name)) return false;
  if (own !== null && own[1] === HOST_TAG && !processAlive(Number(own[2]))) return true;
  return Date.now() - mtimeMs > ABANDONED_TEMP_MS;
}

const swept = new Set<string>();

/**
 * Removes the abandoned temp files of `directory` (see {@link abandonedTemp}): leftovers of a
 * process killed mid-write. Runs once per directory per process, before its first write there,
 * and again (`again: true`) when a dead owner's lock was taken over there; best effort (a file
 * that vanishes or cannot be removed is left for next time).
 * @example `await sweepAbandonedTemps(dir, /^\.tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]{24}$/);`
 */
export async function sweepAbandonedTemps(
  directory: string,
  pattern: RegExp = OWN_TEMP,
  legacy: RegExp | undefined = LEGACY_TEMP,
  again = false,
): Promise<number> {
  const key = `${directory}\0${pattern.source}`;
  if (swept.has(key) && !again) return 0;
  swept.add(key);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!pattern.test(name) && !legacy?.test(name)) continue;
    try {
      const info = await lstat(join(directory, name));
      if (!info.isFile() || !abandonedTemp(name, info.mtimeMs, pattern, legacy)) continue;
      await unlink(join(directory, name));
      removed++;
    } catch {
      // vanished (its writer finished) or not removable: left for a later sweep
    }
  }
  return removed;
}

/**
 * Writes `bytes` to a new temp file in `directory` (exclusive create, mode 0600) and fsyncs
 * it. Returns its path; on failure the temp file is removed.
 * @example `const temp = await writeTempSynced(dir, bytes, signal);`
 */
export async function writeTempSynced(directory: string, bytes: Uint8Array, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  await sweepAbandonedTemps(directory);
  signal?.throwIfAborted();
  const path = tempPath(directory);
  const handle = await open(path, 'wx', FILE_MODE);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await handle.close();
  return path;
}

/**
 * fsyncs a directory so renames/links in it are durable. Platforms that cannot open or fsync
 * a directory (Windows) are skipped: their metadata journaling is the best available.
 * @example `await syncDirectory(dir);`
 */
export async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
  } catch (err) {
    if (process.platform === 'win32') return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    if (!isErrno(err, 'EINVAL') && !isErrno(err, 'EPERM') && !isErrno(err, 'EISDIR')) throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Atomically creates `finalPath` with `bytes` unless it exists. Returns false (and changes
 * nothing) when another writer got there first.
 * @example `if (!(await createExclusive(dir, path, bytes))) { // lost the race }`
 */
export async function createExclusive(
  directory: string,
  finalPath: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<boolean> {
  const temp = await writeTempSynced(directory, bytes, signal);
  let created = false;
  try {
    signal?.throwIfAborted();
    await link(temp, finalPath);
    created = true;
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  if (created) await syncDirectory(directory);
  return created;
}

/**
 * Atomically replaces `finalPath` with `bytes` (temp + fsync + rename + directory fsync).
 * @example `await replaceAtomic(dir, recordPath, encodeRecord(next));`
 */
export async function replaceAtomic(
  directory: string,
  finalPath: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<void> {
  const temp = await writeTempSynced(directory, bytes, signal);
  try {
    signal?.throwIfAborted();
    await rename(temp, finalPath);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(directory);
}

/** Thrown by {@link readBounded} for a file over {@link MAX_FILE_BYTES}: treated as corrupt. */
export class FileTooLargeError extends RangeError {
  override name = 'FileTooLargeError';
}

/**
 * The file opened for reading, or undefined when it does not exist (other errors are thrown).
 * @example `const handle = await openIfExists(path); if (handle) try { … } finally { await handle.close(); }`
 */
export async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/**
 * Reads a whole file of at most {@link MAX_FILE_BYTES}; undefined when it does not exist.
 * @throws {FileTooLargeError} when the file is larger than the bound.
 * @example `const bytes = await readBounded(path, signal);`
 */
export async function readBounded(path: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  signal?.throwIfAborted();
  const handle = await openIfExists(path);
  if (handle === undefined) return undefined;
  try {
    const { size } = await handle.stat();
    if (size > MAX_FILE_BYTES) throw new FileTooLargeError(`file is ${size} bytes, over the ${MAX_FILE_BYTES}-byte bound`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
