/**
 * Output files are written to a temporary file beside the target and renamed over it only when
 * everything succeeded: a failed or interrupted command never leaves a partial output file.
 *
 * The temp file is `.<name>.kvtmp-<host tag>-<pid>-<random>.tmp`. A process killed mid-write
 * (SIGKILL, power loss) cannot remove it, so the next write into the same directory removes the
 * temp files that are provably abandoned: written by a process of this host that no longer
 * exists, or untouched for an hour (see sweepAbandonedTemps in store/internal/file-io.ts).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HOST_TAG, sweepAbandonedTemps, syncDirectory } from '../store/internal/file-io.js';

/** Our output temp files: group 1 the host tag, group 2 the pid. */
const OUTPUT_TEMP = /^\..*\.kvtmp-([0-9a-f]{8})-(\d{1,10})-[0-9a-f]{24}\.tmp$/s;
/** What versions before the pid-tagged names left: `.<name>.<12 hex>.tmp` (removed by age only). */
const LEGACY_OUTPUT_TEMP = /^\..*\.[0-9a-f]{12}\.tmp$/s;

/** The temp file path for an output `path`. */
export function outputTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.kvtmp-${HOST_TAG}-${process.pid}-${randomBytes(12).toString('hex')}.tmp`);
}

/**
 * Removes abandoned output temp files in `directory` (once per directory per process).
 * @example `await sweepOutputTemps('.');`
 */
export function sweepOutputTemps(directory: string): Promise<number> {
  return sweepAbandonedTemps(resolve(directory), OUTPUT_TEMP, LEGACY_OUTPUT_TEMP);
}

/** Pipes `source` into `path` atomically (mode 0600), or to stdout when `path` is `-`. */
export async function writeAtomically(path: string, source: Readable): Promise<void> {
  if (path === '-') {
    await pipeline(source, process.stdout, { end: false });
    return;
  }
  await sweepOutputTemps(dirname(path));
  const temp = outputTempPath(path);
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
