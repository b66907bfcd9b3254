/**
 * `kv-envelope rewrap --jsonl IN -o OUT`: a copy job, streamed. OUT gets every input item, in
 * input order: re-wrapped, or the input line unchanged (already under the target, or failed).
 *
 * - Memory is flat: lines are read in 64 KiB chunks; at most the engine's window of items
 *   (`concurrency`) is pending; output is written in 256 KiB batches to a partial file beside
 *   OUT (`.OUT.<job>.rewrap-partial`, 0600).
 * - The job's state file records how many input items are durably in the partial file, its
 *   byte length, and a SHA-256 of those input lines. It is only saved after the partial file
 *   is fsynced (every 1,000 items or 5 s, and when the run ends or is interrupted), so it never
 *   counts a line that a crash could lose.
 * - A rerun resumes when the state matches: same IN and OUT, same target key version, the
 *   partial file at least as long as recorded, and IN's first items hashing to the recorded
 *   digest. The partial file is then cut back to the recorded length (bytes written after the
 *   last save are dropped) and the job continues after those items. Otherwise it restarts
 *   from an empty partial file: IN changed, or the key was rotated again meanwhile.
 * - At the end the partial file is fsynced and renamed over OUT, the directory fsynced, and the
 *   state removed.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { EnvelopeItem, EnvelopeRewrapResult } from '../../rewrap/index.js';
import { replaceAtomic, syncDirectory } from '../../store/internal/file-io.js';
import { UsageError } from '../errors.js';

/** Longest input line accepted (an envelope of ~48 MiB in base64). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
const WRITE_BATCH_BYTES = 256 * 1024;
const SAVE_EVERY_ITEMS = 1000;
const SAVE_EVERY_MS = 5000;
const NL = Buffer.from('\n');

interface JsonlState {
  version: 1;
  kind: 'rewrap-jsonl';
  input: string;
  output: string;
  partial: string;
  targets: string[];
  /** Input items durably in `partial`. */
  items: number;
  /** Length of `partial` holding exactly those items. */
  bytes: number;
  /** SHA-256 over those input lines, each followed by `\n`. */
  inputDigest: string;
  updatedAt: string;
}

export interface JsonlJob {
  readonly input: string;
  readonly output: string;
  readonly statePath: string;
  /** The versioned kekIds new wraps name now: a state written for others is not resumed. */
  readonly targets: readonly string[];
  readonly signal: AbortSignal;
}

export interface JsonlOutcome {
  /** Items taken over from the partial output of an earlier run. */
  readonly resumed: number;
}

/** One line of IN, parsed. */
interface Pending {
  readonly line: Buffer;
  readonly record: Record<string, unknown>;
}

/**
 * Runs the job: `rewrap(source)` is the engine (rewrapEnvelopes with the command's options),
 * `onResult` reports each result (after its line is written), `notice` says why an earlier
 * partial output is not continued.
 * @throws {UsageError} on a malformed input line or an unreadable state file.
 */
export async function runJsonlJob(
  job: JsonlJob,
  rewrap: (source: AsyncIterable<EnvelopeItem>) => AsyncIterable<EnvelopeRewrapResult>,
  onResult: (r: EnvelopeRewrapResult) => void,
  notice: (text: string) => void,
): Promise<JsonlOutcome> {
  const jobTag = createHash('sha256').update(job.input).digest('hex').slice(0, 8);
  const { start, restartReason, stale } = await resumePoint(job);
  const partial = start?.state.partial ?? join(dirname(job.output), `.${basename(job.output)}.${jobTag}.rewrap-partial`);
  if (restartReason !== undefined) notice(`starting over: ${restartReason}`);
  if (stale !== undefined && stale !== partial) await unlink(stale).catch(() => undefined);
  const hash = start?.hash ?? createHash('sha256');
  const skip = start?.state.items ?? 0;
  let handle: FileHandle;
  if (start !== undefined) {
    handle = await open(partial, 'r+');
    await handle.truncate(start.state.bytes);
  } else {
    handle = await open(partial, 'w', 0o600);
  }
  const writer = new PartialWriter(handle, start?.state.bytes ?? 0);
  let items = skip;
  let savedItems = skip;
  let savedAt = Date.now();
  const save = async (): Promise<void> => {
    await writer.sync();
    const state: JsonlState = {
      version: 1, kind: 'rewrap-jsonl', input: job.input, output: job.output, partial, targets: [...job.targets],
      items, bytes: writer.position, inputDigest: hash.copy().digest('hex'), updatedAt: new Date().toISOString(),
    };
    await replaceAtomic(dirname(job.statePath), job.statePath, Buffer.from(`${JSON.stringify(state, null, 2)}\n`));
    savedItems = items;
    savedAt = Date.now();
  };

  const pending: Pending[] = []; // read by the engine, not yet written: at most its window
  async function* source(): AsyncGenerator<EnvelopeItem> {
    let n = 0;
    for await (const line of itemLines(job.input)) {
      if (++n <= skip) continue;
      const record = parseLine(line, n, job.input);
      pending.push({ line, record });
      yield { id: record.id as string, envelope: Buffer.from(record.envelope as string, 'base64') };
    }
  }

  let completed = false;
  try {
    await save(); // the state names the partial file before anything is written to it
    for await (const r of rewrap(source())) {
      const p = pending.shift();
      // One result per source item, in order (no engine checkpoint here: nothing is passed over).
      if (p === undefined || p.record.id !== r.id) throw new Error(`internal error: result ${r.id} does not match the next input line`);
      if (r.status === 'rewrapped') {
        await writer.write(Buffer.from(`${JSON.stringify({ ...p.record, envelope: Buffer.from(r.envelope).toString('base64') })}\n`));
      } else {
        await writer.write(p.line, NL);
      }
      hash.update(p.line).update(NL);
      items++;
      onResult(r);
      if (items - savedItems >= SAVE_EVERY_ITEMS || Date.now() - savedAt >= SAVE_EVERY_MS) await save();
    }
    completed = true;
  } finally {
    try {
      if (completed) await writer.sync(); // everything, before the rename publishes it
      else await save(); // interrupted or failed: keep what is written
    } finally {
      await handle.close();
    }
  }
  await rename(partial, job.output);
  await syncDirectory(dirname(job.output));
  await unlink(job.statePath).catch(() => undefined);
  return { resumed: skip };
}

