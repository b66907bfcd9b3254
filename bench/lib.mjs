// Shared helpers of the bench scripts: environment info, loading the built package, the
// interleaved-rounds engine of run.mjs (runRounds), batched tinybench tasks (runCase), statistics
// and formatting. No contestant lives here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Bench } from 'tinybench';

export const DIST_ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** The built package (../dist/index.js), or exit with a hint when it has not been built. */
export async function loadBuiltPackage() {
  if (!existsSync(DIST_ENTRY)) {
    console.error(`bench: ${DIST_ENTRY} not found. Run \`npm run build\` in the repository root first (npm run bench does).`);
    process.exit(2);
  }
  return import(new URL('../dist/index.js', import.meta.url).href);
}

/**
 * One source module of the repository (e.g. `src/aead/siv.ts`), bundled on the fly with the
 * repository's esbuild (a devDependency), for contestants the package does not export. Returns
 * undefined when esbuild is not installed (the caller then skips that contestant and says so).
 */
export async function loadSourceModule(relativePath) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  let esbuild;
  try {
    esbuild = createRequire(path.join(root, 'package.json'))('esbuild');
  } catch {
    return undefined;
  }
  const outfile = path.join(os.tmpdir(), `kv-envelope-bench-${process.pid}-${path.basename(relativePath, '.ts')}.mjs`);
  await esbuild.build({ entryPoints: [path.join(root, relativePath)], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'silent' });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}

/** The installed version of `name` in `nodeModules` (read directly: not every package exports ./package.json). */
function versionOf(name, nodeModules = new URL('./node_modules/', import.meta.url)) {
  try {
    return JSON.parse(readFileSync(new URL(`${name}/package.json`, nodeModules), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** The commit measured (dist/ is built from the working tree, so `dirty` matters too). */
function gitState() {
  try {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const opts = { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] };
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], opts).trim() !== '';
    return { commit, srcDirty: dirty };
  } catch {
    return { commit: 'unknown', srcDirty: undefined };
  }
}

/** Above this many cores used by other processes, a measurement is flagged as contended. */
export const CONTENDED_CORES = 0.2;

export function fmtCores(x) {
  return x === undefined ? 'unknown' : `${x.toFixed(2)} cores`;
}

/** Host and library versions, printed and stored with every result; samples other CPU use for 1 s. */
export async function environment() {
  const a = cpuSnapshot();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const otherCoresAtStart = otherCores(a, cpuSnapshot());
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    otherCoresAtStart,
    versions: {
      'kv-envelope': JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
      tinybench: versionOf('tinybench'),
      '@noble/ciphers (bench)': versionOf('@noble/ciphers'),
      '@noble/ciphers (kv-envelope)': versionOf('@noble/ciphers', new URL('../node_modules/', import.meta.url)),
      '@aws-crypto/client-node': versionOf('@aws-crypto/client-node'),
    },
    git: gitState(),
    date: new Date().toISOString(),
  };
}

export function printEnvironment(env, settings) {
  console.log(`node ${env.node} (V8 ${env.v8}, OpenSSL ${env.openssl}) · ${env.platform}`);
  console.log(`CPU: ${env.cpu} · ${env.cores} cores (availableParallelism ${env.availableParallelism}) · ${env.totalMemGiB} GiB RAM`);
  console.log(`load average at start: ${env.loadAverageAtStart.join(' ')}; CPU used by other processes at start: ${fmtCores(env.otherCoresAtStart)}`);
  if (env.otherCoresAtStart > CONTENDED_CORES) console.log(`WARNING: other processes are using the CPU: expect noisy numbers and skewed ratios.`);
  console.log(`${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(' · ')} · commit ${env.git.commit}${env.git.srcDirty ? ' + uncommitted src/ changes' : ''}`);
  if (settings.sliceMs !== undefined) {
    console.log(`${settings.rounds} interleaved rounds per case (+${settings.warmupRounds} warm-up rounds discarded), ${settings.sliceMs} ms per contestant per round, ` +
      `rotated order; ${gcBetweenSlices() ? 'a full GC before every slice (--expose-gc)' : 'NO GC between slices (could not enable gc(): large-message ratios are less steady)'}; ` +
      'a round\'s rate is batch size / median batch time ("typical", robust to other processes) and calls / slice time ("mean"); ' +
      'ratios are the median of per-round ratios, with min–max');
    return;
  }
  console.log(`tinybench: ${settings.time} ms per task in ${settings.rounds ?? 1} interleaved round(s) (median round reported), ${settings.warmupTime} ms warm-up; ` +
    `each sample times a batch of calls sized to ~${settings.batchTargetMs} ms (per-call latency = batch time / batch size)`);
}

