/**
 * Argument parsing on node:util `parseArgs` (no hand-written parser), with usage errors that name
 * the problem and the command's `--help`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { durationSeconds } from '../jwt/internal/values.js';
import { escapeUntrusted } from '../internal/escape.js';
import { UsageError } from './errors.js';

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'vault-url': { type: 'string' },
  home: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Parses `argv` for a command; unknown options and missing values become UsageErrors. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify.*$/s, '')} (see: kv-envelope ${command} --help)`);
  }
}

/** `k=v` pairs (from repeated `--context`) as a map. */
export function keyValues(pairs: string[] | undefined, option: string): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--${option} expects key=value, got "${escapeUntrusted(p)}"`);
    const key = p.slice(0, i);
    // A repeated key would silently keep only one value: the caller meant something else.
    if (Object.hasOwn(out, key)) throw new UsageError(`--${option} ${escapeUntrusted(key)} is given twice`);
    out[key] = p.slice(i + 1);
  }
  return out;
}

/** Exactly `n` positionals, named for the error message. */
export function positionals(values: string[], names: string[], command: string): string[] {
  if (values.length !== names.length) {
    throw new UsageError(`expected ${names.map((n) => n.toUpperCase()).join(' ') || 'no arguments'}, got ${values.length === 0 ? 'none' : values.join(' ')} (see: kv-envelope ${command} --help)`);
  }
  return values;
}

/** A positive integer option. */
export function intOption(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${option} expects a positive integer, got "${value}"`);
  return n;
}

/** A duration option ("90s", "15m", "2h", "7d"), checked here so a typo is a usage error naming the flag. */
export function durationOption(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    durationSeconds(value, `--${option}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return value;
}

/** Options before the command that take a value (`--vault-url URL`, `--home DIR`). */
const VALUE_GLOBALS = new Set(['--vault-url', '--home']);
const FLAG_GLOBALS = new Set(['--json', '--help', '-h', '--version']);

/**
 * Splits `argv` into the command and its arguments, moving global options given before the
 * command (`kv-envelope --vault-url URL key list`) behind the command's own arguments, where
 * every command's parser accepts them.
 */
export function splitCommand(argv: string[]): { command: string | undefined; rest: string[] } {
  const leading: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (VALUE_GLOBALS.has(name)) {
      if (name === a) {
        if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value (see: kv-envelope --help)`);
        leading.push(a, argv[++i]!);
      } else leading.push(a);
    } else if (FLAG_GLOBALS.has(a)) {
      if (a === '--help' || a === '-h' || a === '--version') return { command: a, rest: [...argv.slice(i + 1), ...leading] };
      leading.push(a);
    } else {
      throw new UsageError(`unknown option "${escapeUntrusted(a)}" before the command (see: kv-envelope --help)`);
    }
  }
  const own = argv.slice(i + 1);
  // Behind the command's own arguments, but before `--`: what follows it is not ours (`run -- CMD`).
  const end = own.indexOf('--');
  return { command: argv[i], rest: end === -1 ? [...own, ...leading] : [...own.slice(0, end), ...leading, ...own.slice(end)] };
}

/** The arguments before `--` (after it come another program's, as in `run -- CMD ARGS`). */
export function ownArguments(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/** The global options (`--vault-url`, `--home`) wherever they appear, ignoring the rest. */
export function globalValues(argv: string[]): { vaultUrl?: string; home?: string } {
  const { values } = parseArgs({ args: argv, options: GLOBAL_OPTIONS, allowPositionals: true, strict: false });
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { vaultUrl: str(values['vault-url']), home: str(values.home) };
}
