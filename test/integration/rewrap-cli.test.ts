/**
 * `kv-envelope rewrap --jsonl IN -o OUT`, the built CLI, interrupted. The adversary is the
 * operator's world: SIGKILL at random points (an OOM kill, a node drained), Ctrl-C, a rerun.
 * Before this, the command kept every output line in memory and wrote OUT once at the end
 * while its checkpoint advanced during the run: after a kill and a rerun OUT lacked every
 * record done before the kill (and every line already under the key), with exit 0.
 *
 * Here: IN holds N items (a few distinct DEKs, ids in order). The CLI is killed with SIGKILL
 * twice at random points (when its partial output passes a random fraction of IN's size),
 * interrupted once with SIGINT (it must say how to resume, exit 130), then rerun to the end.
 * Afterwards OUT holds every item, in order, each decrypting to its plaintext under the new key
 * version; at every stop the saved state never counts more than what is in the partial output.
 * Memory: peak RSS (the process's own `maxRSS`, not a timing) of a run over 10x more input
 * grows by far less than the input: lines are streamed, never collected. And every run ends
 * with a verification pass whose count (items still under other versions) is in the summary.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVault } from '../../src/cli/vault-context.js';
import { HOST_TAG } from '../../src/store/internal/file-io.js';
import { EnvelopeClient } from '../../src/index.js';
import { splitEnvelope } from '../helpers/rewrap.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const N = 30_000;
const DISTINCT = 6;

let dir: string;
let home: string;
let preload: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kv-envelope-rewrap-jsonl-'));
  home = join(dir, '.kv-envelope');
  preload = join(dir, 'max-rss.mjs');
  // Reports the process's own peak resident set size (KiB) to a file when it exits.
  writeFileSync(preload, "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { if (process.env.MAX_RSS_FILE) writeFileSync(process.env.MAX_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI. With `stopAt`, sends `stopWith` once the partial output file holds at least
 * `stopAt` bytes (polled every 5 ms).
 */
function run(args: string[], stop?: { at: number; with: NodeJS.Signals }, env: Record<string, string> = {}): Promise<Exit & { stopped: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', preload, CLI, ...args], {
      cwd: dir, env: { ...process.env, KV_ENVELOPE_HOME: home, AZURE_KEYVAULT_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    let stopped = false;
    const timer = stop && setInterval(() => {
      const partial = readdirSync(dir).find((n) => n.endsWith('.rewrap-partial'));
      const size = partial === undefined ? 0 : statSync(join(dir, partial), { throwIfNoEntry: false })?.size ?? 0;
      if (size >= stop.at && !stopped) stopped = child.kill(stop.with);
    }, 5);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr, stopped });
    });
  });
}

/** IN: `n` items over DISTINCT envelopes (one DEK each) under the current version of `kek`. */
async function writeInput(path: string, n: number, payloadBytes: number): Promise<{ plaintexts: string[] }> {
  const vault = await openVault({ home });
  try {
    await ensureKey(vault, 'kek');
    const client = new EnvelopeClient({ keks: vault.kek('kek'), cache: false });
    const plaintexts: string[] = [];
    const envelopes: string[] = [];
    for (let j = 0; j < DISTINCT; j++) {
      plaintexts.push(`payload ${j} `.padEnd(payloadBytes, String(j)));
      envelopes.push(Buffer.from(await client.encrypt(new TextEncoder().encode(plaintexts[j]!))).toString('base64'));
    }
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ id: `row-${String(i).padStart(7, '0')}`, envelope: envelopes[i % DISTINCT], meta: i }));
    writeFileSync(path, `${lines.join('\n')}\n`);
    return { plaintexts };
  } finally {
    await vault.close();
  }
}

/** Creates the key unless it exists (each test can run alone). */
async function ensureKey(vault: Awaited<ReturnType<typeof openVault>>, name: string): Promise<void> {
  for await (const k of vault.keyClient.listPropertiesOfKeys()) if (k.name === name) return;
  await vault.keyClient.createRsaKey(name);
}

async function rotate(): Promise<string> {
  const vault = await openVault({ home });
  try {
    return (await vault.keyClient.rotateKey('kek')).id!;
  } finally {
    await vault.close();
  }
}

interface State {
  items: number;
  bytes: number;
  partial: string;
}

