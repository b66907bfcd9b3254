/**
 * Crash leftovers of the file layer (issue 9, data-loss item 3). The adversary is SIGKILL: a
 * process killed while it holds a record lock or is half-way through a write cannot clean up.
 * The next process must take a dead owner's lock over at once (not after 30 s) and remove the
 * temp files nobody will ever finish, without touching a live writer's files. Children run an
 * esbuild bundle of the real modules (Node 20 cannot run .ts directly).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAtomically } from '../../src/cli/atomic-file.js';
import { KeyStoreError } from '../../src/errors.js';
import { FileKeyStore } from '../../src/store/file.js';
import { HOST_TAG, sweepAbandonedTemps } from '../../src/store/internal/file-io.js';
import { acquireLock, parseOwner } from '../../src/store/internal/file-lock.js';
import { makeRecord } from './key-store.contract.js';

let root: string;
let bundle: string;
let child: string;
let n = 0;
const freshDir = async (): Promise<string> => {
  const dir = join(root, `d-${n++}`);
  await mkdir(dir);
  return dir;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kv-envelope-crash-'));
  const entry = join(root, 'entry.ts');
  const src = join(process.cwd(), 'src');
  await writeFile(
    entry,
    `export { acquireLock } from ${JSON.stringify(join(src, 'store/internal/file-lock.ts'))};
     export { FileKeyStore } from ${JSON.stringify(join(src, 'store/file.ts'))};
     export { writeAtomically } from ${JSON.stringify(join(src, 'cli/atomic-file.ts'))};
     export { writeTempSynced } from ${JSON.stringify(join(src, 'store/internal/file-io.ts'))};`,
  );
  bundle = join(root, 'bundle.mjs');
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error' });
  child = join(root, 'child.mjs');
  await writeFile(child, CHILD_SCRIPT);
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Starts a child in `mode`; resolves once it reports it reached the point to be killed at. */
async function startChild(mode: string, args: string[]): Promise<ChildProcess> {
  const proc = fork(child, [bundle, mode, ...args], { execArgv: [], stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  return proc;
}

/** One update of `keyRef` in a new process (the "next start"); resolves with 'ok' or the error. */
async function nextStart(directory: string, keyRef: string): Promise<string> {
  const proc = fork(child, [bundle, 'update-once', directory, keyRef], { execArgv: [], stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve(String(m)));
    proc.once('exit', (code) => reject(new Error(`child exited with ${code} before reporting`)));
  });
}

async function sigkill(proc: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}

const leftovers = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.includes('tmp') || f.endsWith('.lock'));

describe('locks record their owner, and a dead owner is taken over at once', () => {
  it('a lock file names pid, host and start time, and is never empty', async () => {
    const dir = await freshDir();
    const lock = await acquireLock(join(dir, 'r.lock'), { staleMs: 30_000, timeoutMs: 1_000 });
    const owner = parseOwner(await readFile(join(dir, 'r.lock'), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: expect.any(String), started: expect.any(Number) });
    expect(owner!.started).toBeLessThanOrEqual(Date.now());
    await lock.release();
    expect(await readdir(dir)).toEqual([]); // the temp it was linked from is gone too
  });

  it('SIGKILL while holding a lock: the next acquire succeeds at once, not after staleMs', async () => {
    const dir = await freshDir();
    const holder = await startChild('hold-lock', [join(dir, 'r.lock')]);
    await sigkill(holder);
    expect(await readdir(dir)).toEqual(['r.lock']); // the dead owner's lock is still there
    // staleMs of a minute and a 1 s timeout: only the dead-owner rule can let this through.
    const lock = await acquireLock(join(dir, 'r.lock'), { staleMs: 60_000, timeoutMs: 1_000 });
    expect(parseOwner(await readFile(join(dir, 'r.lock'), 'utf8'))?.pid).toBe(process.pid);
    await lock.release();
    expect(await leftovers(dir)).toEqual([]);
  });

  it('a live owner keeps its lock: the waiter times out with ERR_KEY_STORE naming the owner', async () => {
    const dir = await freshDir();
    const holder = await startChild('hold-lock', [join(dir, 'r.lock')]);
    try {
      const err = await acquireLock(join(dir, 'r.lock'), { staleMs: 60_000, timeoutMs: 150 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect((err as KeyStoreError).code).toBe('ERR_KEY_STORE');
      expect((err as Error).message).toContain(`pid ${holder.pid}`);
    } finally {
      await sigkill(holder);
    }
  });

  it('an empty lock file (left by an older version killed between create and write) is broken after 1 s', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'r.lock'), '');
    const old = new Date(Date.now() - 5_000);
    await utimes(join(dir, 'r.lock'), old, old);
    const lock = await acquireLock(join(dir, 'r.lock'), { staleMs: 60_000, timeoutMs: 500 });
    await lock.release();
    expect(await leftovers(dir)).toEqual([]);
  });

  it('FileKeyStore: SIGKILL at a random point of an update loop, then the next update succeeds at once and no temp or lock remains', async () => {
    let killedHoldingLock = 0;
    for (let round = 0; round < 8; round++) {
      const directory = await freshDir();
      const record = makeRecord();
      await new FileKeyStore({ directory }).createIfAbsent(record);
      const writer = await startChild('update-loop', [directory, record.keyRef]);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 60));
      await sigkill(writer);
      if ((await readdir(directory)).some((f) => f.endsWith('.lock'))) killedHoldingLock++;
      // The next start: a new process, whose lock timeout (1 s) is far below staleMs (60 s).
      expect(await nextStart(directory, record.keyRef), `round ${round}`).toBe('ok');
      expect(await leftovers(directory), `round ${round}`).toEqual([]);
    }
    // Not asserted (timing decides): how often the kill landed inside the lock.
    console.log(`file-crash-leftovers: ${killedHoldingLock}/8 kills left a lock behind`);
  });
});

