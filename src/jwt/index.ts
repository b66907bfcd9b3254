/**
 * `kv-envelope/jwt`: JWTs signed by an Azure Key Vault key (the private key never leaves the
 * vault), a JWKS with safe rotation, and local verification. Needs the optional peer dependency
 * `@azure/keyvault-keys` (and a `TokenCredential`, e.g. from `@azure/identity`).
 *
 * - {@link JwtSigner}: ES256 (default), ES384, ES512, ES256K, RS256/384/512, PS256/384/512.
 *   The digest is computed locally; Key Vault signs it with the exact key version the rotation
 *   schedule picked. `kid` = the Key Vault version id. With `certificateName` it signs with a
 *   Key Vault certificate's key: `x5t#S256` in the header, `x5c` in the JWKS, renewals rotate.
 * - {@link jwksHandler}: serves `signer.jwks()` with Cache-Control and a strong ETag.
 * - {@link createVerifier}: verifies with node:crypto (no vault call per token), ES256K included.
 *
 * Rotation timeline and settings: docs/operations.md (JWT signing).
 *
 * @example
 * ```ts
 * import { DefaultAzureCredential } from '@azure/identity';
 * import { JwtSigner, createVerifier, jwksHandler } from 'kv-envelope/jwt';
 *
 * const signer = new JwtSigner({ vaultUrl: 'https://myvault.vault.azure.net', keyName: 'jwt', credential: new DefaultAzureCredential() });
 * const token = await signer.sign({ scope: 'orders:read' }, { issuer: 'https://issuer.example', audience: 'orders', expiresIn: '15m' });
 * const verifier = createVerifier({ signer, algorithms: ['ES256'], issuer: 'https://issuer.example', audience: 'orders' });
 * const { payload } = await verifier.verify(token);
 * app.get('/.well-known/jwks.json', jwksHandler(signer));
 * ```
 *
 * @module
 */
export { JwtSigner } from './sign/signer.js';
export type { KeyVersionStatus } from './rotation/key-ring.js';
export type { JwtSignerOptions } from './sign/options.js';
export type { SignOptions } from './sign/claims.js';
export { jwksHandler, type JwksHandlerOptions, type JwksSource } from './jwks/handler.js';
export type { EcPublicJwk, JwkSet, PublicJwk, RsaPublicJwk } from './jwks/jwk.js';
export { createVerifier, type JwtVerifier, type VerifiedJwt, type VerifierOptions } from './verify/verifier.js';
export { verifyJwsSignature } from './verify/signature.js';
export type { VersionState } from './rotation/schedule.js';
export type { JwkCurve, JwsAlgorithm } from './internal/algorithms.js';
export type { Duration } from './internal/values.js';
export {
  JwtAlgorithmNotAllowedError, JwtClaimInvalidError, JwtError, type JwtErrorCode, JwtExpiredError, JwtInvalidError,
  JwtKeyNotFoundError, JwtNotYetValidError, JwtSignatureError, JwtSigningFailedError,
} from './errors.js';
