/**
 * Options of {@link KeyVaultKek} and their validation.
 *
 * @module
 */
import type { KeyClientOptions, KeyVaultKey } from '@azure/keyvault-keys';
import { assertPositiveInt } from '../internal/bytes.js';
import { assertWrappingKeyType, type OctWrapAlgorithm } from './internal/algorithms.js';
import { withErrorBodyPolicy } from './internal/error-body-policy.js';
import { AllowList, type ParsedKeyId, parseKeyId } from './internal/key-id.js';
import { assertCredentialOptions, resolveKeyLocator } from './internal/key-options.js';
import { type KeyVaultRetryOptions, type RetryPolicy, resolveRetryPolicy } from './internal/retry.js';
import type { TokenCredential } from './internal/vault-clients.js';

export type { KeyVaultRetryOptions, OctWrapAlgorithm, TokenCredential };

/**
 * Options of {@link KeyVaultKek}. Name the key one way: `vaultUrl` + `keyName`, `keyId`, or `key`.
 */
export interface KeyVaultKekOptions {
  /** The vault, e.g. `https://myvault.vault.azure.net` (with `keyName`). */
  vaultUrl?: string;
  /** The key's name in `vaultUrl`. */
  keyName?: string;
  /**
   * The key id. Versionless (`https://myvault.vault.azure.net/keys/kek`): wrap with its latest
   * enabled version. Versioned (`…/keys/kek/{version}`): always wrap with that version.
   */
  keyId?: string;
  /** A key you already fetched (e.g. from `createRsaKey`): its type is checked right away; wraps follow its latest version. */
  key?: KeyVaultKey;
  /** Any `TokenCredential` (@azure/core-auth), e.g. `DefaultAzureCredential`. */
  credential: TokenCredential;
  /** Passed to every `KeyClient` this KEK makes; `retryOptions.maxRetries` is forced to 0 (we retry). */
  clientOptions?: KeyClientOptions;
  /**
   * More keys `unwrap` may contact: versionless key ids (`https://host/keys/name`, any version)
   * or vault URLs (`https://host`, any key there). The configured key is always allowed.
   */
  allowedKeys?: readonly string[];
  /** How long a resolved key version is used before the latest is looked up again, ms (default 5 min). */
  refreshInterval?: number;
  /** Our bounded retry of throttling and transient failures. */
  retry?: KeyVaultRetryOptions;
  /** Bound on each operation (retries and waits included), ms (default 30 s). */
  timeoutMs?: number;
  /**
   * AES-KW variant for oct-HSM keys (default `'A256KW'`). Key Vault does not report the size of
   * an oct key, so set `'A128KW'` / `'A192KW'` for 128- / 192-bit keys.
   */
  octWrapAlgorithm?: OctWrapAlgorithm;
  /** Clock for key attribute checks and refresh timing, ms since the epoch (default `Date.now`). */
  now?: () => number;
}

/** Validated options. */
export interface ResolvedKekOptions {
  readonly key: ParsedKeyId;
  readonly credential: TokenCredential;
  readonly clientOptions: KeyClientOptions;
  readonly allowList: AllowList;
  readonly refreshIntervalMs: number;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly octWrapAlgorithm: OctWrapAlgorithm;
  readonly now: () => number;
}

const OCT_ALGS: readonly string[] = ['A128KW', 'A192KW', 'A256KW'];

function resolveKey(o: KeyVaultKekOptions): ParsedKeyId {
  const ways = [o.keyId !== undefined, o.vaultUrl !== undefined || o.keyName !== undefined, o.key !== undefined].filter(Boolean).length;
  if (ways !== 1) throw new TypeError('options must name the key exactly one way: vaultUrl + keyName, keyId, or key');
  if (o.key !== undefined) {
    if (o.key === null || typeof o.key !== 'object' || typeof o.key.id !== 'string') throw new TypeError('options.key must be a KeyVaultKey');
    assertWrappingKeyType(o.key);
    const id = parseKeyId(o.key.id);
    if (id === undefined) throw new RangeError(`options.key.id is not a Key Vault key id: ${o.key.id}`);
    return { origin: id.origin, name: id.name };
  }
  return resolveKeyLocator(o);
}

/**
 * Validates {@link KeyVaultKekOptions}.
 * @throws {TypeError | RangeError} naming the offending option.
 * @throws {UnsupportedKeyTypeError} when `options.key` is an EC key.
 */
export function resolveKekOptions(o: KeyVaultKekOptions): ResolvedKekOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  const key = resolveKey(o);
  assertCredentialOptions(o);
  const allowList = new AllowList(o.allowedKeys ?? [], 'options.allowedKeys');
  allowList.addKey(key);
  const refreshIntervalMs = o.refreshInterval ?? 5 * 60_000;
  assertPositiveInt(refreshIntervalMs, 'options.refreshInterval');
  const timeoutMs = o.timeoutMs ?? 30_000;
  assertPositiveInt(timeoutMs, 'options.timeoutMs');
  const octWrapAlgorithm = o.octWrapAlgorithm ?? 'A256KW';
  if (!OCT_ALGS.includes(octWrapAlgorithm)) throw new RangeError(`options.octWrapAlgorithm must be one of ${OCT_ALGS.join(', ')}`);
  if (o.now !== undefined && typeof o.now !== 'function') throw new TypeError('options.now must be a function');
  const user = o.clientOptions ?? {};
  return {
    key,
    credential: o.credential,
    // The pipeline would retry 429/503 with Retry-After and 5xx up to 3 times on its own, under
    // our loop: 6 x 4 attempts. Retrying in one place keeps the bound what `retry` says.
    clientOptions: withErrorBodyPolicy({ ...user, retryOptions: { ...user.retryOptions, maxRetries: 0 } }),
    allowList,
    refreshIntervalMs,
    retry: resolveRetryPolicy(o.retry),
    timeoutMs,
    octWrapAlgorithm,
    now: o.now ?? Date.now,
  };
}
