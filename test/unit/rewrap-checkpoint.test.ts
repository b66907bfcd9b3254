/**
 * The checkpoint contract of rewrapEnvelopes, in process: what counts as handed over, when it
 * is saved, how a run resumes, and what makes a checkpoint unusable. The kill -9 test is in
 * test/integration/rewrap-resume.test.ts.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileCheckpoint, rewrapEnvelopes, RewrapCheckpointError, type CheckpointState, type CheckpointStore, type EnvelopeItem,
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

describe('rewrapEnvelopes with a checkpoint', () => {
  it('records the last item the consumer took; `break` does not hand over the last result', async () => {
    const path = freshPath();
    let taken = 0;
    for await (const _ of rewrapEnvelopes(items, { to: [b], from: [a], checkpoint: { path, everyItems: 1 } })) if (++taken === 10) break;
    const state = (await new FileCheckpoint(path).load())!;
    expect(state).toMatchObject({ lastId: items[8]!.id, position: 9, complete: false, targets: ['kek/b'], counts: { rewrapped: 9 } });

    // Resume: items[9] on, counts accumulate, and the finished checkpoint is marked complete.
    const resumed = await drain(rewrapEnvelopes(items, { to: [b], from: [a], checkpoint: path }));
    expect(resumed.map((r) => r.id)).toEqual(items.slice(9).map((i) => i.id));
    expect(await new FileCheckpoint(path).load()).toMatchObject({ lastId: items[94]!.id, position: 95, complete: true, counts: { rewrapped: 95 } });

    // After a complete run the next one starts over.
    expect(await drain(rewrapEnvelopes(items, { to: [b], from: [a], checkpoint: path }))).toHaveLength(95);
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
    let taken = 0;
    const run = (async () => {
      for await (const _ of rewrapEnvelopes(items, { to: [b], from: [a], signal: controller.signal, checkpoint: { store } })) {
        if (++taken === 30) controller.abort(new Error('stop'));
      }
    })();
    await expect(run).rejects.toThrow('stop');
    expect(store.state).toMatchObject({ lastId: items[29]!.id, position: 30, complete: false });
    const rest = await drain(rewrapEnvelopes(items, { to: [b], from: [a], checkpoint: { store } }));
    expect(rest[0]!.id).toBe(items[30]!.id);
  });

  it('refuses a checkpoint of other targets, a reordered source, or a source without its last id', async () => {
    const store = new MemoryCheckpoint();
    let taken = 0;
    for await (const _ of rewrapEnvelopes(items, { to: [b], from: [a], checkpoint: { store, everyItems: 1 } })) if (++taken === 21) break;
    const other = aesKek('kek/c');
    await expect(drain(rewrapEnvelopes(items, { to: [other], from: [a], checkpoint: { store } }))).rejects.toThrow(/written for targets \[kek\/b\]/);
    const reversed = [...items].reverse();
    await expect(drain(rewrapEnvelopes(reversed, { to: [b], from: [a], checkpoint: { store } }))).rejects.toThrow(RewrapCheckpointError);
    await expect(drain(rewrapEnvelopes(items.slice(0, 10), { to: [b], from: [a], checkpoint: { store } }))).rejects.toThrow(/source ended before/);
    // Items removed before the last id are fine: the id is found earlier.
    const fewer = await drain(rewrapEnvelopes(items.slice(5), { to: [b], from: [a], checkpoint: { store } }));
    expect(fewer[0]!.id).toBe(items[20]!.id);
  });

  it('a dry run resumes from a checkpoint but never writes one', async () => {
    const store = new MemoryCheckpoint();
    let taken = 0;
    for await (const _ of rewrapEnvelopes(items, { to: [b], from: [a], checkpoint: { store, everyItems: 1 } })) if (++taken === 6) break;
    const saves = store.saves.length;
    const planned = await drain(rewrapEnvelopes(items, { to: [b], from: [a], dryRun: true, checkpoint: { store, everyItems: 1 } }));
    expect(planned[0]).toMatchObject({ id: items[5]!.id, status: 'would-rewrap' });
    expect(store.saves).toHaveLength(saves);
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
