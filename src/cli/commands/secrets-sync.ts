/**
 * `kv-envelope secrets sync --to DIR NAME[=FILE]…`: the AKS Secrets Store CSI driver's
 * mount-and-rotate for any process. Each secret's latest value is written to DIR/FILE (0600,
 * temp + fsync + rename: a reader sees the old file or the new one, never a part), and
 * rewritten when a new version appears, checked every --interval (the driver's rotation poll).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { resolveRetryPolicy } from '../../azure/internal/retry.js';
import { positiveDurationSeconds } from '../../jwt/internal/values.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { SecretError } from '../../secrets/index.js';
import { type FetchedSecret, fetchSecret } from '../../secrets/internal/fetch.js';
import { parse } from '../args.js';
import { writeAtomically } from '../atomic-file.js';
import { CommandError, UsageError } from '../errors.js';
import type { Output } from '../output.js';
import type { VaultContext } from '../vault-context.js';
import { checkName, referenceTo, secretClient } from './secret-helpers.js';

export const SECRETS_HELP = `Usage: kv-envelope secrets sync --to DIR [--interval 2m] [--once] NAME[=FILE]...

Writes the latest value of each secret NAME to DIR/FILE (FILE defaults to NAME), as the AKS
Secrets Store CSI driver mounts secrets as files, and rewrites a file when a new version of its
secret appears, checked every --interval (default 2m; the driver's rotation poll). Files are
mode 0600, written to a temporary file, fsynced and renamed: a reader sees the old value or the
new one, never part of one. DIR is created 0700 when missing.

Prints one JSON line per change, never a value:
  {"name":"db-password","version":"…","file":"DIR/db-password","event":"written"|"rotated"}

At start every secret must be readable, else nothing is written and the exit code is 1 (the
error names each secret and, for a 403, the role). Later, a secret that cannot be read keeps its
last file and is reported on stderr; the others go on. SIGTERM or SIGINT stops cleanly (a write
in progress completes, no temporary file is left) with exit 0. --once writes and exits.

Reading values needs the "Key Vault Secrets User" role.

Vault: the embedded local vault in the home folder (made by "kv-envelope secret set"), or Azure
with --vault-url URL (or AZURE_KEYVAULT_URL), signed in with DefaultAzureCredential.

Options: --to DIR, --interval DURATION (90s, 2m, 1h), --once, --vault-url URL, --home DIR, -h/--help`;

const OPTIONS = { to: { type: 'string' }, interval: { type: 'string' }, once: { type: 'boolean' } } as const;
const FILE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;
const TIMEOUT_MS = 30_000;

interface Target {
  readonly name: string;
  readonly file: string;
  version: string | undefined;
}

export async function secretsCommand(argv: string[], vault: () => Promise<VaultContext>, _out: Output): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${SECRETS_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals } = parse(rest, OPTIONS, `secrets ${sub}`);
  if (values.help) {
    process.stdout.write(`${SECRETS_HELP}\n`);
    return 0;
  }
  if (sub !== 'sync') throw new UsageError(`unknown secrets command "${escapeUntrusted(sub)}" (see: kv-envelope secrets --help)`);
  if (values.to === undefined || values.to === '') throw new UsageError('secrets sync needs --to DIR (see: kv-envelope secrets --help)');
  if (values.once && values.interval !== undefined) throw new UsageError('--interval does not apply with --once');
  const intervalMs = interval(values.interval) * 1000;
  const targets = parseTargets(positionals, values.to);
  const v = await vault();
  const client = secretClient(v, true);
  const read = (t: Target, signal: AbortSignal) => fetchSecret(client, referenceTo(v, t.name), resolveRetryPolicy(undefined), TIMEOUT_MS, signal);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const first = await Promise.allSettled(targets.map((t) => read(t, stop.signal)));
    if (stop.signal.aborted) return 0;
    const failed = first.flatMap((r, i) => (r.status === 'rejected' ? [`${targets[i]!.name}: ${message(r.reason)}`] : []));
    if (failed.length > 0) throw new CommandError(code(first), `cannot read ${failed.length} of ${targets.length} secrets, nothing written: ${failed.join('; ')}`);
    await mkdir(values.to, { recursive: true, mode: 0o700 });
    for (const [i, t] of targets.entries()) await write(values.to, t, (first[i] as PromiseFulfilledResult<FetchedSecret>).value, 'written');
    while (!values.once && !stop.signal.aborted) {
      if (!(await sleep(intervalMs, stop.signal))) break;
      await poll(targets, values.to, read, stop.signal);
    }
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** One rotation check: a new version is written; a failure keeps the last file and is reported. */
async function poll(targets: Target[], dir: string, read: (t: Target, s: AbortSignal) => Promise<FetchedSecret>, signal: AbortSignal): Promise<void> {
  const results = await Promise.allSettled(targets.map((t) => read(t, signal)));
  for (const [i, t] of targets.entries()) {
    if (signal.aborted) return;
    const r = results[i]!;
    if (r.status === 'rejected') process.stderr.write(`kv-envelope: ${t.name}: ${message(r.reason)} (keeping ${join(dir, t.file)} at version ${t.version})\n`);
    else if (r.value.version !== t.version) await write(dir, t, r.value, 'rotated');
  }
}

async function write(dir: string, t: Target, s: FetchedSecret, event: 'written' | 'rotated'): Promise<void> {
  const file = join(dir, t.file);
  await writeAtomically(file, Readable.from([Buffer.from(s.value, 'utf8')]));
  t.version = s.version;
  process.stdout.write(`${JSON.stringify({ name: t.name, version: s.version, file, event })}\n`);
}

/** NAME[=FILE] arguments; FILE is one plain file name, and two secrets cannot share it. */
function parseTargets(args: string[], dir: string): Target[] {
  if (args.length === 0) throw new UsageError('secrets sync needs at least one NAME[=FILE] (see: kv-envelope secrets --help)');
  const files = new Set<string>();
  return args.map((arg) => {
    const eq = arg.indexOf('=');
    const name = checkName(eq === -1 ? arg : arg.slice(0, eq), 'a secret NAME');
    const file = eq === -1 ? name : arg.slice(eq + 1);
    // A plain name inside DIR: no path, no leading dot (temporary files start with one).
    if (!FILE.test(file)) throw new UsageError(`FILE in ${name}=FILE must be a plain file name inside ${dir} (letters, digits, . _ -; no / and no leading dot), got "${escapeUntrusted(file, 60)}"`);
    if (files.has(file.toLowerCase())) throw new UsageError(`two secrets would be written to ${join(dir, file)}`);
    files.add(file.toLowerCase());
    return { name, file, version: undefined };
  });
}

function interval(value: string | undefined): number {
  try {
    return positiveDurationSeconds(value ?? '2m', '--interval');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Waits `ms`; false when stopped first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function message(err: unknown): string {
  return err instanceof SecretError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
}

/** The error code of the first failure (SecretError codes name why: not found, disabled, denied). */
function code(results: PromiseSettledResult<unknown>[]): string {
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  return failure?.reason instanceof SecretError ? failure.reason.code : 'SECRET_UNREADABLE';
}
