/**
 * Output files are written to a temporary file beside the target and renamed over it only when
 * everything succeeded: a failed or interrupted command never leaves a partial output file.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { syncDirectory } from '../store/internal/file-io.js';
import { pipeline } from 'node:stream/promises';

/** Pipes `source` into `path` atomically (mode 0600), or to stdout when `path` is `-`. */
export async function writeAtomically(path: string, source: Readable): Promise<void> {
  if (path === '-') {
    await pipeline(source, process.stdout, { end: false });
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await pipeline(source, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
    const handle = await open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDirectory(dirname(path));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
