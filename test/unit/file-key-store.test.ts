/**
 * FileKeyStore specifics beyond the shared contract: durability, file modes, corruption,
 * crash leftovers, locks, and real multi-process races (children run an esbuild bundle of
 * src/store/file.ts, since Node 20 cannot run .ts directly).
 */
import { fork } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStoreError } from '../../src/errors.js';
import { FileKeyStore } from '../../src/store/file.js';
import { encodeRecord } from '../../src/store/internal/codec.js';
import type { DekRecord } from '../../src/store/key-store.js';
import { makeRecord, wrapped } from './key-store.contract.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kv-envelope-file-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
const freshDir = (): string => join(root, `store-${n++}`);
const posix = process.platform !== 'win32';

async function listAll(store: FileKeyStore): Promise<DekRecord[]> {
  const out: DekRecord[] = [];
  for await (const r of store.list()) out.push(r);
  return out;
}

describe('FileKeyStore on disk', () => {
  it('records survive a new instance on the same directory', async () => {
    const directory = freshDir();
    const a = makeRecord({ name: 'durable' });
    const b = makeRecord();
    await new FileKeyStore({ directory }).createIfAbsent(a);
    await new FileKeyStore({ directory }).createIfAbsent(b);
    await new FileKeyStore({ directory }).updateWrappedDeks(b.keyRef, [wrapped()], 1);
    const reopened = new FileKeyStore({ directory });
    expect(await reopened.getByName('durable')).toEqual(a);
    expect((await reopened.get(b.keyRef))?.revision).toBe(2);
    expect(await listAll(reopened)).toHaveLength(2);
  });

  it.runIf(posix)('creates the directory 0700 and every file 0600', async () => {
    const directory = freshDir();
    const store = new FileKeyStore({ directory });
    const record = makeRecord({ name: 'modes' });
    await store.createIfAbsent(record);
    await store.updateWrappedDeks(record.keyRef, [wrapped()], 1);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    const files = await readdir(directory);
    expect(files).toHaveLength(2); // the record and its name file; no temp or lock left
    for (const f of files) expect((await stat(join(directory, f))).mode & 0o777).toBe(0o600);
  });

  it('stores wrapped keys as raw binary (no base64)', async () => {
    const directory = freshDir();
    const record = makeRecord();
    await new FileKeyStore({ directory }).createIfAbsent(record);
    const file = await readFile(join(directory, `${record.keyRef}.dek`));
    for (const w of record.wrappedDeks) expect(file.indexOf(Buffer.from(w.bytes))).toBeGreaterThan(0);
  });

  it('turns a corrupt record into a KeyStoreError naming the keyRef', async () => {
    const directory = freshDir();
    const store = new FileKeyStore({ directory });
    const good = makeRecord();
    await store.createIfAbsent(good);
    const write = (keyRef: string, bytes: Uint8Array | string) => writeFile(join(directory, `${keyRef}.dek`), bytes);
    const { wrappedDeks: _, ...fields } = good;
    const cases: Array<Uint8Array | string> = [
      Buffer.from([0xc1, 0xff, 0x00]), // not MessagePack
      Buffer.alloc(0),
      pack([1, 2, 3]),
      pack({ ...fields, v: 1 }), // wrappedDeks missing
      pack({ ...good, v: 1, revision: 1.5 }),
      pack({ ...good, v: 1, kind: 'cbc' }),
      pack({ ...good, v: 1, createdAt: '2024-01-01' }),
      pack({ ...good, v: 1, wrappedDeks: [] }),
      pack({ ...good, v: 1, wrappedDeks: [{ kekId: 'k', alg: 'A256KW', bytes: 'AAAA' }] }),
      pack({ ...good, v: 1, wrappedDeks: [{ kekId: 'k', alg: 'A256KW', bytes: Buffer.alloc(5000) }] }),
      pack({ ...good, v: 1, keyRef: 'ffffffffffffffff' }), // does not match its file name
      pack({ ...good, v: 2 }),
      Buffer.alloc(300 * 1024, 0x90), // over the size bound
    ];
    for (const bytes of cases) {
      await write(good.keyRef, bytes);
      const err = await store.get(good.keyRef).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect((err as Error).message).toContain(good.keyRef);
      await expect(listAll(store)).rejects.toBeInstanceOf(KeyStoreError);
      await expect(store.updateWrappedDeks(good.keyRef, [wrapped()], 1)).rejects.toBeInstanceOf(KeyStoreError);
    }
  });

  it('turns a corrupt name index into a KeyStoreError', async () => {
    const directory = freshDir();
    const store = new FileKeyStore({ directory });
    await store.createIfAbsent(makeRecord({ name: 'idx' }));
    const nameFile = (await readdir(directory)).find((f) => f.startsWith('name-'))!;
    await writeFile(join(directory, nameFile), 'not a keyRef\n');
    await expect(store.getByName('idx')).rejects.toBeInstanceOf(KeyStoreError);
    await writeFile(join(directory, nameFile), '0123456789abcdef\n'); // dangling
    await expect(store.getByName('idx')).rejects.toBeInstanceOf(KeyStoreError);
  });

  it('ignores leftovers of a crash: temp files, broken-lock files, stray files', async () => {
    const directory = freshDir();
    const store = new FileKeyStore({ directory });
    const record = makeRecord();
    await store.createIfAbsent(record);
    await writeFile(join(directory, '.tmp-4242-00112233445566778899aabb'), Buffer.from([0xc1, 0xc1]));
    await writeFile(join(directory, '.tmp-4243-ffeeddccbbaa998877665544'), encodeRecord(makeRecord()));
    await writeFile(join(directory, `${record.keyRef}.lock.stale-0011223344556677`), 'x');
    await writeFile(join(directory, 'README'), 'hello');
    expect(await listAll(store)).toEqual([record]);
    expect(await store.get(record.keyRef)).toEqual(record);
  });

  it('hides a named record whose name file was never written (crash between the two links)', async () => {
    const directory = freshDir();
    const store = new FileKeyStore({ directory });
    await store.createIfAbsent(makeRecord()); // creates the directory
    const orphan = makeRecord({ name: 'half-made' });
    await writeFile(join(directory, `${orphan.keyRef}.dek`), encodeRecord(orphan), { mode: 0o600 });
    expect(await store.get(orphan.keyRef)).toBeUndefined();
    expect(await store.getByName('half-made')).toBeUndefined();
    expect(await listAll(store)).toHaveLength(1);
    const fresh = makeRecord({ name: 'half-made' });
    expect(await store.createIfAbsent(fresh)).toEqual({ record: fresh, created: true });
    expect(await store.getByName('half-made')).toEqual(fresh);
  });

  it('an abort at any step leaves either the committed record or nothing (no orphan, no temp)', async () => {
    const directory = freshDir();
    const store = new FileKeyStore({ directory });
    await store.createIfAbsent(makeRecord()); // the directory exists from here on
    let outcomes = 0;
    // Abort after 0, 1, 2, … ms until both outcomes were seen (fsync makes a create take ms).
    for (let delayMs = 0; delayMs < 400 && (outcomes !== 3 || delayMs < 20); delayMs++) {
      const controller = new AbortController();
      const record = makeRecord({ name: `abort-${delayMs}` });
      const op = store.createIfAbsent(record, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('abort')), delayMs);
      const result = await op.then(() => 'created', (e: unknown) => e);
      const named = await store.getByName(record.name!);
      const files = await readdir(directory);
      expect(files.filter((f) => f.startsWith('.tmp-'))).toEqual([]);
      if (result === 'created') {
        outcomes |= 1;
        expect(named).toEqual(record);
      } else {
        outcomes |= 2;
        expect((result as Error).message).toBe('abort');
        expect(named).toBeUndefined();
        expect(files).not.toContain(`${record.keyRef}.dek`);
      }
    }
    expect(outcomes).toBe(3); // both outcomes were exercised
  });

  it('breaks a stale lock and times out on a live one', async () => {
    const directory = freshDir();
    const store = new FileKeyStore({ directory, lockTimeoutMs: 150 });
    const record = makeRecord();
    await store.createIfAbsent(record);
    const lock = join(directory, `${record.keyRef}.lock`);
    await writeFile(lock, '99999\n');
    const err = await store.updateWrappedDeks(record.keyRef, [wrapped()], 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyStoreError);
    expect((err as Error).message).toMatch(/locked/);
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    expect((await store.updateWrappedDeks(record.keyRef, [wrapped()], 1)).revision).toBe(2);
    expect((await readdir(directory)).filter((f) => f.includes('.lock'))).toEqual([]);
  });

  it('wraps I/O failures in KeyStoreError with the system error as cause', async () => {
    const file = join(root, `not-a-dir-${n++}`);
    await writeFile(file, 'x');
    const store = new FileKeyStore({ directory: file });
    for (const op of [() => store.createIfAbsent(makeRecord()), () => store.get('0123456789abcdef')]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect((err as Error).cause).toMatchObject({ code: expect.stringMatching(/^E/) });
    }
  });

  it('validates its options', () => {
    expect(() => new FileKeyStore({ directory: '' })).toThrow(RangeError);
    expect(() => new FileKeyStore(undefined as never)).toThrow(TypeError);
    expect(() => new FileKeyStore({ directory: 'x', lockStaleMs: 0 })).toThrow(RangeError);
  });
});

