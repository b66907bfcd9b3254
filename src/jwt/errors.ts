/**
 * Errors of `kv-envelope/jwt`. Every failure of `verify()` is a {@link JwtError} with a stable
 * `code`; match on `code` or `instanceof`, never on `message`.
 *
 * Signing failures that come from Key Vault keep the core codes: `ERR_KEY_ACCESS_DENIED`
 * (RBAC), `ERR_KEY_DISABLED` (disabled, expired, or no version ready to sign),
 * `ERR_KEY_NOT_FOUND`, `ERR_UNSUPPORTED_KEY_TYPE` (algorithm and key do not fit) and
 * `ERR_KEK_UNAVAILABLE` (vault unreachable or throttled after bounded retries).
 *
 * @module
 */
import { EnvelopeError, type EnvelopeErrorCode, type EnvelopeErrorOptions } from '../errors.js';

/** The codes of {@link JwtError}s: the `ERR_JWT_*` members of the core's code union (listed once, in src/errors.ts). */
export type JwtErrorCode = Extract<EnvelopeErrorCode, `ERR_JWT_${string}`>;

/**
 * Base class of the JWT errors.
 *
 * @example
 * ```ts
 * import { JwtError } from 'kv-envelope/jwt';
 * try {
 *   await verifier.verify(token);
 * } catch (err) {
 *   if (err instanceof JwtError && err.code === 'ERR_JWT_EXPIRED') {
 *     // ask the client to refresh its token
 *   }
 * }
 * ```
 */
export class JwtError extends EnvelopeError {
  declare readonly code: JwtErrorCode;

  constructor(code: JwtErrorCode, message: string, options?: EnvelopeErrorOptions) {
    super(code, message, options);
  }
}

/**
 * Not a well-formed compact JWS/JWT: wrong segment count, bad base64url, not JSON, a member
 * name used twice in the header or payload, too long, a header parameter we refuse (`crit`,
 * `b64`, `jku`, `jwk`, `x5u`), no `kid` (unless `allowMissingKid`), or claims of the wrong type.
 */
export class JwtInvalidError extends JwtError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_JWT_INVALID', message, options);
  }
}

/**
 * The header's `alg` is `none`, not in the verifier's `algorithms`, or does not fit the key
 * its `kid` names (algorithm confusion).
 */
export class JwtAlgorithmNotAllowedError extends JwtError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_JWT_ALG_NOT_ALLOWED', message, options);
  }
}

/**
 * No published key has the token's `kid` (after at most one refresh per cooldown window), or a
 * token without `kid` met a key set that does not hold exactly one key.
 */
export class JwtKeyNotFoundError extends JwtError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_JWT_KEY_NOT_FOUND', message, options);
  }
}

/** The signature does not verify under the key the `kid` names. */
export class JwtSignatureError extends JwtError {
  constructor(message = 'signature verification failed', options?: EnvelopeErrorOptions) {
    super('ERR_JWT_SIGNATURE', message, options);
  }
}

/** `exp` has passed, or the token is older than `maxTokenAge` by `iat` (beyond `clockTolerance`). */
export class JwtExpiredError extends JwtError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_JWT_EXPIRED', message, options);
  }
}

/** `nbf` (or, with `maxTokenAge`, `iat`) lies in the future (beyond `clockTolerance`). */
export class JwtNotYetValidError extends JwtError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_JWT_NOT_YET_VALID', message, options);
  }
}

/** A claim check failed: wrong `iss` or `aud`, or `exp` (or, with `maxTokenAge`, `iat`) missing. */
export class JwtClaimInvalidError extends JwtError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_JWT_CLAIM_INVALID', message, options);
  }
}

/**
 * Key Vault answered a sign request with a signature that is not one for the token: wrong
 * length, or it does not verify under the public key published for the `kid`. No token is
 * returned.
 */
export class JwtSigningFailedError extends JwtError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_JWT_SIGNING_FAILED', message, options);
  }
}
