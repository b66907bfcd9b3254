/**
 * Errors of kv-envelope/certificates. Messages name the certificate (vault, name, version) —
 * never key material, never a password, never the secret's content.
 *
 * @module
 */
import { EnvelopeError, type EnvelopeErrorCode, type EnvelopeErrorOptions } from '../errors.js';

/** The stable codes of {@link CertificateError} (listed once, in src/errors.ts). */
export type CertificateErrorCode = Extract<EnvelopeErrorCode, `ERR_CERTIFICATE_${string}`>;

/**
 * A certificate could not be loaded or used. `code` says why:
 *
 * - `ERR_CERTIFICATE_NOT_FOUND`: no such certificate or version (or it is deleted).
 * - `ERR_CERTIFICATE_ACCESS_DENIED`: the credential may not read it (needs Key Vault Certificate User).
 * - `ERR_CERTIFICATE_DISABLED`: the version is disabled.
 * - `ERR_CERTIFICATE_EXPIRED`: past its notAfter (or before its notBefore).
 * - `ERR_CERTIFICATE_NOT_EXPORTABLE`: its key is not exportable, so its secret has no private key.
 * - `ERR_CERTIFICATE_MALFORMED`: the secret or file is not a PFX/PEM we can read (wrong password included).
 * - `ERR_CERTIFICATE_UNAVAILABLE`: the vault could not be reached (after bounded retries).
 *
 * @example `if (err instanceof CertificateError && err.code === 'ERR_CERTIFICATE_NOT_EXPORTABLE') …`
 */
export class CertificateError extends EnvelopeError {
  declare readonly code: CertificateErrorCode;
  /** `https://vault/certificates/name[/version]`, when known. */
  readonly certificate: string | undefined;

  constructor(code: CertificateErrorCode, message: string, options?: EnvelopeErrorOptions & { certificate?: string }) {
    super(code, message, options);
    this.certificate = options?.certificate;
  }
}