describe('FileKeyStore across processes', () => {
  let bundle: string;
  let child: string;
  beforeAll(async () => {
    bundle = join(root, 'file-store.mjs');
    buildSync({ entryPoints: ['src/store/file.ts'], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error' });
    child = join(root, 'child.mjs');
    await writeFile(child, CHILD_SCRIPT);
  });

  /** Forks `count` children, releases them together, and collects what each reports. */
  async function race(count: number, args: string[]): Promise<unknown[][]> {
    const procs = Array.from({ length: count }, () => fork(child, [bundle, ...args], { execArgv: [], stdio: 'inherit' }));
    try {
      const ready = procs.map((p) => new Promise<void>((resolve, reject) => {
        p.once('message', () => resolve());
        p.once('error', reject);
        p.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      }));
      await Promise.all(ready);
      const results = procs.map((p) => new Promise<unknown[]>((resolve, reject) => {
        p.once('message', (m) => resolve(m as unknown[]));
        p.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`child exited with ${code}`))));
      }));
      for (const p of procs) p.send('go');
      return await Promise.all(results);
    } finally {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill(); // only on failure
    }
  }

  it('4 processes racing createIfAbsent on the same names agree, one creator per name', async () => {
    const directory = freshDir();
    const names = Array.from({ length: 8 }, (_, i) => `shared-${i}`);
    const reports = (await race(4, [directory, 'create', ...names])) as Array<Array<{ keyRef: string; created: boolean }>>;
    const store = new FileKeyStore({ directory });
    for (let i = 0; i < names.length; i++) {
      const perName = reports.map((r) => r[i]!);
      expect(new Set(perName.map((r) => r.keyRef)).size).toBe(1);
      expect(perName.filter((r) => r.created)).toHaveLength(1);
      expect((await store.getByName(names[i]!))?.keyRef).toBe(perName[0]!.keyRef);
    }
    expect(await listAll(store)).toHaveLength(names.length); // losers removed their records
    expect((await readdir(directory)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('4 processes doing compare-and-swap increments lose no update', async () => {
    const directory = freshDir();
    const record = makeRecord();
    await new FileKeyStore({ directory }).createIfAbsent(record);
    const reports = await race(4, [directory, 'increment', record.keyRef, '15']);
    expect(reports.flat()).toEqual(Array(60).fill('ok'));
    expect((await new FileKeyStore({ directory }).get(record.keyRef))?.revision).toBe(61);
  });
});

const CHILD_SCRIPT = `
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
const [bundle, directory, mode, ...rest] = process.argv.slice(2);
const { FileKeyStore } = await import(pathToFileURL(bundle).href);
const store = new FileKeyStore({ directory, lockTimeoutMs: 20000 });
const wrapped = () => [{ kekId: 'child-' + process.pid, alg: 'A256KW', bytes: randomBytes(40) }];
process.once('message', async () => {
  const out = [];
  if (mode === 'create') {
    for (const name of rest) {
      const keyRef = randomBytes(8).toString('hex');
      const r = await store.createIfAbsent({ keyRef, kind: 'siv', name, createdAt: Date.now(), revision: 1, wrappedDeks: wrapped() });
      out.push({ keyRef: r.record.keyRef, created: r.created });
    }
  } else {
    const [keyRef, count] = rest;
    for (let i = 0; i < Number(count); i++) {
      for (;;) {
        const current = await store.get(keyRef);
        try {
          await store.updateWrappedDeks(keyRef, wrapped(), current.revision);
          out.push('ok');
          break;
        } catch (err) {
          if (!/revision conflict/.test(err.message)) throw err;
        }
      }
    }
  }
  process.send(out, () => process.exit(0));
});
process.send('ready');
`;
