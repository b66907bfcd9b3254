/**
 * Argument parsing on node:util `parseArgs` (no hand-written parser), with usage errors that name
 * the problem and the command's `--help`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
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
    if (i <= 0) throw new UsageError(`--${option} expects key=value, got "${p}"`);
    out[p.slice(0, i)] = p.slice(i + 1);
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

/** The global options (`--vault-url`, `--home`) wherever they appear, ignoring the rest. */
export function globalValues(argv: string[]): { vaultUrl?: string; home?: string } {
  const { values } = parseArgs({ args: argv, options: GLOBAL_OPTIONS, allowPositionals: true, strict: false });
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { vaultUrl: str(values['vault-url']), home: str(values.home) };
}