describe('kv-envelope rewrap: killed, interrupted, rerun, verified', { timeout: 600_000 }, () => {
  it(`${N.toLocaleString('en')} lines: two SIGKILLs and a Ctrl-C at random points, then a rerun: OUT has every line, in order, and each decrypts`, async () => {
    const input = join(dir, 'in.jsonl');
    const { plaintexts } = await writeInput(input, N, 64);
    const newKid = await rotate();
    const inputSize = statSync(input).size;
    const statePath = join(dir, 'job.state.json');
    const args = ['rewrap', '--key', 'kek', '--jsonl', 'in.jsonl', '-o', 'out.jsonl', '--checkpoint', statePath];

    const fractions = [0.1 + Math.random() * 0.25, 0.4 + Math.random() * 0.2, 0.65 + Math.random() * 0.2];
    let previous = 0;
    for (const [round, fraction] of fractions.entries()) {
      const signal = round < 2 ? 'SIGKILL' : 'SIGINT';
      const r = await run(args, { at: Math.floor(inputSize * fraction), with: signal });
      expect(r.stopped, `round ${round}: the run ended before ${signal}`).toBe(true);
      if (signal === 'SIGKILL') expect(r.signal).toBe('SIGKILL');
      else {
        expect(r.code, r.stderr).toBe(130);
        expect(r.stderr).toMatch(/interrupted: progress is saved in .*job\.state\.json/);
        expect(r.stderr).toContain(`run the same command again to resume:\n  kv-envelope ${args.join(' ')}`);
      }
      expect(readdirSync(dir)).not.toContain('out.jsonl'); // OUT appears only when complete
      // The state never counts a line the partial output could have lost.
      const state = JSON.parse(readFileSync(statePath, 'utf8')) as State;
      const partial = readFileSync(state.partial);
      expect(partial.length).toBeGreaterThanOrEqual(state.bytes);
      const durable = partial.subarray(0, state.bytes).toString('utf8').split('\n').slice(0, -1);
      expect(durable).toHaveLength(state.items);
      expect(durable.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(Array.from({ length: state.items }, (_, i) => `row-${String(i).padStart(7, '0')}`));
      expect(state.items).toBeGreaterThanOrEqual(previous);
      console.log(`${signal} at ${(fraction * 100).toFixed(0)}% of IN's size: state at item ${state.items} (${state.bytes} bytes durable of ${partial.length} written)`);
      previous = state.items;
    }

    const last = await run([...args, '--json']);
    expect(last.code, last.stderr).toBe(0);
    const summary = (JSON.parse(last.stderr.trim().split('\n').at(-1)!) as { summary: { resumed: number; rewrapped: number; remaining: number; verification: { checked: number; remaining: number } } }).summary;
    expect(summary.resumed).toBe(previous);
    expect(summary.rewrapped).toBe(N - previous);
    expect(summary.verification).toMatchObject({ checked: N, remaining: 0 });
    expect(readdirSync(dir).filter((n) => n.endsWith('.rewrap-partial') || n === 'job.state.json')).toEqual([]);

    const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').split('\n');
    expect(out.pop()).toBe('');
    expect(out).toHaveLength(N);
    const vault = await openVault({ home });
    try {
      const reader = new EnvelopeClient({ keks: vault.kek('kek') });
      const opened = new Map<string, string>();
      for (const [i, line] of out.entries()) {
        const record = JSON.parse(line) as { id: string; envelope: string; meta: number };
        expect(record.id).toBe(`row-${String(i).padStart(7, '0')}`);
        expect(record.meta).toBe(i); // other fields of the line are kept
        let plaintext = opened.get(record.envelope);
        if (plaintext === undefined) {
          const envelope = Buffer.from(record.envelope, 'base64');
          expect(splitEnvelope(envelope).wrappedKeys.map((w) => w.kekId)).toEqual([newKid]);
          plaintext = new TextDecoder().decode((await reader.decrypt(envelope)).plaintext);
          opened.set(record.envelope, plaintext);
        }
        expect(plaintext).toBe(plaintexts[i % DISTINCT]);
      }
      console.log(`OUT: ${out.length} lines in order, ${opened.size} distinct envelopes (re-wrapped once per DEK per run), all decrypt`);
    } finally {
      await vault.close();
    }
  });

  it('IN changed after a kill: the rerun says so, starts over from an empty partial output, and OUT matches the new IN', async () => {
    const input = join(dir, 'changing.jsonl');
    await writeInput(input, 20_000, 64);
    await rotate();
    const statePath = join(dir, 'changing.state.json');
    const args = ['rewrap', '--key', 'kek', '--jsonl', 'changing.jsonl', '-o', 'changing.out', '--checkpoint', statePath];
    const killed = await run(args, { at: Math.floor(statSync(input).size * (0.3 + Math.random() * 0.3)), with: 'SIGKILL' });
    expect(killed.stopped).toBe(true);
    expect((JSON.parse(readFileSync(statePath, 'utf8')) as State).items).toBeGreaterThan(0);
    // Another writer rewrites IN: its first record moves to the end.
    const lines = readFileSync(input, 'utf8').split('\n').slice(0, -1);
    writeFileSync(input, `${[...lines.slice(1), lines[0]].join('\n')}\n`);
    const rerun = await run(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('starting over: changing.jsonl changed since the interrupted run');
    const out = readFileSync(join(dir, 'changing.out'), 'utf8').split('\n').slice(0, -1);
    expect(out.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([...lines.slice(1), lines[0]].map((l) => (JSON.parse(l!) as { id: string }).id));
    expect(readdirSync(dir).filter((n) => n.endsWith('.rewrap-partial'))).toEqual([]);
  });

  it('memory stays flat: peak RSS over 10x the input grows by a fraction of the input size', async () => {
    const small = join(dir, 'small.jsonl');
    const large = join(dir, 'large.jsonl');
    await writeInput(small, 8_000, 2048);
    await writeInput(large, 80_000, 2048);
    await rotate();
    const peak = async (inputName: string): Promise<number> => {
      const rssFile = join(dir, `${inputName}.rss`);
      const r = await run(['rewrap', '--key', 'kek', '--jsonl', inputName, '-o', `${inputName}.out`], undefined, { MAX_RSS_FILE: rssFile });
      expect(r.code, r.stderr).toBe(0);
      return Number(readFileSync(rssFile, 'utf8')) / 1024; // MiB
    };
    const smallMiB = await peak('small.jsonl');
    const largeMiB = await peak('large.jsonl');
    const inputGrowthMiB = (statSync(large).size - statSync(small).size) / 2 ** 20;
    console.log(`peak RSS: ${smallMiB.toFixed(0)} MiB for ${(statSync(small).size / 2 ** 20).toFixed(0)} MiB in, ${largeMiB.toFixed(0)} MiB for ${(statSync(large).size / 2 ** 20).toFixed(0)} MiB in`);
    expect(readFileSync(join(dir, 'large.jsonl.out')).length).toBeGreaterThan(statSync(large).size * 0.9);
    // Collecting the output (the old behaviour) adds at least the input growth; streaming adds ~nothing.
    expect(largeMiB - smallMiB).toBeLessThan(inputGrowthMiB / 2);
  });

  it('files: the summary counts what is still under other versions (exit 1), and 0 once everything moved; abandoned temp files go', async () => {
    const files = join(dir, 'files');
    mkdirSync(files);
    const vault = await openVault({ home });
    let otherKid: string;
    try {
      await ensureKey(vault, 'kek');
      otherKid = (await vault.keyClient.createRsaKey('other')).id!;
      for (const [i, key] of ['kek', 'kek', 'kek', 'other'].entries()) {
        const client = new EnvelopeClient({ keks: vault.kek(key), cache: false });
        writeFileSync(join(files, `f${i}.kve`), await client.encrypt(new TextEncoder().encode(`file ${i}`)));
      }
    } finally {
      await vault.close();
    }
    await rotate();
    // A run SIGKILLed between temp file and rename left this (its pid is gone); a live writer's stays.
    // (The sweep is the store's: the first temp file written in a directory removes these.)
    const abandoned = `.tmp-${HOST_TAG}-2147483646-${'ab'.repeat(12)}`;
    const live = `.tmp-${HOST_TAG}-${process.pid}-${'cd'.repeat(12)}`;
    for (const name of [abandoned, live]) writeFileSync(join(files, name), 'partial');
    const partly = await run(['rewrap', '--key', 'kek', 'files', '--json']);
    expect(readdirSync(files).filter((n) => n.startsWith('.tmp-'))).toEqual([live]);
    expect(partly.code).toBe(1);
    const summary = (JSON.parse(partly.stderr.trim().split('\n').at(-1)!) as { summary: Record<string, unknown> }).summary;
    expect(summary).toMatchObject({ rewrapped: 3, failed: 1, changed: 0, remaining: 1, verification: { checked: 4, current: 3, remaining: 1, byKekId: { [otherKid]: 1 } } });
    const human = await run(['rewrap', '--key', 'kek', 'files']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/re-wrapped 0, skipped 3 \(already current\), failed 1/);
    expect(human.stdout).toContain(`verified: 1 of 4 item(s) still need an older key version or are unreadable: ${otherKid} (1); keep those versions enabled and rerun`);
    const done = await run(['rewrap', '--key', 'kek', '--from', 'other', 'files']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/re-wrapped 1, skipped 3/);
    expect(done.stdout).toContain('verified: all 4 item(s) are under the latest key version; older versions can be disabled');
  });
});
