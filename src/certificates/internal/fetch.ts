/**
 * One certificate version with its private key, through the real CertificateClient and
 * SecretClient: `getCertificate` (metadata: the current version, enabled, validity; no private
 * key), then `getSecret` of that exact version (the PFX or PEM). Each call has a deadline and
 * our bounded retry (the same loop as KeyVaultKek); failures become typed CertificateErrors
 * naming the certificate and the role that would allow the call.
 *
 * @module
 * @internal
 */
import type { CertificateClient } from '@azure/keyvault-certificates';
import type { SecretClient } from '@azure/keyvault-secrets';
import { linkSignal } from '../../azure/internal/call.js';
import { type RetryPolicy, withRetry } from '../../azure/internal/retry.js';
import { CertificateError } from '../errors.js';
import { type CertificateContent, ContentError, readSecretValue } from './content.js';

/** The clients and settings of one certificate. */
export interface CertificateLocation {
  readonly vaultUrl: string;
  readonly name: string;
  readonly certificates: CertificateClient;
  readonly secrets: SecretClient;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
}

/** The current version's metadata. */
export interface CurrentVersion {
  readonly version: string;
  readonly enabled: boolean;
}

/** A loaded version: never logged (it holds the private key). */
export interface LoadedVersion extends CertificateContent {
  readonly version: string;
}

const ROLE = 'Key Vault Certificate User (certificates/read and secrets/getSecret/action)';

async function call<T>(where: CertificateLocation, id: string, signal: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
  signal?.throwIfAborted();
  const linked = linkSignal(signal, where.timeoutMs);
  try {
    return await withRetry(fn, where.retry, linked.signal, linked.deadline);
  } catch (err) {
    signal?.throwIfAborted();
    throw toCertificateError(err, id, linked.timedOut(), where.timeoutMs);
  } finally {
    linked.dispose();
  }
}

/** The current version of the certificate (one `getCertificate`, no private key). */
export async function currentVersion(where: CertificateLocation, signal?: AbortSignal): Promise<CurrentVersion> {
  const id = `${where.vaultUrl}/certificates/${where.name}`;
  const cert = await call(where, id, signal, (s) => where.certificates.getCertificate(where.name, { abortSignal: s }));
  const version = cert.properties.version;
  if (version === undefined || version === '') throw new CertificateError('ERR_CERTIFICATE_UNAVAILABLE', `${id}: Key Vault returned no version`, { certificate: id });
  return { version, enabled: cert.properties.enabled !== false };
}

/**
 * `version` with its private key and chain (one `getSecret`).
 * @throws {CertificateError} NOT_EXPORTABLE when the secret holds no private key; MALFORMED when it does not parse.
 */
export async function loadVersion(where: CertificateLocation, version: string, signal?: AbortSignal): Promise<LoadedVersion> {
  const id = `${where.vaultUrl}/certificates/${where.name}/${version}`;
  const secret = await call(where, id, signal, (s) => where.secrets.getSecret(where.name, { version, abortSignal: s }));
  if (secret.value === undefined) throw new CertificateError('ERR_CERTIFICATE_UNAVAILABLE', `${id}: Key Vault returned no secret value`, { certificate: id });
  let content: CertificateContent;
  try {
    content = await readSecretValue(secret.value, secret.properties.contentType);
  } catch (err) {
    if (!(err instanceof ContentError)) throw err;
    throw new CertificateError('ERR_CERTIFICATE_MALFORMED', `${id}: its secret is not a readable PFX/PEM (${err.message})`, { certificate: id, cause: err });
  }
  if (content.privateKey === undefined) {
    throw new CertificateError('ERR_CERTIFICATE_NOT_EXPORTABLE', `${id}: its secret holds no private key (the certificate's key is not exportable)`, { certificate: id });
  }
  return { ...content, version };
}

/** The typed error of a failed read. */
export function toCertificateError(err: unknown, id: string, timedOut: boolean, timeoutMs: number): CertificateError {
  if (err instanceof CertificateError) return err;
  const o = { cause: err, certificate: id };
  if (timedOut) return new CertificateError('ERR_CERTIFICATE_UNAVAILABLE', `${id}: timed out after ${timeoutMs} ms`, o);
  const status = (err as { statusCode?: unknown })?.statusCode;
  const code = String((err as { code?: unknown })?.code ?? '');
  const text = `${code} ${JSON.stringify((err as { details?: unknown })?.details ?? '')} ${err instanceof Error ? err.message : ''}`;
  if (status === 401) return new CertificateError('ERR_CERTIFICATE_ACCESS_DENIED', `${id}: not authenticated (check the credential)`, o);
  if (status === 403 && /disabled/i.test(text)) return new CertificateError('ERR_CERTIFICATE_DISABLED', `${id}: the certificate version is disabled`, o);
  if (status === 403 && /export/i.test(text)) return new CertificateError('ERR_CERTIFICATE_NOT_EXPORTABLE', `${id}: the certificate's key is not exportable`, o);
  if (status === 403) return new CertificateError('ERR_CERTIFICATE_ACCESS_DENIED', `${id}: access denied; reading a certificate with its key needs ${ROLE}`, o);
  if (status === 404) return new CertificateError('ERR_CERTIFICATE_NOT_FOUND', `${id}: no such certificate or version (or it is deleted)`, o);
  if (typeof status === 'number') return new CertificateError('ERR_CERTIFICATE_UNAVAILABLE', `${id}: Key Vault answered ${status}${code ? ` ${code}` : ''}`, o);
  const name = err instanceof Error ? err.name : typeof err;
  if (/Credential|Authentication/.test(name)) return new CertificateError('ERR_CERTIFICATE_ACCESS_DENIED', `${id}: the credential could not get a token (${name})`, o);
  return new CertificateError('ERR_CERTIFICATE_UNAVAILABLE', `${id}: ${code || name}`, o);
}
