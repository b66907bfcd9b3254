/**
 * `kv-envelope rewrap`: re-wrap envelope files (or a JSON-lines file of envelopes) under the
 * latest version of a vault key. Each result is made durable (temp file + rename) before the
 * next is asked for, which is what the engine's checkpoint contract needs to resume safely.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { EnvelopeItem, RewrapProgress } from '../../rewrap/index.js';
import { replaceAtomic } from '../../store/internal/file-io.js';
import { rewrapEnvelopes, rewrapResultToJSON } from '../../rewrap/index.js';
import { intOption, parse } from '../args.js';
import { writeAtomically } from '../atomic-file.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { createProgressReporter } from '../progress.js';
import type { VaultContext } from '../vault-context.js';
import { REWRAP_TABLE_HELP, isTableRewrap, rewrapTableCommand } from './rewrap-table.js';

export const REWRAP_HELP = `Usage: kv-envelope rewrap --key NAME FILE|DIR ... [options]
       kv-envelope rewrap --key NAME --jsonl IN -o OUT [options]

Re-wraps envelopes under the latest version of vault key NAME, after a rotation. Only each
envelope's wrapped-key section changes; payload bytes stay identical. Each distinct data key is
unwrapped once. Files are replaced atomically; directories are walked for *.kve files (sorted).
With --jsonl, IN holds one {"id": "...", "envelope": "<base64>"} per line and OUT gets the same
shape. The run is resumable: a checkpoint records progress; rerun the same command after a
crash and it continues where it stopped.

Options:
  --key NAME           the key to re-wrap under (its latest enabled version)
  --from NAME          a key the envelopes are under now, if not NAME (repeatable)
  --jsonl IN           read envelopes from a JSON-lines file instead of files
  -o, --output OUT     with --jsonl: where to write the re-wrapped JSON lines
  --checkpoint FILE    progress file (default: one per key and inputs in HOME)
  --concurrency N      items in flight (default 8)
  --dry-run            report what would change, change nothing
  --verify             unwrap each new wrapped key again and check it
  --json               JSON lines: one per item, progress on stderr

Progress shows as a bar on a terminal and as JSON lines otherwise. Exit 1 if any item failed.`;

const OPTIONS = {
  key: { type: 'string' }, from: { type: 'string', multiple: true }, jsonl: { type: 'string' }, output: { type: 'string', short: 'o' },
  checkpoint: { type: 'string' }, concurrency: { type: 'string' }, 'dry-run': { type: 'boolean' }, verify: { type: 'boolean' },
} as const;

export async function rewrapCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  if (isTableRewrap(argv)) return rewrapTableCommand(argv, vault, out);
  const { values, positionals: paths } = parse(argv, OPTIONS, 'rewrap');
  if (values.help) {
    process.stdout.write(`${REWRAP_HELP}\n\n${REWRAP_TABLE_HELP}\n`);
    return 0;
  }
  if (values.key === undefined) throw new UsageError('rewrap needs --key NAME (see: kv-envelope rewrap --help)');
  if ((values.jsonl === undefined) === (paths.length === 0)) throw new UsageError('give envelope FILES/DIRS or --jsonl IN, not both (see: kv-envelope rewrap --help)');
  if (values.jsonl !== undefined && values.output === undefined) throw new UsageError('--jsonl needs -o OUT');
  const files = values.jsonl === undefined ? await listFiles(paths) : undefined;
  const v = await vault();
  const to = v.kek(values.key);
  const from = [to, ...(values.from ?? []).map((n) => v.kek(n))];
  const progress = createProgressReporter(out.json);
  const options = {
    to, from, checkpoint: resolve(values.checkpoint ?? defaultCheckpoint(v.home, values.key, values.jsonl ?? files!)),
    concurrency: intOption(values.concurrency, 'concurrency'), dryRun: values['dry-run'] ?? false, verify: values.verify ?? false,
    total: files?.length, onProgress: (p: RewrapProgress) => progress.update(p),
  };
  let failed = 0;
  const dryRun = options.dryRun;
  if (files !== undefined) {
    for await (const r of rewrapEnvelopes(fileSource(files), options)) {
      // Durable (file and directory fsynced) before the next result is asked for: the checkpoint contract.
      if (r.status === 'rewrapped' && !dryRun) await replaceAtomic(dirname(r.id), r.id, r.envelope);
      if (r.status === 'failed') failed++;
      if (out.json || r.status === 'failed') emit(out, rewrapResultToJSON(r));
    }
  } else {
    const lines: string[] = [];
    for await (const r of rewrapEnvelopes(jsonlSource(values.jsonl!), options)) {
      if (r.status === 'failed') failed++;
      if (r.status === 'rewrapped') lines.push(JSON.stringify({ id: r.id, envelope: Buffer.from(r.envelope).toString('base64') }));
      if (out.json || r.status === 'failed') emit(out, rewrapResultToJSON(r));
    }
    if (!dryRun) await writeAtomically(values.output!, Readable.from(lines.map((l) => `${l}\n`)));
  }
  progress.finish();
  const p = progress.last;
  if (!out.json && p !== undefined) {
    const verb = dryRun ? 'would re-wrap' : 're-wrapped';
    process.stdout.write(`${verb} ${dryRun ? p.done - p.skipped - p.failed : p.rewrapped}, skipped ${p.skipped} (already current), failed ${p.failed}${p.resumed > 0 ? `, ${p.resumed} done before resuming` : ''} — under ${to.id}\n`);
  }
  return failed > 0 ? 1 : 0;
}

/** One checkpoint per job (key + inputs), so an unfinished job never blocks a different one. */
function defaultCheckpoint(home: string, key: string, inputs: string | string[]): string {
  const h = createHash('sha256').update(JSON.stringify([key, typeof inputs === 'string' ? resolve(inputs) : inputs])).digest('hex').slice(0, 16);
  return join(home, `rewrap-${h}.checkpoint.json`);
}

function emit(out: Output, record: unknown): void {
  if (out.json) process.stdout.write(`${JSON.stringify(record)}\n`);
  else process.stderr.write(`failed: ${JSON.stringify(record)}\n`);
}

async function listFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const s = await stat(p);
    if (s.isDirectory()) {
      for (const e of await readdir(p, { recursive: true, withFileTypes: true })) {
        if (e.isFile() && e.name.endsWith('.kve')) files.push(join(e.parentPath ?? e.path, e.name));
      }
    } else if (s.isFile()) files.push(p);
  }
  // Resuming needs the same order every run.
  return [...new Set(files.map((f) => resolve(f)))].sort();
}

async function* fileSource(files: string[]): AsyncIterable<EnvelopeItem> {
  for (const id of files) {
    const chunks: Buffer[] = [];
    for await (const c of createReadStream(id)) chunks.push(c as Buffer);
    yield { id, envelope: Buffer.concat(chunks) };
  }
}

async function* jsonlSource(path: string): AsyncIterable<EnvelopeItem> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    n++;
    if (line.trim() === '') continue;
    let item: { id?: unknown; envelope?: unknown };
    try {
      item = JSON.parse(line) as typeof item;
    } catch {
      throw new UsageError(`${path}:${n}: not JSON`);
    }
    if (typeof item.id !== 'string' || typeof item.envelope !== 'string') throw new UsageError(`${path}:${n}: expected {"id": string, "envelope": base64 string}`);
    yield { id: item.id, envelope: Buffer.from(item.envelope, 'base64') };
  }
}
