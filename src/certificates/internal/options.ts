/**
 * Options of {@link createTlsCredentials} and their validation. Public types: this comment must
 * not carry the internal tag (under `stripInternal` it would strip the first import with it).
 *
 * @module
 */
import type { CertificateClientOptions } from '@azure/keyvault-certificates';
import type { KeyClientOptions } from '@azure/keyvault-keys';
import { withErrorBodyPolicy } from '../../azure/internal/error-body-policy.js';
import { parseVaultUrl } from '../../azure/internal/key-id.js';
import { assertCredentialOptions } from '../../azure/internal/key-options.js';
import { type KeyVaultRetryOptions, type RetryPolicy, resolveRetryPolicy } from '../../azure/internal/retry.js';
import type { TokenCredential } from '../../azure/internal/vault-clients.js';
import { assertPositiveInt } from '../../internal/bytes.js';
import { assertClock, type Duration, durationSeconds, positiveDurationSeconds } from '../../jwt/internal/values.js';

/** Options shared by the certificate and secret clients (e.g. the local vault's `clientOptions`). */
export type CertificateClientsOptions = Omit<CertificateClientOptions, 'serviceVersion'>;

/** Options of {@link createTlsCredentials}. Durations are seconds or strings like `"30m"`, `"30d"`. */
export interface TlsCredentialsOptions {
  /** The vault, e.g. `https://myvault.vault.azure.net`. */
  vaultUrl: string;
  /** The certificate's name. Its key must be exportable (the TLS server needs the private key). */
  certificateName: string;
  /** Any `TokenCredential`; it needs Key Vault Certificate User on the certificate. */
  credential: TokenCredential;
  /** Passed to the CertificateClient and SecretClient; `retryOptions.maxRetries` is forced to 0 (we retry). */
  clientOptions?: CertificateClientsOptions;
  /** How often the vault is asked for a new version (default `"1h"`; one `getCertificate` each time, plus one `getSecret` per new version). */
  refreshInterval?: Duration;
  /** `nearExpiry` is emitted once per version when its notAfter is closer than this (default `"30d"`). */
  nearExpiry?: Duration;
  /** Our bounded retry of throttling and transient failures. */
  retry?: KeyVaultRetryOptions;
  /** Bound on each vault call (retries and waits included), ms (default 30 s). */
  timeoutMs?: number;
  /** Aborts the first load, and stops the refreshes when aborted later (as `close()`). */
  signal?: AbortSignal;
  /** Clock, ms since the epoch (default `Date.now`): validity and `nearExpiry`. */
  now?: () => number;
}

/** Validated options. */
export interface ResolvedTlsOptions {
  readonly vaultUrl: string;
  readonly name: string;
  readonly credential: TokenCredential;
  readonly clientOptions: CertificateClientsOptions;
  readonly refreshIntervalMs: number;
  readonly nearExpiryMs: number;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly now: () => number;
}

/**
 * @throws {TypeError | RangeError} naming the offending option.
 */
export function resolveTlsOptions(o: TlsCredentialsOptions): ResolvedTlsOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  const vaultUrl = parseVaultUrl(o.vaultUrl, 'options.vaultUrl');
  if (typeof o.certificateName !== 'string') throw new TypeError('options.certificateName must be a string');
  if (!/^[0-9A-Za-z-]{1,127}$/.test(o.certificateName)) throw new RangeError('options.certificateName must be 1-127 letters, digits or dashes');
  assertCredentialOptions(o);
  const timeoutMs = o.timeoutMs ?? 30_000;
  assertPositiveInt(timeoutMs, 'options.timeoutMs');
  assertClock(o.now, 'options.now');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  const user = o.clientOptions ?? {};
  const refreshIntervalMs = positiveDurationSeconds(o.refreshInterval ?? '1h', 'options.refreshInterval') * 1000;
  // setInterval takes at most 2^31-1 ms; a longer interval would fire at once, every millisecond.
  if (refreshIntervalMs > 2 ** 31 - 1) throw new RangeError('options.refreshInterval must be at most 24 days');
  return {
    vaultUrl,
    name: o.certificateName,
    credential: o.credential,
    // One retry loop (ours), as KeyVaultKek: see src/azure/options.ts.
    clientOptions: withErrorBodyPolicy({ ...user, retryOptions: { ...user.retryOptions, maxRetries: 0 } } as KeyClientOptions) as CertificateClientsOptions,
    refreshIntervalMs,
    nearExpiryMs: durationSeconds(o.nearExpiry ?? '30d', 'options.nearExpiry') * 1000,
    retry: resolveRetryPolicy(o.retry),
    timeoutMs,
    signal: o.signal,
    now: o.now ?? Date.now,
  };
}
