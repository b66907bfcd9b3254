/**
 * FieldEncryptorPool: bulk field encryption on worker threads, for CPU-bound jobs (backfills,
 * exports, migrations) that would otherwise use one core.
 *
 * How keys reach the workers: they don't need KEKs or the key store. The main thread's
 * FieldEncryptor resolves every DEK as usual (reserving encryptions of the active DEK in bulk,
 * unwrapping each distinct DEK of a decrypt batch once) and sends the raw DEK with each chunk; a
 * worker holds it only while it encrypts that chunk, then zeroes its copy. Workers share the
 * process (same trust boundary as the main thread's cache), never a network or a file.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DecryptionFailedError, EnvelopeError, EnvelopeMalformedError } from '../errors.js';
import { FIELD_GCM_OVERHEAD, FIELD_GCM_VERSION, FIELD_PREFIX_LENGTH } from '../format/field.js';
import { assertPositiveInt } from '../internal/bytes.js';
import type { BulkItem, BulkResult } from './bulk.js';
import type { FieldEncryptor } from './encryptor.js';
import { type FieldInternals, internalsOf } from './internal/access.js';
import { type PackedChunk, packChunk } from './internal/packing.js';
import { POOL_WORKER_SOURCE } from './internal/pool-worker.js';

/** Options of {@link FieldEncryptorPool}. */
export interface FieldEncryptorPoolOptions {
  /** The encryptor whose keys, store and limits the pool uses. */
  fields: FieldEncryptor;
  /** Worker threads (default: available cores). */
  workers?: number;
  /** Items per message to a worker (default 4,096): large enough to amortize messaging. */
  chunkSize?: number;
}

interface WorkerReply {
  readonly id: number;
  readonly out: ArrayBuffer;
  readonly outOffs: Int32Array;
  readonly byteOffset: number;
  readonly ok?: Uint8Array;
  readonly error?: string;
}

/**
 * Runs {@link FieldEncryptor.encryptMany} / `decryptMany` (randomized fields) across worker
 * threads, with the same per-item results and byte-identical formats.
 *
 * @throws {TypeError | RangeError} from the constructor on invalid options.
 * @example
 * ```ts
 * import { FieldEncryptorPool } from 'kv-envelope';
 * const pool = new FieldEncryptorPool({ fields, workers: 2 });
 * const results = await pool.encryptMany(rows.map((r) => ({ value: r.ssn, aad: `users.ssn#${r.id}` })));
 * await pool.close();
 * ```
 */
export class FieldEncryptorPool {
  readonly #internals: FieldInternals;
  readonly #fields: FieldEncryptor;
  readonly #workers: Worker[];
  readonly #chunkSize: number;
  readonly #pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: unknown) => void }>();
  #next = 0;
  #turn = 0;
  #closed = false;

