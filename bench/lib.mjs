// Shared helpers of bench/run.mjs and bench/frame-size.mjs: environment info, loading the
// built package, batched tinybench tasks, statistics and formatting. No contestant lives here.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
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

/** The installed version of `name` in `nodeModules` (read directly: not every package exports ./package.json). */
function versionOf(name, nodeModules = new URL('./node_modules/', import.meta.url)) {
  try {
    return JSON.parse(readFileSync(new URL(`${name}/package.json`, nodeModules), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** Host and library versions, printed and stored with every result. */
export function environment() {
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
    versions: {
      'kv-envelope': JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
      tinybench: versionOf('tinybench'),
      '@noble/ciphers (bench)': versionOf('@noble/ciphers'),
      '@noble/ciphers (kv-envelope)': versionOf('@noble/ciphers', new URL('../node_modules/', import.meta.url)),
      '@aws-crypto/client-node': versionOf('@aws-crypto/client-node'),
    },
    date: new Date().toISOString(),
  };
}

export function printEnvironment(env, settings) {
  console.log(`node ${env.node} (V8 ${env.v8}, OpenSSL ${env.openssl}) · ${env.platform}`);
  console.log(`CPU: ${env.cpu} · ${env.cores} cores (availableParallelism ${env.availableParallelism}) · ${env.totalMemGiB} GiB RAM`);
  const [load1] = env.loadAverageAtStart;
  console.log(`load average at start: ${env.loadAverageAtStart.join(' ')}`);
  if (load1 > env.cores * 0.3) {
    console.log(`WARNING: 1-minute load average ${load1} on ${env.cores} cores: other processes compete for the CPU, expect noisy numbers and skewed ratios.`);
  }
  console.log(Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(' · '));
  console.log(`tinybench: ${settings.time} ms per task after ${settings.warmupTime} ms warm-up, ≥ ${settings.iterations} samples; ` +
    `each sample times a batch of calls sized to ~${settings.batchTargetMs} ms (per-call latency = batch time / batch size)`);
}

/** Parses `--quick`, `--time=ms`, `--warmup=ms`, `--json=path`, `--no-json`. */
export function parseArgs(argv, defaults) {
  const s = { ...defaults };
  for (const a of argv) {
    if (a === '--quick') Object.assign(s, { time: 150, warmupTime: 50, iterations: 8, quick: true });
    else if (a.startsWith('--time=')) s.time = Number(a.slice(7));
    else if (a.startsWith('--warmup=')) s.warmupTime = Number(a.slice(9));
    else if (a.startsWith('--json=')) s.json = a.slice(7);
    else if (a === '--no-json') s.json = undefined;
    else if (a === '--help' || a === '-h') {
      console.log('options: --quick (smoke run, numbers meaningless) --time=ms --warmup=ms --json=path --no-json');
      process.exit(0);
    } else {
      console.error(`unknown option ${a}`);
      process.exit(2);
    }
  }
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

/**
 * Runs one case: every contestant in one tinybench Bench, sequentially in the given order.
 * `contestants`: [{ name, op, async }]. Returns per-contestant statistics, per CALL.
 */
export async function runCase(settings, caseName, contestants, bytesPerOp) {
  const bench = new Bench({
    name: caseName,
    time: settings.time,
    warmupTime: settings.warmupTime,
    iterations: settings.iterations,
    warmupIterations: 4,
    throws: true,
  });
  const batches = new Map();
  for (const c of contestants) {
    const batch = await calibrateBatch(c.op, c.async, settings.batchTargetMs);
    batches.set(c.name, batch);
    const op = c.op;
    if (c.async) {
      bench.add(c.name, async () => {
        const t0 = performance.now();
        for (let i = 0; i < batch; i++) sink = await op();
        const dt = performance.now() - t0;
        return { overriddenDuration: dt / batch, overriddenIterationCost: dt };
      });
    } else {
      bench.add(c.name, () => {
        const t0 = performance.now();
        for (let i = 0; i < batch; i++) sink = op();
        const dt = performance.now() - t0;
        return { overriddenDuration: dt / batch, overriddenIterationCost: dt };
      });
    }
  }
  await bench.run();
  const out = [];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${caseName} / ${task.name}: ${r.state} ${r.error?.stack ?? ''}`);
    const l = r.latency;
    const opsPerSec = 1000 / l.mean;
    out.push({
      name: task.name,
      opsPerSec,
      meanMs: l.mean,
      p50Ms: l.p50,
      p99Ms: l.p99,
      rmePct: l.rme,
      samples: l.samplesCount,
      batch: batches.get(task.name),
      mbPerSec: bytesPerOp === undefined ? undefined : (opsPerSec * bytesPerOp) / 1e6,
    });
  }
  return out;
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
