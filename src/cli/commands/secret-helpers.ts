/**
 * Pieces of `kv-envelope secret`: the SecretClient of the selected vault, argument checks, the
 * value read from --value / --file / stdin, and how properties are shown. Nothing here prints a
 * value: only `secret get` does.
 */
import { readFile } from 'node:fs/promises';
import { SecretClient, type SecretClientOptions, type SecretProperties } from '@azure/keyvault-secrets';
import { escapeUntrusted } from '../../internal/escape.js';
import type { SecretReference } from '../../secrets/index.js';
import { CommandError, UsageError } from '../errors.js';
import type { VaultContext } from '../vault-context.js';

/**
 * The largest value Key Vault stores: 25 KB (25,600 bytes of UTF-8), the service's documented
 * limit. Checked before sending, so an oversized value is an input error that names the size and
 * never crosses the network.
 */
export const MAX_SECRET_VALUE_BYTES = 25_600;

const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9a-f]{32}$/i;
// YYYY-MM-DD, or a full ISO 8601 timestamp with a zone (a local time would depend on the machine).
const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** A SecretClient for the selected vault; `ownRetry` turns the pipeline's retry off (fetchSecret has its own). */
export function secretClient(vault: VaultContext, ownRetry = false): SecretClient {
  const options = secretClientOptions(vault);
  return new SecretClient(vault.url, vault.credential, ownRetry ? { ...options, retryOptions: { maxRetries: 0 } } : options);
}

/** The selected vault's client options for a SecretClient (a KeyClient's service version does not apply). */
export function secretClientOptions(vault: VaultContext): SecretClientOptions {
  const { serviceVersion: _keysOnly, ...options } = vault.clientOptions;
  return options;
}

/** The reference fetchSecret reads: NAME (and VERSION) in the selected vault. */
export function referenceTo(vault: VaultContext, name: string, version?: string): SecretReference {
  return { vaultUrl: vault.url, name, version: version?.toLowerCase() };
}

/** A secret name as Key Vault accepts it (checked before any call, so errors can quote it). */
export function checkName(name: string, what = 'NAME'): string {
  if (!SECRET_NAME.test(name)) throw new UsageError(`${what} must be 1-127 letters, digits and hyphens, got "${escapeUntrusted(name, 60)}"`);
  return name;
}

export function checkVersion(version: string | undefined): string | undefined {
  if (version !== undefined && !VERSION.test(version)) throw new UsageError('--version must be 32 hexadecimal characters (see: kv-envelope secret versions NAME)');
  return version;
}

/** `--expires` / `--not-before`: `2030-01-31` (midnight UTC) or an ISO 8601 timestamp with a zone. */
export function dateOption(value: string | undefined, option: string): Date | undefined {
  if (value === undefined) return undefined;
  const ms = DATE.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--${option} expects a date like 2030-01-31 or 2030-01-31T12:00:00Z, got "${escapeUntrusted(value, 60)}"`);
  return new Date(ms);
}

/**
 * The value to store: `--value`, `--file F`, or `-` (stdin) — exactly one. Bytes are kept as
 * they are (a trailing newline too); they must be UTF-8 text, at most 25 KB.
 */
export async function readValue(inline: string | undefined, file: string | undefined, stdin: boolean): Promise<string> {
  const given = [inline !== undefined, file !== undefined, stdin].filter(Boolean).length;
  if (given !== 1) throw new UsageError('secret set takes the value from exactly one of --value V, --file F or - (stdin) (see: kv-envelope secret --help)');
  let bytes: Buffer;
  if (inline !== undefined) bytes = Buffer.from(inline, 'utf8');
  else if (file !== undefined) bytes = await readFile(file);
  else {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    bytes = Buffer.concat(chunks);
  }
  const source = inline !== undefined ? '--value' : file ?? 'stdin';
  if (bytes.length > MAX_SECRET_VALUE_BYTES) {
    throw new UsageError(`the value from ${source} is ${bytes.length} bytes; a Key Vault secret holds at most ${MAX_SECRET_VALUE_BYTES} bytes (25 KB): nothing was sent`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UsageError(`the value from ${source} is not UTF-8 text; Key Vault secrets hold text: base64-encode binary data (base64 FILE | kv-envelope secret set NAME - --content-type application/octet-stream)`);
  }
}

/** `undefined` for a 404 (not there); rethrows anything else. */
export function notFound(err: unknown): undefined {
  if ((err as { statusCode?: unknown })?.statusCode === 404) return undefined;
  throw err;
}

/** A 404 from a call on NAME as a one-line error that says what to check. */
export function missing(name: string): (err: unknown) => never {
  return (err) => {
    if ((err as { statusCode?: unknown })?.statusCode === 404) {
      throw new CommandError('SECRET_NOT_FOUND', `secret ${name} not found (a deleted one is listed by: kv-envelope secret list --deleted)`);
    }
    throw err;
  };
}

/** What is shown of a secret: its properties, never its value. */
export function summary(p: SecretProperties) {
  return {
    name: p.name,
    version: p.version,
    enabled: p.enabled,
    contentType: p.contentType,
    createdOn: p.createdOn,
    updatedOn: p.updatedOn,
    notBefore: p.notBefore,
    expiresOn: p.expiresOn,
    tags: p.tags,
    managed: p.managed,
  };
}

/** The human form of {@link summary} (vault-held text escaped: tags and content types are anyone's). */
export function describe(p: SecretProperties): string {
  const lines = [`${p.name}${p.version === undefined ? '' : ` version ${p.version}`}${p.enabled === false ? ' (disabled)' : ''}`];
  if (p.contentType !== undefined) lines.push(`  content type: ${escapeUntrusted(p.contentType)}`);
  const dates = [['created', p.createdOn], ['updated', p.updatedOn], ['not before', p.notBefore], ['expires', p.expiresOn]] as const;
  const shown = dates.filter(([, d]) => d !== undefined).map(([label, d]) => `${label} ${d!.toISOString()}`);
  if (shown.length > 0) lines.push(`  ${shown.join(' · ')}`);
  const tags = Object.entries(p.tags ?? {});
  if (tags.length > 0) lines.push(`  tags: ${tags.map(([k, v]) => `${escapeUntrusted(k)}=${escapeUntrusted(v)}`).join(', ')}`);
  return lines.join('\n');
}