  constructor(options: FieldEncryptorPoolOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    this.#internals = internalsOf(options.fields, 'options.fields');
    this.#fields = options.fields;
    const count = options.workers ?? availableParallelism();
    assertPositiveInt(count, 'options.workers');
    this.#chunkSize = options.chunkSize ?? 4096;
    assertPositiveInt(this.#chunkSize, 'options.chunkSize');
    this.#workers = Array.from({ length: count }, () => {
      const w = new Worker(POOL_WORKER_SOURCE, { eval: true });
      w.unref();
      w.on('message', (r: WorkerReply) => this.#settle(r));
      w.on('error', (err) => this.#failAll(err));
      return w;
    });
  }

  /**
   * Randomized encryption of every item (a value, or `{ value, aad }`), in input order.
   * @throws {TypeError} when `items` is not an array; per-item problems are results.
   * @throws {EnvelopeError} when a DEK cannot be made (KEK or store failure).
   */
  async encryptMany(items: readonly BulkItem<string | Uint8Array>[], options?: { signal?: AbortSignal }): Promise<BulkResult<Uint8Array>[]> {
    this.#open(items);
    const results: BulkResult<Uint8Array>[] = new Array(items.length);
    const jobs: Promise<void>[] = [];
    for (let start = 0; start < items.length; start += this.#chunkSize) {
      options?.signal?.throwIfAborted();
      const chunk = packChunk(items, start, Math.min(this.#chunkSize, items.length - start), true);
      jobs.push(...(await this.#encryptChunk(chunk, results, options?.signal)));
    }
    await Promise.all(jobs);
    return results;
  }

  /**
   * Decrypts randomized field ciphertexts (`{ value, aad }` or the bytes alone), in input order.
   * Each distinct DEK is resolved once on the main thread; deterministic (AES-SIV) values are
   * decrypted there too.
   * @throws {TypeError} when `items` is not an array; per-item problems are results.
   */
  async decryptMany(items: readonly BulkItem<Uint8Array>[], options?: { signal?: AbortSignal }): Promise<BulkResult<Uint8Array>[]> {
    this.#open(items);
    const results: BulkResult<Uint8Array>[] = new Array(items.length);
    const jobs: Promise<void>[] = [];
    for (let start = 0; start < items.length; start += this.#chunkSize) {
      options?.signal?.throwIfAborted();
      const chunk = packChunk(items, start, Math.min(this.#chunkSize, items.length - start), false);
      jobs.push((await this.#decryptChunk(items, chunk, results, options?.signal)).done);
    }
    await Promise.all(jobs);
    return results;
  }

  /** Stops the workers; calls in flight reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#failAll(new Error('the pool was closed'));
  }

  async #encryptChunk(chunk: PackedChunk, results: BulkResult<Uint8Array>[], signal?: AbortSignal): Promise<Promise<void>[]> {
    for (const [i, error] of chunk.invalid) results[chunk.start + i] = { ok: false, index: chunk.start + i, error };
    const jobs: Promise<void>[] = [];
    // A chunk may straddle a DEK's retirement: split it where the reservation ends.
    for (let from = 0; from < chunk.count; ) {
      const { dek, count } = await this.#internals.reserve(chunk.count - from, signal);
      const to = from + count;
      const prefix = new Uint8Array(FIELD_PREFIX_LENGTH);
      prefix[0] = FIELD_GCM_VERSION;
      prefix.set(dek.keyRef, 1);
      const part = slice(chunk, from, to);
      const reply = this.#send({ op: 'enc', dek: dek.dek.expose().slice(), prefix, ...part }, [part.data.buffer as ArrayBuffer, part.aad.buffer as ArrayBuffer]);
      const first = from;
      const base = chunk.start + first;
      jobs.push(reply.then((r) => {
        const out = new Uint8Array(r.out, r.byteOffset);
        for (let i = 0; i < to - first; i++) {
          if (chunk.invalid.has(first + i)) continue;
          results[base + i] = { ok: true, index: base + i, value: out.subarray(r.outOffs[i], r.outOffs[i + 1]) };
        }
      }));
      from = to;
    }
    return jobs;
  }

  async #decryptChunk(items: readonly BulkItem<Uint8Array>[], chunk: PackedChunk, results: BulkResult<Uint8Array>[], signal?: AbortSignal): Promise<{ done: Promise<void> }> {
    const keys: Uint8Array[] = [];
    const keyOf = new Map<string, number>();
    const keyIndex = new Int32Array(chunk.count).fill(-1);
    const onMain: number[] = [];
    for (let i = 0; i < chunk.count; i++) {
      if (chunk.invalid.has(i)) {
        results[chunk.start + i] = { ok: false, index: chunk.start + i, error: chunk.invalid.get(i)! };
        continue;
      }
      const ct = chunk.data.subarray(chunk.offs[i]!, chunk.offs[i + 1]!);
      if (ct[0] !== FIELD_GCM_VERSION || ct.length < FIELD_GCM_OVERHEAD) {
        onMain.push(i); // SIV values and malformed input: the main thread's decrypt gives the exact error
        continue;
      }
      const ref = Buffer.from(ct.buffer, ct.byteOffset + 1, 8).toString('hex');
      let k = keyOf.get(ref);
      if (k === undefined) {
        try {
          k = keys.push((await this.#internals.dekFor(ct, signal)).expose().slice()) - 1;
        } catch (err) {
          signal?.throwIfAborted();
          if (!(err instanceof EnvelopeError)) throw err;
          k = -1 - keys.length; // remember the failure for this keyRef
          results[chunk.start + i] = { ok: false, index: chunk.start + i, error: err };
        }
        keyOf.set(ref, k);
      }
      if (k >= 0) keyIndex[i] = k;
      else if (results[chunk.start + i] === undefined) onMain.push(i);
    }
    for (const i of onMain) {
      const r = (await this.#fields.decryptMany([items[chunk.start + i]!], { signal }))[0]!;
      results[chunk.start + i] = { ...r, index: chunk.start + i };
    }
    const reply = this.#send({ op: 'dec', keys, keyIndex, data: chunk.data, offs: chunk.offs, aad: chunk.aad, aadOffs: chunk.aadOffs }, [chunk.data.buffer as ArrayBuffer, chunk.aad.buffer as ArrayBuffer]);
    // Wrapped: an async function would otherwise wait for the worker before packing the next chunk.
    return { done: reply.then((r) => {
      const out = new Uint8Array(r.out, r.byteOffset);
      for (let i = 0; i < chunk.count; i++) {
        if (keyIndex[i]! < 0) continue;
        const index = chunk.start + i;
        results[index] = r.ok![i] === 1
          ? { ok: true, index, value: out.subarray(r.outOffs[i], r.outOffs[i + 1]) }
          : { ok: false, index, error: new DecryptionFailedError() };
      }
    }) };
  }

  #send(message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    const id = this.#next++;
    const worker = this.#workers[this.#turn++ % this.#workers.length]!;
    return new Promise<WorkerReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  #settle(r: WorkerReply): void {
    const p = this.#pending.get(r.id);
    if (p === undefined) return;
    this.#pending.delete(r.id);
    if (r.error !== undefined) p.reject(new EnvelopeMalformedError(`worker failed: ${r.error}`));
    else p.resolve(r);
  }

  #failAll(err: unknown): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #open(items: unknown): void {
    if (this.#closed) throw new Error('the pool is closed');
    if (!Array.isArray(items)) throw new TypeError('items must be an array');
  }
}

/** Items [from, to) of a chunk, re-based: fresh buffers a worker can own. */
function slice(chunk: PackedChunk, from: number, to: number): { data: Uint8Array; offs: Int32Array; aad: Uint8Array; aadOffs: Int32Array } {
  if (from === 0 && to === chunk.count) return chunk;
  const d0 = chunk.offs[from]!;
  const a0 = chunk.aadOffs[from]!;
  return {
    data: Uint8Array.from(chunk.data.subarray(d0, chunk.offs[to]!)), // a copy the worker can own (Buffer#slice would share the chunk)
    offs: chunk.offs.slice(from, to + 1).map((o) => o - d0),
    aad: Uint8Array.from(chunk.aad.subarray(a0, chunk.aadOffs[to]!)),
    aadOffs: chunk.aadOffs.slice(from, to + 1).map((o) => o - a0),
  };
}