/**
 * Parses `--quick`, `--time=ms`, `--rounds=n`, `--warmup=ms`, `--slice=ms`, `--warmup-rounds=n`,
 * `--only=text` (cases whose title contains it), `--json=path`, `--no-json`. `quick` holds what `--quick` sets (by default: short tinybench runs).
 */
export function parseArgs(argv, defaults, quick = { time: 150, warmupTime: 50, iterations: 8 }) {
  const s = { ...defaults };
  let json;
  for (const a of argv) {
    if (a === '--quick') Object.assign(s, quick, { quick: true });
    else if (a.startsWith('--time=')) s.time = Number(a.slice(7));
    else if (a.startsWith('--rounds=')) s.rounds = Number(a.slice(9));
    else if (a.startsWith('--warmup=')) s.warmupTime = Number(a.slice(9));
    else if (a.startsWith('--slice=')) s.sliceMs = Number(a.slice(8));
    else if (a.startsWith('--warmup-rounds=')) s.warmupRounds = Number(a.slice(16));
    else if (a.startsWith('--only=')) s.only = a.slice(7);
    else if (a.startsWith('--json=')) json = a.slice(7);
    else if (a === '--no-json') json = null;
    else if (a === '--help' || a === '-h') {
      console.log('options: --quick (smoke run, numbers meaningless, no JSON unless --json) --time=ms --rounds=n --warmup=ms --slice=ms --warmup-rounds=n --only=text --json=path --no-json');
      process.exit(0);
    } else {
      console.error(`unknown option ${a} (--help lists them)`);
      process.exit(2);
    }
  }
  // A --quick run never overwrites the committed results unless asked to.
  if (json !== undefined) s.json = json ?? undefined;
  else if (s.quick) s.json = undefined;
  return s;
}

let sink; // keeps results alive so no call is optimised away
export function consume() {
  return sink;
}

/**
 * Calls `op` for ~`probeMs` and returns the batch size that makes one sample last about
 * `targetMs`: sub-microsecond timer overhead and the per-sample bookkeeping of tinybench then
 * stay far below 1% of what is measured.
 */
async function calibrateBatch(op, isAsync, targetMs, probeMs = 40) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < probeMs || n < 2) {
    sink = isAsync ? await op() : op();
    n++;
  }
  const perCall = (performance.now() - t0) / n;
  return Math.max(1, Math.min(8192, Math.round(targetMs / perCall)));
}

function timedTask(op, isAsync, batch) {
  if (isAsync) {
    return async () => {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) sink = await op();
      const dt = performance.now() - t0;
      return { overriddenDuration: dt / batch, overriddenIterationCost: dt };
    };
  }
  return () => {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) sink = op();
    const dt = performance.now() - t0;
    return { overriddenDuration: dt / batch, overriddenIterationCost: dt };
  };
}

/** System-wide CPU counters (Linux /proc/stat) and this process's CPU time, for {@link otherCores}. */
export function cpuSnapshot() {
  let busy;
  let total;
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
    total = user + nice + system + idle + iowait + irq + softirq + steal;
    busy = total - idle - iowait;
  } catch {
    // not Linux: no contention estimate
  }
  const u = process.cpuUsage();
  return { busy, total, ownUs: u.user + u.system, wallMs: performance.now() };
}

/**
 * CPU cores used by everything except this process (other processes, hypervisor steal) between
 * two snapshots, or undefined when unknown. On a 2-core box, anything above ~0.2 means the
 * numbers were taken while something else competed for the CPU.
 */
