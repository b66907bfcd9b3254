/**
 * `kv-envelope rewrap`: re-wrap envelope files (or a JSON-lines file of envelopes) under the
 * latest version of a vault key, then verify what was stored.
 *
 * - Files: each result is written only if the file still holds the bytes it was computed from
 *   (`replaceFileIfUnchanged`: temp file, digest check, rename, directory fsync), before the
 *   next result is asked for, which is what the engine's checkpoint contract needs. A file a
 *   writer replaced meanwhile is left alone and reported `changed` (exit 1).
 * - `--jsonl IN -o OUT`: a streamed copy job with its own resumable state (rewrap-jsonl.ts).
 * - Both end with a verification pass over what is stored: how many items are still under
 *   other key versions (0: those versions can be disabled).
 * - Ctrl-C stops cleanly (progress saved) and prints the command that resumes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { escapeUntrusted } from '../../internal/escape.js';
import type { EnvelopeItem, EnvelopeRewrapResult, RewrapProgress, RewrapVerification } from '../../rewrap/index.js';
import { replaceFileIfUnchanged, rewrapEnvelopes, rewrapResultToJSON, verifyEnvelopes } from '../../rewrap/index.js';
import { intOption, parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { createProgressReporter } from '../progress.js';
import type { VaultContext } from '../vault-context.js';
import { itemLines, parseLine, runJsonlJob } from './rewrap-jsonl.js';
import { REWRAP_TABLE_HELP, isTableRewrap, rewrapTableCommand } from './rewrap-table.js';

export const REWRAP_HELP = `Usage: kv-envelope rewrap --key NAME FILE|DIR ... [options]
       kv-envelope rewrap --key NAME --jsonl IN -o OUT [options]

Re-wraps envelopes under the latest version of vault key NAME, after a rotation. Only each
envelope's wrapped-key section changes; payload bytes stay identical. Each distinct data key is
unwrapped once. Directories are walked for *.kve files (sorted). A file is replaced atomically,
and only if it still holds what was read: one that another writer replaced meanwhile is left
as it is and reported "changed". With --jsonl, IN holds one {"id": "...", "envelope": "<base64>"}
per line; OUT gets every line in order, re-wrapped or unchanged (streamed: memory stays flat).
The run is resumable: progress is saved as it goes; after a crash or Ctrl-C, rerun the same
command and it continues where it stopped. The run ends by reading what was stored and counting
the items still under other key versions: 0 means those versions can be disabled.

Options:
  --key NAME           the key to re-wrap under (its latest enabled version)
  --from NAME          a key the envelopes are under now, if not NAME (repeatable)
  --jsonl IN           read envelopes from a JSON-lines file instead of files
  -o, --output OUT     with --jsonl: where to write the re-wrapped JSON lines
  --checkpoint FILE    progress file (default: one per key and inputs in HOME)
  --concurrency N      items in flight (default 8)
  --dry-run            report what would change, change nothing
  --verify             unwrap each new wrapped key again and check it
  --json               JSON lines: one per item on stdout; progress and the summary on stderr

Progress shows as a bar on a terminal and as JSON lines otherwise. Exit 1 if any item failed or
changed, or if items remain under other key versions; 130 when interrupted.`;

const OPTIONS = {
  key: { type: 'string' }, from: { type: 'string', multiple: true }, jsonl: { type: 'string' }, output: { type: 'string', short: 'o' },
  checkpoint: { type: 'string' }, concurrency: { type: 'string' }, 'dry-run': { type: 'boolean' }, verify: { type: 'boolean' },
} as const;

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it). */
const INTERRUPTED = 130;

