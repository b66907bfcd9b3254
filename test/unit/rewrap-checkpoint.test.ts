/**
 * The checkpoint contract of rewrapEnvelopes, in process: what counts as handed over, when it
 * is saved, how a run resumes (every item is looked at again: a source changed between runs is
 * never skipped unseen), and what makes a checkpoint unusable. The kill -9 test is in
 * test/integration/rewrap-resume.test.ts.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  envelopeDigest, FileCheckpoint, rewrapEnvelopes, RewrapCheckpointError, verifyEnvelopes,
  type CheckpointState, type CheckpointStore, type EnvelopeItem, type EnvelopeRewrapResult, type RewrapProgress,
} from '../../src/rewrap/index.js';
import { aesKek } from '../helpers/keys.js';
import { drain, makeEnvelopes, sleep } from '../helpers/rewrap.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kv-envelope-rewrap-cp-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `run-${n++}`, 'checkpoint.json');

/** A checkpoint store in memory that records every save. */
class MemoryCheckpoint implements CheckpointStore {
  state: CheckpointState | undefined;
  saves: CheckpointState[] = [];
  failSaves = false;
  async load() {
    return this.state;
  }
  async save(state: CheckpointState) {
    if (this.failSaves) throw new Error('disk full');
    this.saves.push(state);
    this.state = state;
  }
}

const a = aesKek('kek/a');
const b = aesKek('kek/b');
let items: EnvelopeItem[];
beforeAll(async () => {
  items = await makeEnvelopes(a, 95, 10);
});

describe('FileCheckpoint', () => {
  it('round-trips a state through an atomically replaced 0600 file, creating the directory', async () => {
    const cp = new FileCheckpoint(freshPath());
    expect(await cp.load()).toBeUndefined();
    const state: CheckpointState = {
      version: 1, lastId: 'x/1', position: 3, complete: false, targets: ['kek/b'],
      counts: { rewrapped: 2, skipped: 1, failed: 0 }, updatedAt: new Date().toISOString(),
    };
    await cp.save(state);
    await cp.save({ ...state, position: 4, lastId: 'x/2' });
    expect(await cp.load()).toEqual({ ...state, position: 4, lastId: 'x/2' });
    const dir = join(cp.path, '..');
    expect(await readdir(dir)).toEqual(['checkpoint.json']); // no temp file left
    if (process.platform !== 'win32') expect((await stat(cp.path)).mode & 0o777).toBe(0o600);
  });

  it('a corrupt or foreign file is a RewrapCheckpointError', async () => {
    const cp = new FileCheckpoint(freshPath());
    await new FileCheckpoint(cp.path).save({
      version: 1, lastId: 'a', position: 1, complete: false, targets: [], counts: { rewrapped: 0, skipped: 0, failed: 0 }, updatedAt: '',
    });
    for (const content of ['{', '[]', '{"version":2}', JSON.stringify({ version: 1, lastId: 'a', position: 0 }), 'x'.repeat(300 * 1024)]) {
      await writeFile(cp.path, content);
      const err = await cp.load().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RewrapCheckpointError);
      expect((err as RewrapCheckpointError).code).toBe('ERR_REWRAP_CHECKPOINT');
    }
  });
});

/**
 * The checkpoint contract's consumer: an in-place store of envelopes. The source reads what the
 * store holds now; each result is written back before the next is pulled.
 */
class Blobs {
  readonly map = new Map<string, Uint8Array>();
  ids: string[];
  constructor(list: readonly EnvelopeItem[]) {
    for (const i of list) this.map.set(i.id, i.envelope);
    this.ids = list.map((i) => i.id);
  }
  async *source(): AsyncGenerator<EnvelopeItem> {
    for (const id of this.ids) yield { id, envelope: this.map.get(id)! };
  }
  /** Runs a job; `stopAt`: break when the consumer is given that many results (the last one is not stored). */
  async run(options: Parameters<typeof rewrapEnvelopes>[1], stopAt?: number): Promise<EnvelopeRewrapResult[]> {
    const results: EnvelopeRewrapResult[] = [];
    for await (const r of rewrapEnvelopes(this.source(), options)) {
      results.push(r);
      if (results.length === stopAt) break;
      if (r.status === 'rewrapped' && envelopeDigest(this.map.get(r.id)!) === r.sourceDigest) this.map.set(r.id, r.envelope);
    }
    return results;
  }
}

