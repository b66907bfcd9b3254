/**
 * Storing re-wrap results without rolling anything back: the source digest of a result, and a
 * conditional replace for envelope files (what `kv-envelope rewrap FILES` does).
 *
 * @module
 */
import { createHash, hash } from 'node:crypto';
import { rename, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { assertBytes, assertString } from '../internal/bytes.js';
import { isErrno, openIfExists, syncDirectory, writeTempSynced } from '../store/internal/file-io.js';

/**
 * The digest every result of {@link rewrapEnvelopes} carries as `sourceDigest`: SHA-256 of the
 * envelope bytes, lowercase hex. Compute it over what a store holds now to tell whether the
 * item changed since it was read (e.g. in a SQL `UPDATE … WHERE digest = $sourceDigest`).
 *
 * @throws {TypeError} when `envelope` is not a Uint8Array.
 * @example
 * ```ts
 * if (envelopeDigest(await readBlob(r.id)) === r.sourceDigest) await writeBlob(r.id, r.envelope);
 * ```
 */
export function envelopeDigest(envelope: Uint8Array): string {
  assertBytes(envelope, 'envelope');
  return hash('sha256', envelope, 'hex'); // one-shot: half the cost of createHash for small envelopes
}

/** What {@link replaceFileIfUnchanged} did. */
export type ConditionalReplace = 'replaced' | 'changed' | 'removed';

/**
 * Replaces the file at `path` with `envelope` only if it still holds the bytes whose digest is
 * `sourceDigest` (the re-wrap result's). The new bytes go to a temp file beside it (0600,
 * fsynced); then the file's current content is hashed, its identity (device, inode, size,
 * mtime) checked again, and only then is the temp file renamed over it and the directory
 * fsynced. A file that changed or was removed since it was read is left as it is: `'changed'`
 * or `'removed'`, and the temp file is deleted.
 *
 * What is left: a writer that renames a new file over `path` in the microseconds between the
 * final check and the rename is still overwritten (POSIX has no compare-and-rename). Writers
 * that need a strict guarantee must not run during the re-wrap, or must store their envelopes
 * somewhere with a real compare-and-swap.
 *
 * @throws {TypeError} on a bad argument.
 * @throws {Error} on I/O failure (the file is then unchanged).
 * @throws {unknown} `options.signal.reason` when aborted before the rename.
 * @example
 * ```ts
 * for await (const r of rewrapEnvelopes(readFiles(paths), { to: kek })) {
 *   if (r.status === 'rewrapped' && (await replaceFileIfUnchanged(r.id, r.envelope, r.sourceDigest)) !== 'replaced') {
 *     console.warn(`${r.id} changed while it was re-wrapped; left as it is`);
 *   }
 * }
 * ```
 */
export async function replaceFileIfUnchanged(
  path: string,
  envelope: Uint8Array,
  sourceDigest: string,
  options?: { signal?: AbortSignal },
): Promise<ConditionalReplace> {
  assertString(path, 'path');
  assertBytes(envelope, 'envelope');
  if (typeof sourceDigest !== 'string' || !/^[0-9a-f]{64}$/.test(sourceDigest)) throw new TypeError('sourceDigest must be a SHA-256 hex digest');
  const signal = options?.signal;
  const target = resolve(path);
  const directory = dirname(target);
  const temp = await writeTempSynced(directory, envelope, signal);
  let renamed = false;
  try {
    const seen = await currentDigest(target);
    if (seen === undefined) return 'removed';
    if (seen.digest !== sourceDigest) return 'changed';
    const now = await stat(target, { bigint: true }).catch((err: unknown) => (isErrno(err, 'ENOENT') ? undefined : Promise.reject(err)));
    if (now === undefined) return 'removed';
    if (now.dev !== seen.dev || now.ino !== seen.ino || now.size !== seen.size || now.mtimeNs !== seen.mtimeNs) return 'changed';
    signal?.throwIfAborted();
    await rename(temp, target);
    renamed = true;
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
  await syncDirectory(directory);
  return 'replaced';
}

interface Seen {
  readonly digest: string;
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
}

/** SHA-256 of the file's current bytes and its identity, read in 64 KiB steps; undefined when it is gone. */
async function currentDigest(path: string): Promise<Seen | undefined> {
  const handle = await openIfExists(path);
  if (handle === undefined) return undefined;
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    const s = await handle.stat({ bigint: true });
    return { digest: hash.digest('hex'), dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs };
  } finally {
    await handle.close();
  }
}
