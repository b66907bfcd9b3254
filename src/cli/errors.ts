import { EnvelopeError, EnvelopeMalformedError } from '../errors.js';

/**
 * Exit codes (documented in the README and `kv-envelope --help`):
 * 0 ok · 1 the operation (or some items) failed · 2 usage or input error.
 */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** A mistake in the command line or its input files: exit 2 with the message and a hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit code and the one-line message for an error (never a stack trace, never a secret). */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError) return { code: ExitCode.USAGE, message: err.message };
  if (err instanceof EnvelopeMalformedError) return { code: ExitCode.USAGE, message: `${err.code}: ${err.message}` };
  if (err instanceof EnvelopeError) return { code: ExitCode.FAILED, message: `${err.code}: ${err.message}` };
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && /^(ENOENT|EISDIR|ENOTDIR|EACCES|EEXIST)$/.test(e.code)) {
    return { code: ExitCode.USAGE, message: String(e.message) };
  }
  if (typeof e?.statusCode === 'number') return { code: ExitCode.FAILED, message: `vault error ${e.statusCode}: ${String(e.message)}` };
  return { code: ExitCode.FAILED, message: err instanceof Error ? err.message : String(err) };
}
