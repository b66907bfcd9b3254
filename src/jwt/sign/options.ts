/**
 * Options of {@link JwtSigner} and their validation.
 *
 * @module
 */
import type { KeyClientOptions } from '@azure/keyvault-keys';
import { withErrorBodyPolicy } from '../../azure/internal/error-body-policy.js';
import { type ParsedKeyId, parseVaultUrl } from '../../azure/internal/key-id.js';
import { assertCredentialOptions, resolveKeyLocator } from '../../azure/internal/key-options.js';
import { type KeyVaultRetryOptions, type RetryPolicy, resolveRetryPolicy } from '../../azure/internal/retry.js';
import type { TokenCredential } from '../../azure/internal/vault-clients.js';
import { assertPositiveInt } from '../../internal/bytes.js';
import { ALGORITHM_NAMES, type AlgorithmSpec, algorithmSpec, type JwsAlgorithm } from '../internal/algorithms.js';
import { assertClock, type Duration, durationSeconds, positiveDurationSeconds } from '../internal/values.js';

/**
 * Options of {@link JwtSigner}. Name the key one way: `vaultUrl` + `keyName`, `keyId`, or
 * `vaultUrl` + `certificateName` (sign with the key of a Key Vault certificate).
 * Durations are whole seconds or strings like `"15m"`, `"2h"`, `"7d"`.
 */
export interface JwtSignerOptions {
  /** The vault, e.g. `https://myvault.vault.azure.net` (with `keyName`). */
  vaultUrl?: string;
  /** The key's name in `vaultUrl`. */
  keyName?: string;
  /**
   * A certificate's name in `vaultUrl`: sign with the key of its current version (its `kid`),
   * publish `x5c` and `x5t#S256`, and treat a renewal (a new certificate version) as a
   * rotation. Needs `certificates/read` and `keys/sign` (Key Vault Certificate User plus
   * Crypto User on the key, or Certificates Officer). Default algorithm `RS256`.
   */
  certificateName?: string;
  /**
   * The key id. Versionless (`https://myvault.vault.azure.net/keys/jwt`): follow the key's
   * versions with the rotation schedule. Versioned (`…/keys/jwt/{version}`): sign with and
   * publish only that version.
   */
  keyId?: string;
  /** Any `TokenCredential` (@azure/core-auth), e.g. `DefaultAzureCredential`. */
  credential: TokenCredential;
  /** Passed to the `KeyClient`; `retryOptions.maxRetries` is forced to 0 (we retry). */
  clientOptions?: KeyClientOptions;
  /** The JWS algorithm (default `'ES256'`; `'RS256'` with `certificateName`). It must fit the key: see docs/operations.md (JWT signing). */
  algorithm?: JwsAlgorithm;
  /** How long a new version is published before it signs (default `"1h"`). */
  publishLeadTime?: Duration;
  /** The longest lifetime (`exp - iat`) of a token; also the default `expiresIn` (default `"1h"`). */
  maxTokenLifetime?: Duration;
  /** Verifiers' clock skew allowance, added to how long retired versions stay published (default `"5m"`). */
  clockSkew?: Duration;
  /** How often the versions are re-read from the vault (default `"5m"`). */
  refreshInterval?: Duration;
  /** Our bounded retry of throttling and transient failures. */
  retry?: KeyVaultRetryOptions;
  /** Bound on each vault operation (retries and waits included), ms (default 30 s). */
  timeoutMs?: number;
  /** Clock, ms since the epoch (default `Date.now`): iat/exp and the rotation schedule. */
  now?: () => number;
}

/** Validated options. */
export interface ResolvedSignerOptions {
  /** The key; for a certificate, `{ origin, name: certificateName }` (its key has the same name). */
  readonly key: ParsedKeyId;
  /** True when the key is a certificate's. */
  readonly certificate: boolean;
  readonly credential: TokenCredential;
  readonly clientOptions: KeyClientOptions;
  readonly algorithm: AlgorithmSpec;
  readonly publishLeadMs: number;
  readonly maxTokenLifetimeSeconds: number;
  readonly clockSkewMs: number;
  readonly refreshIntervalMs: number;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly now: () => number;
}

function resolveKey(o: JwtSignerOptions): ParsedKeyId {
  const ways = [o.keyId !== undefined, o.keyName !== undefined, o.certificateName !== undefined].filter(Boolean).length;
  if (ways !== 1 || (o.keyId !== undefined && o.vaultUrl !== undefined)) {
    throw new TypeError('options must name the key exactly one way: vaultUrl + keyName, keyId, or vaultUrl + certificateName');
  }
  if (o.certificateName === undefined) return resolveKeyLocator(o);
  if (typeof o.certificateName !== 'string') throw new TypeError('options.certificateName must be a string');
  // Certificate names follow the key name rules (1-127 letters, digits, dashes): its key has the same name.
  if (!/^[0-9A-Za-z-]{1,127}$/.test(o.certificateName)) throw new RangeError('options.certificateName must be 1-127 letters, digits or dashes');
  return { origin: parseVaultUrl(o.vaultUrl, 'options.vaultUrl'), name: o.certificateName };
}

/**
 * Validates {@link JwtSignerOptions}.
 * @throws {TypeError | RangeError} naming the offending option.
 */
export function resolveSignerOptions(o: JwtSignerOptions): ResolvedSignerOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  const key = resolveKey(o);
  assertCredentialOptions(o);
  const certificate = o.certificateName !== undefined;
  const algorithm = algorithmSpec(o.algorithm ?? (certificate ? 'RS256' : 'ES256'));
  if (algorithm === undefined) {
    throw new RangeError(`options.algorithm must be one of ${ALGORITHM_NAMES.join(', ')}, got ${JSON.stringify(o.algorithm)}`);
  }
  const timeoutMs = o.timeoutMs ?? 30_000;
  assertPositiveInt(timeoutMs, 'options.timeoutMs');
  assertClock(o.now, 'options.now');
  const user = o.clientOptions ?? {};
  return {
    key,
    certificate,
    credential: o.credential,
    // One retry loop (ours), as KeyVaultKek: see src/azure/options.ts.
    clientOptions: withErrorBodyPolicy({ ...user, retryOptions: { ...user.retryOptions, maxRetries: 0 } }),
    algorithm,
    publishLeadMs: durationSeconds(o.publishLeadTime ?? '1h', 'options.publishLeadTime') * 1000,
    maxTokenLifetimeSeconds: positiveDurationSeconds(o.maxTokenLifetime ?? '1h', 'options.maxTokenLifetime'),
    clockSkewMs: durationSeconds(o.clockSkew ?? '5m', 'options.clockSkew') * 1000,
    refreshIntervalMs: positiveDurationSeconds(o.refreshInterval ?? '5m', 'options.refreshInterval') * 1000,
    retry: resolveRetryPolicy(o.retry),
    timeoutMs,
    now: o.now ?? Date.now,
  };
}