export function otherCores(a, b) {
  if (a.total === undefined || b.total === undefined || b.total === a.total) return undefined;
  const busyCores = ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length;
  const ownCores = (b.ownUs - a.ownUs) / 1000 / (b.wallMs - a.wallMs);
  return Math.max(0, busyCores - ownCores);
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Runs one case: `settings.rounds` rounds, each a tinybench Bench over every contestant in a
 * rotated order (round r starts with contestant r), `settings.time / rounds` ms per task per
 * round, warm-up in the first round only. Interleaving gives every contestant the same share of
 * whatever else the machine is doing; the reported figure of a contestant is its MEDIAN round,
 * so one disturbed round does not decide a ratio.
 * `contestants`: [{ name, op, async }]. Returns { rows, otherCores }; rows are per CALL.
 */
export async function runCase(settings, caseName, contestants, bytesPerOp) {
  const rounds = Math.max(1, settings.rounds ?? 1);
  const batches = new Map();
  for (const c of contestants) batches.set(c.name, await calibrateBatch(c.op, c.async, settings.batchTargetMs));
  const perRound = new Map(contestants.map((c) => [c.name, []]));
  const before = cpuSnapshot();
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      name: `${caseName} (round ${round + 1}/${rounds})`,
      time: settings.time / rounds,
      warmup: round === 0,
      warmupTime: settings.warmupTime,
      warmupIterations: 4,
      iterations: Math.max(3, Math.ceil(settings.iterations / rounds)),
      throws: true,
    });
    for (let i = 0; i < contestants.length; i++) {
      const c = contestants[(i + round) % contestants.length];
      bench.add(c.name, timedTask(c.op, c.async, batches.get(c.name)));
    }
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${caseName} / ${task.name}: ${r.state} ${r.error?.stack ?? ''}`);
      perRound.get(task.name).push(r.latency);
    }
  }
  const others = otherCores(before, cpuSnapshot());
  const rows = contestants.map((c) => {
    const rs = perRound.get(c.name);
    const mid = [...rs].sort((x, y) => x.mean - y.mean)[(rs.length - 1) >> 1];
    const opsPerSec = 1000 / mid.mean;
    const roundOps = rs.map((l) => 1000 / l.mean);
    return {
      name: c.name,
      opsPerSec,
      meanMs: mid.mean,
      p50Ms: mid.p50,
      p99Ms: mid.p99,
      rmePct: mid.rme,
      roundsOpsPerSec: roundOps,
      spreadPct: rs.length > 1 ? ((Math.max(...roundOps) - Math.min(...roundOps)) / median(roundOps)) * 100 : 0,
      samples: rs.reduce((n, l) => n + l.samplesCount, 0),
      batch: batches.get(c.name),
      mbPerSec: bytesPerOp === undefined ? undefined : (opsPerSec * bytesPerOp) / 1e6,
    };
  });
  return { rows, otherCores: others };
}

// ---------- interleaved rounds (run.mjs) ----------

/**
 * A full collection before each slice: node --expose-gc provides a global gc() (the npm scripts
 * pass it); started without the flag, it is switched on at run time (V8 then exposes gc() to new
 * contexts). Undefined if neither works: slices then run without a collection before them.
 */
let collector;
export function gcBetweenSlices() {
  if (collector !== undefined) return collector || undefined;
  collector = enableGc() ?? false;
  return collector || undefined;
}

function enableGc() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    return typeof gc === 'function' ? gc : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one case: `settings.warmupRounds` discarded rounds, then `settings.rounds` kept ones. A
 * round runs every contestant for `settings.sliceMs` in a rotated order (round r starts with
 * contestant r mod n), each slice after a full collection when gc() is available, so no
 * contestant pays for another's garbage (at 1 MiB that alone used to swing a ratio 2x).
 *
 * A slice is timed batch by batch (batches of ~`settings.batchTargetMs`) and yields two rates:
 * - `typical`: batch size / the MEDIAN batch time. When other processes take the CPU, the
 *   scheduler preempts this one for milliseconds at a time; that lands in a few batches and the
 *   median ignores them, where it would stretch the whole slice. Rare pauses of the contestant's
 *   own (a major GC) are ignored too, so compare `mean` when allocation matters.
 * - `mean`: all calls / the slice's wall-clock time, pauses and preemption included.
 * Contestants are compared round by round with {@link roundRatios}: both sides of a ratio ran
 * within the same few hundred ms, so a slow phase of the machine cancels out instead of deciding it.
 * `contestants`: [{ name, op, async }]. Returns { typical, mean: Map(name -> ops/s per kept round), otherCores }.
 */
export async function runRounds(settings, contestants) {
  const batches = new Map();
  for (const c of contestants) batches.set(c.name, await calibrateBatch(c.op, c.async, settings.batchTargetMs));
  const typical = new Map(contestants.map((c) => [c.name, []]));
  const mean = new Map(contestants.map((c) => [c.name, []]));
  const before = cpuSnapshot();
  const total = settings.warmupRounds + settings.rounds;
  const gc = gcBetweenSlices();
  for (let round = 0; round < total; round++) {
    for (let i = 0; i < contestants.length; i++) {
      const c = contestants[(i + round) % contestants.length];
      gc?.();
      const rates = await timeSlice(c, batches.get(c.name), settings.sliceMs);
      if (round < settings.warmupRounds) continue;
      typical.get(c.name).push(rates.typical);
      mean.get(c.name).push(rates.mean);
    }
  }
  return { typical, mean, otherCores: otherCores(before, cpuSnapshot()) };
}

/**
 * A median of fewer batches than this is one unlucky batch: a slice runs at least this many,
 * unless that takes over MAX_SLICE_FACTOR x `sliceMs` (one call of 1 MiB in pure JS or through
 * the AWS SDK lasts longer than a slice; those contestants are references, never a target's).
 */
const MIN_BATCHES = 7;
const MAX_SLICE_FACTOR = 4;

/** Calls `c.op` in batches of `batch` for `ms` (and MIN_BATCHES); returns { typical, mean } calls per second. */
async function timeSlice(c, batch, ms) {
  const times = [];
  let elapsed;
  const start = performance.now();
  do {
    const t0 = performance.now();
    if (c.async) for (let i = 0; i < batch; i++) sink = await c.op();
    else for (let i = 0; i < batch; i++) sink = c.op();
    const t1 = performance.now();
    times.push(t1 - t0);
    elapsed = t1 - start;
  } while (elapsed < ms || (times.length < MIN_BATCHES && elapsed < MAX_SLICE_FACTOR * ms));
  return { typical: (batch * 1000) / median(times), mean: (times.length * batch * 1000) / elapsed };
}

/** a / b for each round (both measured in that round). */
export function roundRatios(perRound, a, b) {
  const xs = perRound.get(a);
  const ys = perRound.get(b);
  return xs.map((x, i) => x / ys[i]);
}

/** Median, min, max and interquartile range of `xs`. */
export function summarize(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const at = (q) => {
    const pos = (s.length - 1) * q;
    const lo = Math.floor(pos);
    return s[lo] + (s[Math.ceil(pos)] - s[lo]) * (pos - lo);
  };
  return { median: at(0.5), min: s[0], max: s[s.length - 1], q1: at(0.25), q3: at(0.75), n: s.length };
}

// ---------- formatting ----------

export function fmtOps(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(2)}k`;
  return x.toFixed(1);
}