/** Where a rerun continues: the state, and the hash of IN's first `state.items` lines. */
async function resumePoint(job: JsonlJob): Promise<{ start?: { state: JsonlState; hash: Hash }; restartReason?: string; stale?: string }> {
  const state = await loadState(job.statePath);
  if (state === undefined) return {};
  if (state.input !== job.input || state.output !== job.output) return { restartReason: 'the state file was written for other files' };
  const restart = (restartReason: string) => ({ restartReason, stale: state.partial });
  if (state.targets.length !== job.targets.length || state.targets.some((t, i) => t !== job.targets[i])) {
    return restart('the key has a newer version than the partial output');
  }
  const size = await stat(state.partial).then((s) => s.size, () => -1);
  if (size < state.bytes) return restart('the partial output is missing or shorter than recorded');
  const hash = createHash('sha256');
  let n = 0;
  if (state.items > 0) {
    for await (const line of itemLines(job.input)) {
      job.signal.throwIfAborted();
      hash.update(line).update(NL);
      if (++n === state.items) break;
    }
  }
  if (n !== state.items || hash.copy().digest('hex') !== state.inputDigest) return restart(`${basename(job.input)} changed since the interrupted run`);
  return { start: { state, hash } };
}

async function loadState(path: string): Promise<JsonlState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
  let s: Partial<JsonlState>;
  try {
    s = JSON.parse(text) as Partial<JsonlState>;
  } catch {
    s = {};
  }
  const ok = s !== null && typeof s === 'object' && s.version === 1 && s.kind === 'rewrap-jsonl' && typeof s.input === 'string' && typeof s.output === 'string'
    && typeof s.partial === 'string' && Array.isArray(s.targets) && s.targets.every((t) => typeof t === 'string')
    && Number.isSafeInteger(s.items) && s.items! >= 0 && Number.isSafeInteger(s.bytes) && s.bytes! >= 0 && typeof s.inputDigest === 'string';
  if (!ok) throw new UsageError(`${path} is not a re-wrap state file of --jsonl (written for files? delete it to start over)`);
  return s as JsonlState;
}

/**
 * The `n`th record (non-blank line) of IN: `{"id": string, "envelope": base64 string, ...}`.
 * @throws {UsageError} naming the file and record.
 */
export function parseLine(line: Buffer, n: number, path: string): Record<string, unknown> {
  let record: unknown;
  try {
    record = JSON.parse(line.toString('utf8'));
  } catch {
    throw new UsageError(`${path}: record ${n} is not JSON`);
  }
  const r = record as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || Array.isArray(r) || typeof r.id !== 'string' || typeof r.envelope !== 'string') {
    throw new UsageError(`${path}: record ${n}: expected {"id": string, "envelope": base64 string}`);
  }
  return r;
}

/**
 * The non-blank lines of a file (without `\n` / `\r\n`), read in 64 KiB chunks: memory is one
 * chunk plus the longest line.
 * @throws {UsageError} for a line over MAX_LINE_BYTES.
 */
export async function* itemLines(path: string): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  const emit = (tail: Buffer): Buffer | undefined => {
    let line = parts.length === 0 ? tail : Buffer.concat([...parts, tail]);
    parts = [];
    length = 0;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    return line.toString('latin1').trim() === '' ? undefined : line;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a, from); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
      const line = emit(chunk.subarray(from, nl));
      from = nl + 1;
      if (line !== undefined) yield Buffer.from(line); // own copy: the chunk is not kept alive
    }
    if (from < chunk.length) {
      length += chunk.length - from;
      if (length > MAX_LINE_BYTES) throw new UsageError(`${path}: a line is longer than ${MAX_LINE_BYTES / 2 ** 20} MiB`);
      parts.push(chunk.subarray(from));
    }
  }
  const last = emit(Buffer.alloc(0));
  if (last !== undefined) yield Buffer.from(last);
}

/** Appends to the partial output in batches; `sync()` makes everything written so far durable. */
class PartialWriter {
  readonly #handle: FileHandle;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  /** Bytes in the file once the batch is written. */
  position: number;

  constructor(handle: FileHandle, position: number) {
    this.#handle = handle;
    this.position = position;
  }

  async write(...buffers: Buffer[]): Promise<void> {
    for (const b of buffers) {
      this.#batch.push(b);
      this.#batchBytes += b.length;
      this.position += b.length;
    }
    if (this.#batchBytes >= WRITE_BATCH_BYTES) await this.#flush();
  }

  async sync(): Promise<void> {
    await this.#flush();
    await this.#handle.sync();
  }

  async #flush(): Promise<void> {
    if (this.#batchBytes === 0) return;
    const data = Buffer.concat(this.#batch, this.#batchBytes);
    const at = this.position - this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.#handle.write(data, written, data.length - written, at + written);
      written += bytesWritten;
    }
  }
}
