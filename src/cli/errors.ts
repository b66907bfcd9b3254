/**
 * Exit codes and the one-line message for every failure the CLI reports. Messages never hold a
 * stack trace, a secret, a temporary file's name, or raw attacker-controlled text.
 */
import { EnvelopeError, EnvelopeMalformedError } from '../errors.js';
import { escapeUntrusted } from '../internal/escape.js';

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

/** The command cannot do what was asked in the vault's current state (exit 1), e.g. recover a key that is not deleted. */
export class CommandError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
  }
}

/** What the failing command needed, for hints: the Azure RBAC role that allows it. */
export interface ErrorHints {
  role?: string;
  vaultUrl?: string;
}

const FS_MESSAGES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError', 'AuthenticationError', 'AuthenticationRequiredError']);

/**
 * A temporary output's name → the output's name, anywhere in a message:
 * `.name.kve.kvtmp-<host>-<pid>-<random>.tmp` (and the older `.name.kve.<hex>.tmp`) → `name.kve`.
 */
export function withoutTempNames(text: string): string {
  return text.replace(/(^|[/\\\s'"(])\.([^/\\\s'"]+?)\.(?:kvtmp-[^/\\\s'"]+|[0-9a-f]{6,})\.tmp\b/g, '$1$2');
}

/** The exit code and the one-line message for an error. */
export function describeError(err: unknown, hints: ErrorHints = {}): { code: number; message: string } {
  const { code, message } = classify(err, hints);
  // One line, whatever the source: errors can quote envelope or server text.
  const line = withoutTempNames(message).replace(/\r?\n\s*/g, ' ');
  // eslint-disable-next-line no-control-regex
  return { code, message: /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(line) ? escapeUntrusted(line, 1000) : line };
}

function classify(err: unknown, hints: ErrorHints): { code: number; message: string } {
  if (err instanceof UsageError) return { code: ExitCode.USAGE, message: err.message };
  if (err instanceof EnvelopeMalformedError) return { code: ExitCode.USAGE, message: `${err.code}: ${err.message}` };
  const denied = (err as { code?: unknown })?.code === 'ERR_KEY_ACCESS_DENIED' || (statusOf(err) === 403 && !notARoleProblem(err));
  const roleHint = denied && hints.role !== undefined ? ` — this needs the "${hints.role}" role on the key or vault (Azure RBAC)` : '';
  const auth = find(err, (e) => CREDENTIAL_ERRORS.has(String(e.name)));
  if (auth !== undefined) {
    return {
      code: ExitCode.FAILED,
      message: `no Azure credential could sign in (${String(auth.name)}): run "az login", or set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or run where a managed identity is assigned`,
    };
  }
  const net = find(err, (e) => typeof e.code === 'string' && NETWORK_CODES.has(e.code));
  if (net !== undefined && !(err instanceof EnvelopeError && !isUnavailable(err))) {
    return {
      code: ExitCode.FAILED,
      message: `cannot reach the vault${hints.vaultUrl ? ` ${hints.vaultUrl}` : ''} (${String(net.code)}): check --vault-url, the network, and HTTPS_PROXY if you need a proxy`,
    };
  }
  if (err instanceof EnvelopeError) return { code: ExitCode.FAILED, message: `${err.code}: ${err.message}${roleHint}` };
  const e = err as { code?: unknown; path?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && Object.hasOwn(FS_MESSAGES, e.code)) {
    return { code: ExitCode.USAGE, message: typeof e.path === 'string' ? `${e.path}: ${FS_MESSAGES[e.code]}` : `${FS_MESSAGES[e.code]} (${e.code})` };
  }
  const status = statusOf(err);
  if (status !== undefined) return { code: ExitCode.FAILED, message: `vault error ${status}: ${firstLine(e.message)}${roleHint}` };
  return { code: ExitCode.FAILED, message: err instanceof Error ? firstLine(err.message) : String(err) };
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** A 403 about the key's state (disabled, operation not in key_ops), which no role changes. */
function notARoleProblem(err: unknown): boolean {
  const inner = (err as { details?: { error?: { innererror?: { code?: unknown } } } })?.details?.error?.innererror?.code;
  return inner === 'KeyDisabled' || inner === 'KeyOperationForbidden' || /disabled/i.test(String((err as { message?: unknown }).message));
}

function isUnavailable(err: EnvelopeError): boolean {
  return err.code === 'ERR_KEK_UNAVAILABLE';
}

function firstLine(message: unknown): string {
  return String(message).split('\n')[0]!;
}

/** The first error in the `cause` / `errors` chain that matches. */
function find(err: unknown, match: (e: { name?: unknown; code?: unknown }) => boolean, depth = 0): { name?: unknown; code?: unknown } | undefined {
  if (err === null || typeof err !== 'object' || depth > 5) return undefined;
  const e = err as { name?: unknown; code?: unknown; cause?: unknown; errors?: unknown };
  if (match(e)) return e;
  for (const next of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const hit = find(next, match, depth + 1);
    if (hit !== undefined) return hit;
  }
  return undefined;
}