describe('abandoned temp files are removed at the next start, live ones are kept', () => {
  it('sweeps temps of dead pids of this host and old temps of any host; keeps live and foreign-fresh ones', async () => {
    const dir = await freshDir();
    const dead = await startChild('hold-lock', [join(dir, 'x.lock')]);
    await sigkill(dead);
    await rm(join(dir, 'x.lock'));
    const hex = 'ab'.repeat(12);
    const files = {
      deadHere: `.tmp-${HOST_TAG}-${dead.pid}-${hex}`,
      liveHere: `.tmp-${HOST_TAG}-${process.pid}-${hex}`,
      otherHostFresh: `.tmp-00000000-${dead.pid}-${hex}`,
      otherHostOld: `.tmp-11111111-${dead.pid}-${hex}`,
      legacyOld: `.tmp-4242-${hex}`,
      legacyFresh: `.tmp-4243-${hex}`,
      user: 'notes.tmp',
    };
    for (const f of Object.values(files)) await writeFile(join(dir, f), 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const f of [files.otherHostOld, files.legacyOld]) await utimes(join(dir, f), twoHoursAgo, twoHoursAgo);
    expect(await sweepAbandonedTemps(dir)).toBe(3);
    expect((await readdir(dir)).sort()).toEqual([files.liveHere, files.otherHostFresh, files.legacyFresh, files.user].sort());
  });

  it('key store: a temp left by a writer killed mid-write is gone after the next write', async () => {
    const directory = await freshDir();
    const record = makeRecord();
    await new FileKeyStore({ directory }).createIfAbsent(record);
    const writer = await startChild('temp-then-hang', [directory]);
    await sigkill(writer);
    expect((await readdir(directory)).filter((f) => f.startsWith('.tmp-'))).toHaveLength(1);
    expect(await nextStart(directory, record.keyRef)).toBe('ok');
    expect(await leftovers(directory)).toEqual([]);
  });

  it('output files: SIGKILL during writeAtomically, then the next write into the directory leaves no *.tmp', async () => {
    const dir = await freshDir();
    const writer = await startChild('stream-output', [join(dir, 'big.out')]);
    await sigkill(writer);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);
    expect((await readdir(dir)).includes('big.out')).toBe(false); // never a partial output
    await writeAtomically(join(dir, 'small.out'), Readable.from([Buffer.from('ok')]));
    expect(await readdir(dir)).toEqual(['small.out']);
  });
});

const CHILD_SCRIPT = `
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
const [bundle, mode, ...args] = process.argv.slice(2);
const lib = await import(pathToFileURL(bundle).href);
const hang = () => setInterval(() => undefined, 1 << 30);
if (mode === 'hold-lock') {
  await lib.acquireLock(args[0], { staleMs: 30000, timeoutMs: 5000 });
  process.send('locked');
  hang();
} else if (mode === 'update-loop') {
  const store = new lib.FileKeyStore({ directory: args[0], lockTimeoutMs: 20000 });
  process.send('ready');
  for (;;) {
    const current = await store.get(args[1]);
    await store.updateWrappedDeks(args[1], [{ kekId: 'k', alg: 'A256KW', bytes: randomBytes(40) }], current.revision);
  }
} else if (mode === 'update-once') {
  const store = new lib.FileKeyStore({ directory: args[0], lockStaleMs: 60000, lockTimeoutMs: 1000 });
  try {
    const current = await store.get(args[1]);
    const next = await store.updateWrappedDeks(args[1], [{ kekId: 'k', alg: 'A256KW', bytes: randomBytes(40) }], current.revision);
    process.send(next.revision === current.revision + 1 ? 'ok' : 'wrong revision ' + next.revision, () => process.exit(0));
  } catch (err) {
    process.send(String(err && err.message), () => process.exit(0));
  }
} else if (mode === 'temp-then-hang') {
  // A write whose publishing step never comes: the temp file exists, the process is killed.
  await lib.writeTempSynced(args[0], randomBytes(100));
  process.send('written');
  hang();
} else if (mode === 'stream-output') {
  let sent = false;
  const source = new Readable({ read() {
    if (!sent) { sent = true; this.push(randomBytes(1 << 16)); setTimeout(() => process.send('writing'), 50); }
  } });
  await lib.writeAtomically(args[0], source);
}
`;
