/**
 * Kill -9 and resume. A child process (an esbuild bundle of src/rewrap, since Node 20 cannot
 * run .ts) re-wraps 10,000 envelope files in a directory, the way the CLI will: a sorted
 * listing as the source, each result written to a temp file and renamed over the original
 * before the next result is pulled, a file checkpoint every 250 items. It is killed with
 * SIGKILL at random points (at the progress line where a random item count is passed), twice,
 * then run to the end. Afterwards every file is re-wrapped (names the new KEK version) and decrypts with
 * the new KEK alone; none is lost or corrupt; at each kill the re-wrapped files are exactly a
 * prefix of the listing that covers the checkpoint; and each rerun re-does at most
 * `everyItems + concurrency` items (re-done items are skipped as already current).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeClient, LocalAesKek } from '../../src/index.js';
import { FileCheckpoint } from '../../src/rewrap/index.js';
import { splitEnvelope, str, text } from '../helpers/rewrap.js';

const FILES = 10_000;
const EVERY_ITEMS = 250;
const CONCURRENCY = 8;
const OLD_ID = 'local/kek/v1';
const NEW_ID = 'local/kek/v2';

let root: string;
let bundle: string;
let child: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kv-envelope-rewrap-kill-'));
  bundle = join(root, 'rewrap.mjs');
  buildSync({
    stdin: { contents: "export { rewrapEnvelopes } from './src/rewrap/index.ts'; export { LocalAesKek } from './src/index.ts';", resolveDir: process.cwd(), loader: 'ts' },
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error',
  });
  child = join(root, 'child.mjs');
  await writeFile(child, CHILD_SCRIPT);
});
afterAll(() => rm(root, { recursive: true, force: true }));

interface RunOutcome {
  killed: boolean;
  progressLines: number;
  summary?: { rewrapped: number; skipped: number; failed: number; resumed: number };
}

/** Runs the child; with `killAt`, SIGKILLs it at the first progress line past that many items (resumed included). */
function runChild(args: string[], killAt?: number): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, bundle, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const outcome: RunOutcome = { killed: false, progressLines: 0 };
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (line.startsWith('progress ')) {
        outcome.progressLines++;
        const p = JSON.parse(line.slice(9)) as { done: number; resumed: number };
        if (killAt !== undefined && p.done + p.resumed >= killAt && !outcome.killed) outcome.killed = proc.kill('SIGKILL');
      } else if (line.startsWith('summary ')) outcome.summary = JSON.parse(line.slice(8));
    });
    proc.once('error', reject);
    proc.once('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(outcome);
      else reject(new Error(`child exited with ${code ?? signal}`));
    });
  });
}