interface Tally {
  failed: number;
  changed: number;
  resumed: number;
}

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
  const jsonl = values.jsonl === undefined ? undefined : { input: resolve(values.jsonl), output: resolve(values.output!) };
  if (jsonl !== undefined) await stat(jsonl.input); // a missing IN is a usage error, before any vault call
  const v = await vault();
  const to = v.kek(values.key);
  const from = [to, ...(values.from ?? []).map((n) => v.kek(n))];
  const dryRun = values['dry-run'] ?? false;
  const checkpoint = resolve(values.checkpoint ?? defaultCheckpoint(v.home, values.key, jsonl === undefined ? files! : [jsonl.input, jsonl.output]));
  const progress = createProgressReporter(out.json);
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(INTERRUPTED); // a second Ctrl-C: stop now
    interrupt.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSigint);
  const options = {
    to, from, concurrency: intOption(values.concurrency, 'concurrency'), dryRun, verify: values.verify ?? false,
    signal: interrupt.signal, onProgress: (p: RewrapProgress) => progress.update(p),
  };
  const tally: Tally = { failed: 0, changed: 0, resumed: 0 };
  const report = (r: EnvelopeRewrapResult): void => {
    if (r.status === 'failed') tally.failed++;
    if (out.json) process.stdout.write(`${JSON.stringify(rewrapResultToJSON(r))}\n`);
    else if (r.status === 'failed') process.stderr.write(`failed: ${escapeUntrusted(r.id)}: ${r.error.code}: ${escapeUntrusted(r.error.message)}\n`);
  };
  try {
    if (files !== undefined) {
      for await (const r of rewrapEnvelopes(fileSource(files), { ...options, checkpoint, total: files.length })) {
        // Durable (file and directory fsynced) before the next result is asked for: the checkpoint contract.
        if (r.status === 'rewrapped' && !dryRun && (await replaceFileIfUnchanged(r.id, r.envelope, r.sourceDigest)) !== 'replaced') {
          tally.changed++;
          reportChanged(out, r.id, r.sourceDigest);
          continue;
        }
        report(r);
      }
    } else if (dryRun) {
      for await (const r of rewrapEnvelopes(jsonlSource(jsonl!.input), options)) report(r);
    } else {
      const targets = [await to.refresh({ signal: interrupt.signal })];
      const job = { ...jsonl!, statePath: checkpoint, targets, signal: interrupt.signal };
      const notice = (text: string): void => void process.stderr.write(`${text}\n`);
      tally.resumed = (await runJsonlJob(job, (source) => rewrapEnvelopes(source, options), report, notice)).resumed;
    }
  } catch (err) {
    if (!interrupt.signal.aborted) throw err;
    progress.finish();
    process.stderr.write(`\ninterrupted: progress is saved in ${escapeUntrusted(checkpoint, 1000)}\nrun the same command again to resume:\n  kv-envelope ${process.argv.slice(2).map(shellQuote).join(' ')}\n`);
    return INTERRUPTED;
  } finally {
    process.off('SIGINT', onSigint);
  }
  progress.finish();
  const p = progress.last;
  const verification = dryRun ? undefined : await verifyStored(jsonl === undefined ? await listFiles(paths) : undefined, jsonl?.output, to, interrupt.signal);
  const remaining = verification?.remaining ?? p?.remaining ?? 0;
  const resumed = (p?.resumed ?? 0) + tally.resumed;
  const rewrapped = (p?.rewrapped ?? 0) - tally.changed; // a changed file was re-wrapped but not written
  if (out.json) {
    const summary = {
      rewrapped, skipped: p?.skipped ?? 0, failed: p?.failed ?? 0, changed: tally.changed, resumed, remaining, dryRun,
      ...(verification === undefined ? {} : { verification }),
    };
    process.stderr.write(`${JSON.stringify({ summary })}\n`);
  } else if (p !== undefined) {
    const verb = dryRun ? 'would re-wrap' : 're-wrapped';
    const changed = tally.changed > 0 ? `, changed ${tally.changed} (left as they are)` : '';
    process.stdout.write(`${verb} ${dryRun ? p.done - p.skipped - p.failed : rewrapped}, skipped ${p.skipped} (already current), failed ${p.failed}${changed}${resumed > 0 ? `, ${resumed} done before resuming` : ''} — under ${escapeUntrusted(to.id)}\n`);
    process.stdout.write(`${describeRemaining(verification, remaining, dryRun)}\n`);
  }
  return tally.failed > 0 || tally.changed > 0 || (!dryRun && remaining > 0) ? 1 : 0;
}

/** The verification pass: read what is stored now (files listed again) and count what is not under the target. */
async function verifyStored(files: string[] | undefined, output: string | undefined, to: ReturnType<VaultContext['kek']>, signal: AbortSignal): Promise<RewrapVerification> {
  const source = files !== undefined ? fileSource(files) : jsonlSource(output!);
  return verifyEnvelopes(source, { to, signal });
}

function describeRemaining(v: RewrapVerification | undefined, remaining: number, dryRun: boolean): string {
  if (dryRun) return `${remaining} item(s) would remain under other key versions or unreadable after this run`;
  if (v === undefined) return '';
  if (v.remaining === 0) return `verified: all ${v.checked} item(s) are under the latest key version; older versions can be disabled`;
  const versions = Object.entries(v.byKekId).map(([kid, n]) => `${escapeUntrusted(kid)} (${n})`).join(', ');
  return `verified: ${v.remaining} of ${v.checked} item(s) still need an older key version or are unreadable${v.malformed > 0 ? ` (${v.malformed} unreadable)` : ''}${versions === '' ? '' : `: ${versions}`}; keep those versions enabled and rerun`;
}

function reportChanged(out: Output, id: string, sourceDigest: string): void {
  const message = 'changed since it was read (another writer replaced it); left as it is: rerun to re-wrap its new content';
  if (out.json) process.stdout.write(`${JSON.stringify({ id, status: 'changed', sourceDigest, message })}\n`);
  else process.stderr.write(`changed: ${escapeUntrusted(id)}: ${message}\n`);
}

/** An argument as a POSIX shell word (control characters escaped: the line must stay one line). */
function shellQuote(arg: string): string {
  const safe = escapeUntrusted(arg, 4096);
  return /^[\w@%+=:,./-]+$/.test(safe) ? safe : `'${safe.replace(/'/g, `'\\''`)}'`;
}

/** One checkpoint per job (key + inputs), so an unfinished job never blocks a different one. */
function defaultCheckpoint(home: string, key: string, inputs: string[]): string {
  const h = createHash('sha256').update(JSON.stringify([key, inputs])).digest('hex').slice(0, 16);
  return join(home, `rewrap-${h}.checkpoint.json`);
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
  // The same order every run keeps resumed runs cheap (the checkpoint covers a prefix).
  return [...new Set(files.map((f) => resolve(f)))].sort();
}

async function* fileSource(files: string[]): AsyncIterable<EnvelopeItem> {
  for (const id of files) {
    const chunks: Buffer[] = [];
    try {
      for await (const c of createReadStream(id)) chunks.push(c as Buffer);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') continue; // removed since the listing: nothing to re-wrap
      throw err;
    }
    yield { id, envelope: Buffer.concat(chunks) };
  }
}

async function* jsonlSource(path: string): AsyncIterable<EnvelopeItem> {
  let n = 0;
  for await (const line of itemLines(path)) {
    const record = parseLine(line, ++n, path);
    yield { id: record.id as string, envelope: Buffer.from(record.envelope as string, 'base64') };
  }
}
