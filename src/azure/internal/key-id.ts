/**
 * Key Vault key ids and the unwrap allow-list. A kid is `https://{host}[:port]/keys/{name}[/{version}]`
 * (reference §1.7: exactly 3 or 4 path segments; vaults are routed by host, never by path).
 *
 * Normal form, used for every comparison: the WHATWG URL parser's (lowercase host, IDN as
 * punycode, default port 443 dropped), no trailing slash, and the key name lowercased because
 * Key Vault object names are case-insensitive (`/keys/Kek` and `/keys/kek` are one key).
 *
 * @module
 * @internal
 */

/** Key Vault key names: 1-127 letters, digits and dashes. */
const KEY_NAME = /^[0-9A-Za-z-]{1,127}$/;
/** Key versions are opaque; the service issues 32 hex digits. Bounded and URL-safe here. */
const KEY_VERSION = /^[0-9A-Za-z]{1,64}$/;
/** A kid longer than this is refused without parsing (the format caps kekIds at 1 KiB). */
const MAX_KEY_ID_LENGTH = 1024;

/** A parsed, normalized key id. */
export interface ParsedKeyId {
  /** `https://host[:port]`, lowercase host, default port dropped. */
  readonly origin: string;
  /** The key name as written. */
  readonly name: string;
  /** The version, absent for a versionless id. */
  readonly version?: string;
}

/**
 * Characters the WHATWG URL parser silently strips or rewrites (leading/trailing C0 controls and
 * spaces, tab and newlines anywhere, `\` read as `/`): a kid holding one is not canonical and is
 * refused rather than normalized, so one kid never has two spellings that reach the same key.
 */
// eslint-disable-next-line no-control-regex
const NON_CANONICAL = /[\u0000-\u0020\u007f-\u009f\\]|\s/u;

/** `https://host[:port]` in plain ASCII, then the path as written. */
const AUTHORITY_AND_PATH = /^https:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(\/[^?#]*)?$/;

function parseUrl(text: unknown): URL | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_KEY_ID_LENGTH) return undefined;
  if (NON_CANONICAL.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  // Credentials, queries and fragments have no place in a kid: refuse rather than ignore them.
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return undefined;
  }
  // The path must be the parser's own: no dot segments or percent-encodings it would rewrite.
  const written = AUTHORITY_AND_PATH.exec(text);
  const path = written?.[1] ?? '';
  if (written === null || (path !== url.pathname && !(path === '' && url.pathname === '/'))) return undefined;
  return url;
}

/**
 * Parses `text` as a Key Vault key id (versioned or versionless). Undefined when it is not one:
 * not https, credentials/query/fragment present, a path other than `/keys/{name}[/{version}]`.
 */
export function parseKeyId(text: unknown): ParsedKeyId | undefined {
  const url = parseUrl(text);
  if (url === undefined) return undefined;
  const segments = url.pathname.split('/');
  // '' 'keys' name [version]
  if (segments.length < 3 || segments.length > 4 || segments[0] !== '' || segments[1] !== 'keys') return undefined;
  const name = segments[2]!;
  const version = segments[3];
  if (!KEY_NAME.test(name)) return undefined;
  if (version === undefined || version === '') return { origin: url.origin, name };
  if (!KEY_VERSION.test(version)) return undefined;
  return { origin: url.origin, name, version };
}

/** `https://host/keys/name` */
export function versionlessId(id: ParsedKeyId): string {
  return `${id.origin}/keys/${id.name}`;
}

/** The id as configured: versioned when a version was pinned, versionless otherwise. */
export function configuredId(id: ParsedKeyId): string {
  return id.version === undefined ? versionlessId(id) : versionedId(id);
}

/** `https://host/keys/name/version` (the id must have a version). */
export function versionedId(id: ParsedKeyId, version = id.version): string {
  if (version === undefined) throw new RangeError('a versioned key id needs a version');
  return `${id.origin}/keys/${id.name}/${version}`;
}

/** The comparison key of a key (versions ignored). */
function keyOf(origin: string, name: string): string {
  return `${origin}/keys/${name.toLowerCase()}`;
}

/**
 * Parses a vault URL (`https://host[:port]`, optional trailing slash) into its origin.
 * @throws {TypeError} when `text` is not a string.
 * @throws {RangeError} when it is not an https URL with an empty path.
 */
export function parseVaultUrl(text: unknown, name: string): string {
  if (typeof text !== 'string') throw new TypeError(`${name} must be a string`);
  const url = parseUrl(text);
  if (url === undefined || (url.pathname !== '/' && url.pathname !== '')) {
    throw new RangeError(`${name} must be an https vault URL like https://myvault.vault.azure.net, got ${JSON.stringify(text)}`);
  }
  return url.origin;
}

/**
 * The unwrap allow-list: versionless key ids (every version of that key) and vault URLs (every
 * key in that vault). A kekId is allowed when its normalized key or origin is on the list.
 */
export class AllowList {
  readonly #vaults = new Set<string>();
  readonly #keys = new Set<string>();

  /**
   * @param entries versionless key ids or vault URLs, as configured by the user.
   * @throws {TypeError} when `entries` is not an array of strings.
   * @throws {RangeError} when an entry is neither a versionless key id nor a vault URL.
   */
  constructor(entries: readonly unknown[], name: string) {
    if (!Array.isArray(entries)) throw new TypeError(`${name} must be an array of key ids or vault URLs`);
    entries.forEach((entry, i) => {
      if (typeof entry !== 'string') throw new TypeError(`${name}[${i}] must be a string`);
      const key = parseKeyId(entry);
      if (key !== undefined && key.version !== undefined) {
        throw new RangeError(`${name}[${i}] must be versionless (https://host/keys/name), got ${JSON.stringify(entry)}`);
      }
      if (key !== undefined) {
        this.#keys.add(keyOf(key.origin, key.name));
        return;
      }
      const url = parseUrl(entry);
      if (url === undefined || (url.pathname !== '/' && url.pathname !== '')) {
        throw new RangeError(`${name}[${i}] must be https://host or https://host/keys/name, got ${JSON.stringify(entry)}`);
      }
      this.#vaults.add(url.origin);
    });
  }

  /** Adds one key (versions ignored). */
  addKey(id: ParsedKeyId): void {
    this.#keys.add(keyOf(id.origin, id.name));
  }

  /** True when `id`'s key or vault is on the list. */
  allows(id: ParsedKeyId): boolean {
    return this.#vaults.has(id.origin) || this.#keys.has(keyOf(id.origin, id.name));
  }

  /** The entries in normal form, for descriptions. */
  entries(): string[] {
    return [...this.#vaults, ...this.#keys];
  }
}