describe('rewrapEnvelopes: killed and resumed', () => {
  it(`${FILES.toLocaleString('en')} envelope files: two SIGKILLs, then a full run; nothing lost, bounded re-work`, async () => {
    const dir = join(root, 'envelopes');
    await mkdir(dir);
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const writer = new EnvelopeClient({ keks: new LocalAesKek({ id: OLD_ID, key: oldKey }), cache: { maxMessages: 100 } });
    const names: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const name = `env-${String(i).padStart(5, '0')}.bin`;
      names.push(name);
      await writeFile(join(dir, name), await writer.encrypt(text(`item ${i}`)));
    }
    const checkpointPath = join(root, 'state', 'rewrap.json');
    const args = [dir, checkpointPath, oldKey.toString('hex'), newKey.toString('hex'), String(EVERY_ITEMS), String(CONCURRENCY)];

    /** How many files (a prefix of the listing, checked) already name the new KEK. */
    async function rewrappedPrefix(): Promise<number> {
      const flags = await Promise.all(names.map(async (n) => splitEnvelope(await readFile(join(dir, n))).wrappedKeys[0]!.kekId === NEW_ID));
      const count = flags.filter(Boolean).length;
      expect(flags.slice(0, count).every(Boolean)).toBe(true); // results are written in source order
      return count;
    }

    let previousPosition = 0;
    // Random kill points: one in each half of the listing, past the first checkpoint.
    const killPoints = [EVERY_ITEMS + Math.floor(Math.random() * 4000), 5000 + Math.floor(Math.random() * 4000)];
    for (const [round, killAt] of killPoints.entries()) {
      const outcome = await runChild(args, killAt);
      expect(outcome.killed, `round ${round}: the child finished before item ${killAt}`).toBe(true);
      const state = await new FileCheckpoint(checkpointPath).load();
      const position = state?.position ?? 0;
      const done = await rewrappedPrefix();
      // Everything the checkpoint calls done is on disk; at most one interval (+ the window) more is.
      expect(position).toBeGreaterThanOrEqual(previousPosition);
      expect(done).toBeGreaterThanOrEqual(position);
      expect(done - position).toBeLessThanOrEqual(EVERY_ITEMS + CONCURRENCY);
      if (state !== undefined) expect(state.lastId).toBe(names[position - 1]);
      console.log(`kill ${round + 1} at item ~${killAt} (progress line ${outcome.progressLines}): checkpoint at ${position}, ${done} files re-wrapped on disk`);
      previousPosition = position;
    }

    const finalRun = await runChild(args);
    const summary = finalRun.summary!;
    console.log(`final run: ${JSON.stringify(summary)} (skipped = items re-done after the last kill)`);
    expect(summary.failed).toBe(0);
    expect(summary.resumed).toBe(previousPosition);
    expect(summary.rewrapped + summary.skipped).toBe(FILES - previousPosition);
    expect(summary.skipped).toBeLessThanOrEqual(EVERY_ITEMS + CONCURRENCY); // re-done items
    expect(await new FileCheckpoint(checkpointPath).load()).toMatchObject({ complete: true, position: FILES });

    const reader = new EnvelopeClient({ keks: new LocalAesKek({ id: NEW_ID, key: newKey }) });
    const listed = (await readdir(dir)).filter((n) => n.endsWith('.bin')).sort();
    expect(listed).toEqual(names);
    for (const [i, name] of names.entries()) {
      const envelope = await readFile(join(dir, name));
      expect(splitEnvelope(envelope).wrappedKeys.map((w) => w.kekId)).toEqual([NEW_ID]);
      expect(str((await reader.decrypt(envelope)).plaintext)).toBe(`item ${i}`);
    }
  }, 300_000);
});

/** The child: what `kv-envelope rewrap <dir>` will do, minus argument parsing. */
const CHILD_SCRIPT = `
import { open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [bundle, dir, checkpoint, oldHex, newHex, everyItems, concurrency] = process.argv.slice(2);
const { rewrapEnvelopes, LocalAesKek } = await import(pathToFileURL(bundle).href);
const oldKek = new LocalAesKek({ id: '${OLD_ID}', key: Buffer.from(oldHex, 'hex') });
const newKek = new LocalAesKek({ id: '${NEW_ID}', key: Buffer.from(newHex, 'hex') });
const names = (await readdir(dir)).filter((n) => n.endsWith('.bin')).sort();
async function* source() {
  for (const name of names) yield { id: name, envelope: await readFile(join(dir, name)) };
}
let resumed = 0;
const counts = { rewrapped: 0, skipped: 0, failed: 0 };
const results = rewrapEnvelopes(source(), {
  to: [newKek], from: [oldKek, newKek], concurrency: Number(concurrency), total: names.length,
  checkpoint: { path: checkpoint, everyItems: Number(everyItems) },
  progressIntervalMs: 5,
  onProgress: (p) => { resumed = p.resumed; process.stdout.write('progress ' + JSON.stringify(p) + '\\n'); },
});
for await (const r of results) {
  if (r.status === 'rewrapped') {
    // Durable before the next pull: temp file, fsync, rename over the original.
    const temp = join(dir, '.' + r.id + '.' + process.pid + '.tmp');
    const handle = await open(temp, 'w', 0o600);
    await handle.writeFile(r.envelope);
    await handle.sync();
    await handle.close();
    await rename(temp, join(dir, r.id));
  }
  counts[r.status]++;
  if (r.status === 'failed') process.stdout.write('failed ' + r.id + ' ' + r.error.code + '\\n');
}
process.stdout.write('summary ' + JSON.stringify({ ...counts, resumed }) + '\\n');
`;
