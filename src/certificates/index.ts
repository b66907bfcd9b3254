/**
 * `kv-envelope/certificates`: Key Vault certificates for Node servers. {@link createTlsCredentials}
 * loads a certificate's key and chain from the vault for `https` / `http2` / `tls` and swaps
 * the server's context when the vault renews it, without a restart or a dropped connection.
 * JWTs signed by a certificate's key: `JwtSigner({ certificateName })` in `kv-envelope/jwt`.
 * Guide: docs/certificates.md.
 *
 * @module
 */
export { createTlsCredentials, TlsCredentials } from './tls-credentials.js';
export type { SecureContextTarget, TlsCredentialsEvents, TlsRenewedEvent } from './tls-credentials.js';
export type { CertificateClientsOptions, TlsCredentialsOptions } from './internal/options.js';
export { TlsMaterial, type TlsMaterialInfo } from './tls-material.js';
export { CertificateError, type CertificateErrorCode } from './errors.js';