export function fmtTime(ms) {
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  if (ms >= 1e-3) return `${(ms * 1e3).toFixed(2)} µs`;
  return `${(ms * 1e6).toFixed(0)} ns`;
}

export function fmtMB(x) {
  if (x === undefined) return '–';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function fmtRatio(x) {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x >= 10 ? `${x.toFixed(1)}x` : `${x.toFixed(2)}x`;
}

export function fmtSize(n) {
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

/** A plain-text table: header row, rows of cells; column `align` 'l' or 'r'. */
export function textTable(header, rows, align) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (align[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(header, rows, align) {
  const sep = align.map((a) => (a === 'l' ? ':--' : '--:'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Throws unless `a` and `b` hold the same bytes. */
export function assertSameBytes(a, b, what) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) throw new Error(`agreement: ${what}: not bytes`);
  if (a.length !== b.length || !Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))) {
    throw new Error(`agreement: ${what}: bytes differ (${a.length} vs ${b.length} bytes)`);
  }
}

/** Throws unless `fn` rejects/throws (a tampered ciphertext must never decrypt). */
export async function assertRejects(fn, what) {
  let threw = false;
  try {
    await fn();
  } catch {
    threw = true;
  }
  if (!threw) throw new Error(`agreement: ${what}: tampered input was accepted`);
}

/** A copy of `bytes` with one bit flipped at `index` (negative counts from the end). */
export function flipBit(bytes, index) {
  const copy = Uint8Array.from(bytes);
  const i = index < 0 ? copy.length + index : index;
  copy[i] ^= 0x01;
  return copy;
}
