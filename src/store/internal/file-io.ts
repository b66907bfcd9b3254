/**
 * The file-system steps FileKeyStore is built from. Every durable write has the same shape:
 * write a uniquely named temp file in the store directory (mode 0600, exclusive create),
 * fsync it, then publish it atomically, either with `link` (create-if-absent: fails with
 * EEXIST when the name is taken, never overwrites) or with `rename` (replace), and finally
 * fsync the directory so the new name is durable. A crash at any point leaves either the old
 * state or the new one, plus at worst a `.tmp-*` file that readers ignore.
 *
 * Every helper checks the AbortSignal before each I/O step; once a publishing step has run, the
 * operation is not interrupted half-way.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_FILE_BYTES } from './codec.js';

/** Prefix of temp files; list() and every reader skip them. */
export const TEMP_PREFIX = '.tmp-';

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

/** A fresh temp file path in `directory`: pid plus 96 random bits, so no two writers collide. */
export function tempPath(directory: string): string {
  return join(directory, `${TEMP_PREFIX}${process.pid}-${randomBytes(12).toString('hex')}`);
}

/**
 * Writes `bytes` to a new temp file in `directory` (exclusive create, mode 0600) and fsyncs
 * it. Returns its path; on failure the temp file is removed.
 * @example `const temp = await writeTempSynced(dir, bytes, signal);`
 */
export async function writeTempSynced(directory: string, bytes: Uint8Array, signal?: AbortSignal): Promise<string> {
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
 * Reads a whole file of at most {@link MAX_FILE_BYTES}; undefined when it does not exist.
 * @throws {FileTooLargeError} when the file is larger than the bound.
 * @example `const bytes = await readBounded(path, signal);`
 */
export async function readBounded(path: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  signal?.throwIfAborted();
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_FILE_BYTES) throw new FileTooLargeError(`file is ${size} bytes, over the ${MAX_FILE_BYTES}-byte bound`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
