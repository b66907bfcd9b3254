/**
 * One secret read through the real SecretClient: a deadline, our bounded retry (429 with or
 * without Retry-After, 5xx, dropped connections: the same loop as KeyVaultKek), and the service's
 * answers as typed SecretErrors — a 403 names the role that grants reading values.
 *
 * @module
 * @internal
 */
import type { KeyVaultSecret, SecretClient } from '@azure/keyvault-secrets';
import { linkSignal } from '../../azure/internal/call.js';
import { type RetryPolicy, withRetry } from '../../azure/internal/retry.js';
import { SecretError } from '../errors.js';
import { type SecretReference, secretId } from '../reference.js';

/** What a read returns: never logged, never in an error. */
export interface FetchedSecret {
  readonly value: string;
  readonly version: string;
  readonly contentType: string | undefined;
  readonly expiresOn: Date | undefined;
  readonly notBefore: Date | undefined;
}

/** Reads `ref` (its version, or the latest). */
export async function fetchSecret(client: SecretClient, ref: SecretReference, retry: RetryPolicy, timeoutMs: number, signal?: AbortSignal): Promise<FetchedSecret> {
  const linked = linkSignal(signal, timeoutMs);
  try {
    const s: KeyVaultSecret = await withRetry(
      (sig) => client.getSecret(ref.name, { abortSignal: sig, ...(ref.version === undefined ? {} : { version: ref.version }) }),
      retry, linked.signal, linked.deadline,
    );
    if (s.value === undefined) throw new SecretError('ERR_SECRET_UNAVAILABLE', `${secretId(ref)}: Key Vault returned no value`, { secret: secretId(ref) });
    return {
      value: s.value,
      version: s.properties.version ?? '',
      contentType: s.properties.contentType,
      expiresOn: s.properties.expiresOn,
      notBefore: s.properties.notBefore,
    };
  } catch (err) {
    signal?.throwIfAborted();
    throw toSecretError(err, ref, linked.timedOut(), timeoutMs);
  } finally {
    linked.dispose();
  }
}

const ROLE = 'Key Vault Secrets User (data action Microsoft.KeyVault/vaults/secrets/getSecret/action)';

function toSecretError(err: unknown, ref: SecretReference, timedOut: boolean, timeoutMs: number): SecretError {
  if (err instanceof SecretError) return err;
  const id = secretId(ref);
  const o = { cause: err, secret: id };
  if (timedOut) return new SecretError('ERR_SECRET_UNAVAILABLE', `${id}: timed out after ${timeoutMs} ms`, o);
  const status = (err as { statusCode?: unknown })?.statusCode;
  const code = String((err as { code?: unknown })?.code ?? '');
  const inner = JSON.stringify((err as { details?: unknown })?.details ?? '');
  if (status === 401) return new SecretError('ERR_SECRET_ACCESS_DENIED', `${id}: not authenticated (check the credential)`, o);
  if (status === 403 && /disabled/i.test(`${code} ${inner}`)) return new SecretError('ERR_SECRET_DISABLED', `${id}: the secret (version) is disabled`, o);
  if (status === 403) return new SecretError('ERR_SECRET_ACCESS_DENIED', `${id}: access denied; reading secret values needs ${ROLE}`, o);
  if (status === 404) return new SecretError('ERR_SECRET_NOT_FOUND', `${id}: no such secret or version (or it is deleted)`, o);
  if (typeof status === 'number') return new SecretError('ERR_SECRET_UNAVAILABLE', `${id}: Key Vault answered ${status}${code ? ` ${code}` : ''}`, o);
  const name = err instanceof Error ? err.name : typeof err;
  if (/Credential|Authentication/.test(name)) return new SecretError('ERR_SECRET_ACCESS_DENIED', `${id}: the credential could not get a token (${name})`, o);
  return new SecretError('ERR_SECRET_UNAVAILABLE', `${id}: ${code || name}`, o);
}
