// Envelope 1 MiB encrypt/decrypt throughput by EnvelopeClient frameSize (64 KiB, 256 KiB,
// 1 MiB): the evidence behind Limits.DEFAULT_FRAME_SIZE. Uses the BUILT package.
//
//   node bench/frame-size.mjs [--quick] [--rounds=N] [--size=bytes]
//
// Frame sizes are measured in interleaved rounds (A B C, B C A, C A B, ...) and the median of
// the rounds is reported with its min..max, so slow drift of the machine does not favour
// whichever size happens to run first.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  assertSameBytes, consume, CONTENDED_CORES, environment, fmtCores, fmtMB, fmtSize, fmtTime, loadBuiltPackage, markdownTable, printEnvironment, runCase, textTable,
} from './lib.mjs';

const FRAME_SIZES = [64 * 1024, 256 * 1024, 1024 * 1024];
const settings = {
  time: 800, warmupTime: 200, iterations: 10, batchTargetMs: 0.5, rounds: 3, size: 2 ** 20,
  json: fileURLToPath(new URL('./frame-size.json', import.meta.url)),
};
for (const a of process.argv.slice(2)) {
  if (a === '--quick') Object.assign(settings, { time: 100, warmupTime: 30, iterations: 5, rounds: 1, quick: true, json: undefined });
  else if (a.startsWith('--rounds=')) settings.rounds = Number(a.slice(9));
  else if (a.startsWith('--size=')) settings.size = Number(a.slice(7));
  else if (a.startsWith('--time=')) settings.time = Number(a.slice(7));
  else if (a === '--no-json') settings.json = undefined;
  else {
    console.error('options: --quick --rounds=N --size=bytes --time=ms --no-json');
    process.exit(2);
  }
}

const kv = await loadBuiltPackage();
const env = await environment();
console.log(`# kv-envelope frame size: ${fmtSize(settings.size)} envelope, encrypt and decrypt\n`);
printEnvironment(env, settings);
console.log(`${settings.rounds} interleaved round(s); median of rounds shown with min..max`);
if (settings.quick) console.log('\n*** --quick: smoke run, the numbers below are NOT meaningful ***');

const kek = new kv.LocalAesKek({ id: 'bench/frame-size', key: randomBytes(32) });
const pt = randomBytes(settings.size);
const clients = new Map();
for (const fs of FRAME_SIZES) {
  const client = new kv.EnvelopeClient({ keks: kek, frameSize: fs });
  const envelope = await client.encrypt(pt);
  assertSameBytes((await client.decrypt(envelope)).plaintext, pt, `frameSize ${fs} round trip`);
  clients.set(fs, { client, envelope });
}
// The frame size is the writer's choice; any reader opens any of them.
const reader = new kv.EnvelopeClient({ keks: kek });
for (const [fs, { envelope }] of clients) assertSameBytes((await reader.decrypt(envelope)).plaintext, pt, `default client opens frameSize ${fs}`);
console.log('Agreement: OK (each frame size round-trips; a default client opens every one)');

const contention = [];
const samples = new Map(FRAME_SIZES.flatMap((fs) => ['encrypt', 'decrypt'].map((op) => [`${op} ${fs}`, []])));
for (let round = 0; round < settings.rounds; round++) {
  const order = FRAME_SIZES.map((_, i) => FRAME_SIZES[(i + round) % FRAME_SIZES.length]);
  for (const op of ['encrypt', 'decrypt']) {
    const contestants = order.map((fs) => {
      const { client, envelope } = clients.get(fs);
      return { name: `${op} ${fs}`, async: true, op: op === 'encrypt' ? () => client.encrypt(pt) : () => client.decrypt(envelope) };
    });
    const { rows: rs, otherCores: oc } = await runCase({ ...settings, rounds: 1 }, `frame-size ${op} round ${round + 1}`, contestants, settings.size);
    for (const r of rs) samples.get(r.name).push(r);
    contention.push(oc);
  }
  process.stdout.write(`round ${round + 1}/${settings.rounds} done\n`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const rows = [];
for (const op of ['encrypt', 'decrypt']) {
  const base = median(samples.get(`${op} ${256 * 1024}`).map((r) => r.mbPerSec));
  for (const fs of FRAME_SIZES) {
    const rs = samples.get(`${op} ${fs}`);
    const mb = rs.map((r) => r.mbPerSec);
    rows.push({
      op, frameSize: fs, frames: Math.ceil(settings.size / fs),
      mbPerSec: median(mb), minMbPerSec: Math.min(...mb), maxMbPerSec: Math.max(...mb),
      meanMs: median(rs.map((r) => r.meanMs)), vsDefault: median(mb) / base,
      envelopeBytes: clients.get(fs).envelope.length,
    });
  }
}
const header = ['op', 'frameSize', 'frames', 'MB/s (median)', 'min..max', 'mean latency', 'vs 256 KiB', 'envelope overhead B'];
const cells = rows.map((r) => [r.op, fmtSize(r.frameSize), r.frames, fmtMB(r.mbPerSec), `${fmtMB(r.minMbPerSec)}..${fmtMB(r.maxMbPerSec)}`, fmtTime(r.meanMs),
  `${((r.vsDefault - 1) * 100).toFixed(1).replace(/^(?!-)/, '+')}%`, r.envelopeBytes - settings.size]);
console.log('');
console.log(textTable(header, cells, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
const worst = Math.max(...contention.filter((x) => x !== undefined));
console.log(`CPU used by other processes: up to ${fmtCores(Number.isFinite(worst) ? worst : undefined)} during a round${worst > CONTENDED_CORES ? '  <-- CONTENDED: re-run on an idle machine' : ''}`);
console.log('\n## Markdown\n');
const markdown = markdownTable(header, cells, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
console.log(markdown);
consume();

if (settings.json) {
  writeFileSync(settings.json, `${JSON.stringify({ environment: env, settings, rows, otherCoresPerRound: contention, markdown }, null, 2)}\n`);
  console.log(`\nResults written to ${settings.json}`);
}