describe('rewrapEnvelopes with a checkpoint', () => {
  it('records the last item the consumer took; `break` does not hand over the last result', async () => {
    const path = freshPath();
    const blobs = new Blobs(items);
    await blobs.run({ to: [b], from: [a], checkpoint: { path, everyItems: 1 } }, 10);
    const state = (await new FileCheckpoint(path).load())!;
    expect(state).toMatchObject({ lastId: items[8]!.id, position: 9, complete: false, targets: ['kek/b'], counts: { rewrapped: 9 } });

    // Resume: the 9 stored items are passed over silently, items[9] on are yielded, counts accumulate.
    let final: RewrapProgress | undefined;
    const resumed = await blobs.run({ to: [b], from: [a], checkpoint: path, onProgress: (p) => void (final = p) });
    expect(resumed.map((r) => r.id)).toEqual(items.slice(9).map((i) => i.id));
    expect(final).toMatchObject({ final: true, resumed: 9, rewrapped: 86, remaining: 0 });
    expect(await new FileCheckpoint(path).load()).toMatchObject({ lastId: items[94]!.id, position: 95, complete: true, counts: { rewrapped: 95 } });

    // After a complete run the next one starts over: every item is yielded (skipped, no vault call).
    const again = await blobs.run({ to: [b], from: [a], checkpoint: path });
    expect(again.map((r) => r.status)).toEqual(Array(95).fill('skipped'));
  });

  it('saves every `everyItems` handed-over items, on time, and once more at the end', async () => {
    const store = new MemoryCheckpoint();
    await drain(rewrapEnvelopes(items, { to: [b], from: [a], checkpoint: { store, everyItems: 10 } }));
    expect(store.saves.map((s) => s.position)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 95]);
    expect(store.saves.map((s) => s.complete)).toEqual([...Array(9).fill(false), true]);

    const timed = new MemoryCheckpoint();
    for await (const _ of rewrapEnvelopes(items.slice(0, 4), { to: [b], from: [a], checkpoint: { store: timed, everyItems: 1000, everyMs: 15 } })) await sleep(20);
    expect(timed.saves.map((s) => [s.position, s.complete])).toEqual([[1, false], [2, false], [3, false], [4, false], [4, true]]);
  });

  it('an abort saves what was handed over, and the rerun resumes after it', async () => {
    const store = new MemoryCheckpoint();
    const controller = new AbortController();
    const blobs = new Blobs(items);
    let taken = 0;
    const run = (async () => {
      for await (const r of rewrapEnvelopes(blobs.source(), { to: [b], from: [a], signal: controller.signal, checkpoint: { store } })) {
        if (r.status === 'rewrapped') blobs.map.set(r.id, r.envelope);
        if (++taken === 30) controller.abort(new Error('stop'));
      }
    })();
    await expect(run).rejects.toThrow('stop');
    expect(store.state).toMatchObject({ lastId: items[29]!.id, position: 30, complete: false });
    const rest = await blobs.run({ to: [b], from: [a], checkpoint: { store } });
    expect(rest[0]!.id).toBe(items[30]!.id);
  });

  // The adversary: the source changed between two runs. Old code passed over the first
  // `position` items unseen once it found the checkpoint's last id, so an item inserted there
  // (with one done item removed, the last id stays at its position) was never re-wrapped, and
  // the run still reported complete.
  it('an item inserted before the checkpoint position between two runs is re-wrapped by the resumed run and reported', async () => {
    const store = new MemoryCheckpoint();
    const blobs = new Blobs(items);
    await blobs.run({ to: [b], from: [a], checkpoint: { store, everyItems: 1 } }, 31);
    expect(store.state).toMatchObject({ lastId: items[29]!.id, position: 30 });
    const [inserted] = await makeEnvelopes(a, 1);
    blobs.map.set('inserted', inserted!.envelope);
    blobs.ids = [...blobs.ids.slice(0, 10), 'inserted', ...blobs.ids.slice(10)].filter((id) => id !== items[3]!.id);
    blobs.map.set(items[20]!.id, items[20]!.envelope); // and one restored from a backup taken before the run

    let final: RewrapProgress | undefined;
    const resumed = await blobs.run({ to: [b], from: [a], checkpoint: { store }, onProgress: (p) => void (final = p) });
    expect(resumed.slice(0, 2).map((r) => [r.id, r.status])).toEqual([['inserted', 'rewrapped'], [items[20]!.id, 'rewrapped']]);
    expect(resumed.slice(2).map((r) => r.id)).toEqual(items.slice(30).map((i) => i.id));
    expect(final).toMatchObject({ resumed: 28, rewrapped: 67, failed: 0, remaining: 0 });
    const verification = await verifyEnvelopes(blobs.source(), { to: [b] });
    expect(verification).toMatchObject({ checked: 95, current: 95, remaining: 0 });
  });

  it('a reordered or shortened source is no error: every item is looked at, stored ones are passed over', async () => {
    const store = new MemoryCheckpoint();
    const blobs = new Blobs(items);
    await blobs.run({ to: [b], from: [a], checkpoint: { store, everyItems: 1 } }, 22);
    const other = aesKek('kek/c');
    await expect(drain(rewrapEnvelopes(blobs.source(), { to: [other], from: [a], checkpoint: { store } }))).rejects.toThrow(RewrapCheckpointError);
    await expect(drain(rewrapEnvelopes(blobs.source(), { to: [other], from: [a], checkpoint: { store } }))).rejects.toThrow(/written for targets \[kek\/b\]/);
    blobs.ids.reverse();
    const reversed = await blobs.run({ to: [b], from: [a], checkpoint: { store } });
    expect(reversed.filter((r) => r.status === 'rewrapped')).toHaveLength(95 - 21);
    expect(reversed.every((r) => r.status !== 'failed')).toBe(true);
  });

  it('a dry run resumes from a checkpoint but never writes one', async () => {
    const store = new MemoryCheckpoint();
    const blobs = new Blobs(items);
    await blobs.run({ to: [b], from: [a], checkpoint: { store, everyItems: 1 } }, 6);
    const saves = store.saves.length;
    let final: RewrapProgress | undefined;
    const planned = await drain(rewrapEnvelopes(blobs.source(), { to: [b], from: [a], dryRun: true, checkpoint: { store, everyItems: 1 }, onProgress: (p) => void (final = p) }));
    expect(planned[0]).toMatchObject({ id: items[5]!.id, status: 'would-rewrap' });
    expect(store.saves).toHaveLength(saves);
    expect(final).toMatchObject({ resumed: 5, remaining: 90 }); // a dry run's would-rewrap items remain
  });

  it('a checkpoint that cannot be written ends the run', async () => {
    const store = new MemoryCheckpoint();
    store.failSaves = true;
    await expect(drain(rewrapEnvelopes(items, { to: [b], from: [a], checkpoint: { store, everyItems: 5 } }))).rejects.toThrow('disk full');
  });

  it('the file holds ids and counts only', async () => {
    const path = freshPath();
    await drain(rewrapEnvelopes(items.slice(0, 3), { to: [b], from: [a], checkpoint: path }));
    expect(Object.keys(JSON.parse(await readFile(path, 'utf8'))).sort()).toEqual(['complete', 'counts', 'lastId', 'position', 'targets', 'updatedAt', 'version']);
  });
});
