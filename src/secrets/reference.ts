/**
 * App Service Key Vault references, exactly as Azure App Service and Functions accept them:
 *
 *   @Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>[/<version>][/])
 *   @Microsoft.KeyVault(VaultName=<vault>;SecretName=<name>[;SecretVersion=<version>])
 *
 * Anything else is an `ERR_SECRET_REFERENCE` error that names the problem and never echoes the
 * text (a value pasted into the wrong place must not end up in a log).
 *
 * @module
 */
import { SecretError } from './errors.js';

/** A parsed reference. */
export interface SecretReference {
  /** `https://<vault>.<suffix>` (lowercase host, no trailing slash). */
  readonly vaultUrl: string;
  /** The secret name (1-127 of `[0-9A-Za-z-]`). */
  readonly name: string;
  /** A 32-hex-character version, or undefined for "the latest" (refreshed). */
  readonly version: string | undefined;
}

/** Options of {@link parseReference}. */
export interface ParseReferenceOptions {
  /**
   * Vault DNS suffixes accepted in `SecretUri` and used for `VaultName` (the first one).
   * Default: the public cloud and the sovereign clouds — `vault.azure.net`, `vault.azure.cn`,
   * `vault.usgovcloudapi.net`, `vault.microsoftazure.de`.
   */
  dnsSuffixes?: readonly string[];
}

export const DEFAULT_DNS_SUFFIXES: readonly string[] = Object.freeze(['vault.azure.net', 'vault.azure.cn', 'vault.usgovcloudapi.net', 'vault.microsoftazure.de']);

const PREFIX = '@Microsoft.KeyVault(';
const VAULT_NAME = /^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;
const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9a-f]{32}$/i;

/** True when `text` has the shape of a reference (starts with `@Microsoft.KeyVault(`). */
export function isReference(text: unknown): text is string {
  return typeof text === 'string' && text.trimStart().toLowerCase().startsWith(PREFIX.toLowerCase());
}

/**
 * Parses an App Service Key Vault reference.
 * @throws {SecretError} `ERR_SECRET_REFERENCE` naming what is wrong (never echoing `text`).
 * @example
 * ```ts
 * parseReference('@Microsoft.KeyVault(VaultName=myvault;SecretName=db-password)');
 * // { vaultUrl: 'https://myvault.vault.azure.net', name: 'db-password', version: undefined }
 * ```
 */
export function parseReference(text: string, options: ParseReferenceOptions = {}): SecretReference {
  if (typeof text !== 'string') throw new TypeError('reference must be a string');
  const suffixes = (options.dnsSuffixes ?? DEFAULT_DNS_SUFFIXES).map((s) => s.toLowerCase().replace(/^\./, ''));
  if (suffixes.length === 0) throw new RangeError('options.dnsSuffixes must not be empty');
  const t = text.trim();
  if (!t.toLowerCase().startsWith(PREFIX.toLowerCase()) || !t.endsWith(')')) throw bad('it is not of the form @Microsoft.KeyVault(...)');
  const body = t.slice(PREFIX.length, -1);
  const pairs = new Map<string, string>();
  for (const part of body.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad('a part is not Name=Value');
    const key = part.slice(0, eq).trim().toLowerCase();
    if (pairs.has(key)) throw bad(`${part.slice(0, eq).trim()} is given twice`);
    pairs.set(key, part.slice(eq + 1).trim());
  }
  const uri = pairs.get('secreturi');
  if (uri !== undefined) {
    if (pairs.size !== 1) throw bad('SecretUri cannot be combined with other parts');
    return fromUri(uri, suffixes);
  }
  const vault = pairs.get('vaultname');
  const name = pairs.get('secretname');
  const version = pairs.get('secretversion');
  for (const k of pairs.keys()) if (!['vaultname', 'secretname', 'secretversion'].includes(k)) throw bad('an unknown part is present (expected SecretUri, or VaultName;SecretName[;SecretVersion])');
  if (vault === undefined || name === undefined) throw bad('it needs SecretUri=…, or both VaultName=… and SecretName=…');
  if (!VAULT_NAME.test(vault)) throw bad('VaultName is not a valid vault name (3-24 letters, digits and hyphens, starting with a letter)');
  return checked(`https://${vault.toLowerCase()}.${suffixes[0]}`, name, version === '' ? undefined : version);
}

function fromUri(uri: string, suffixes: readonly string[]): SecretReference {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw bad('SecretUri is not a URL');
  }
  if (url.protocol !== 'https:') throw bad('SecretUri must be https');
  if (url.username || url.password || url.search || url.hash || url.port) throw bad('SecretUri must not carry credentials, a port, a query or a fragment');
  const host = url.hostname.toLowerCase();
  const suffix = suffixes.find((s) => host.endsWith(`.${s}`));
  if (suffix === undefined || !VAULT_NAME.test(host.slice(0, -(suffix.length + 1)))) throw bad(`SecretUri's host is not <vault>.${suffixes.join(' | <vault>.')}`);
  // App Service accepts one trailing slash: /secrets/<name>/ and /secrets/<name>/<version>/.
  const segments = url.pathname.replace(/\/$/, '').split('/').slice(1);
  if (segments[0] !== 'secrets' || segments.length < 2 || segments.length > 3 || segments.includes('')) throw bad('SecretUri path must be /secrets/<name>[/<version>]');
  return checked(`https://${host}`, segments[1]!, segments[2]);
}

function checked(vaultUrl: string, name: string, version: string | undefined): SecretReference {
  if (!SECRET_NAME.test(name)) throw bad('the secret name must be 1-127 letters, digits and hyphens');
  if (version !== undefined && !VERSION.test(version)) throw bad('the secret version must be 32 hexadecimal characters');
  return Object.freeze({ vaultUrl, name, version: version?.toLowerCase() });
}

function bad(why: string): SecretError {
  return new SecretError('ERR_SECRET_REFERENCE', `invalid Key Vault reference: ${why}`);
}

/** `https://vault/secrets/name[/version]`: how errors and events name a secret. */
export function secretId(ref: SecretReference): string {
  return `${ref.vaultUrl}/secrets/${ref.name}${ref.version === undefined ? '' : `/${ref.version}`}`;
}
