/**
 * Errors of kv-envelope/secrets. Messages name the secret (vault and name) and, for
 * references, the environment variable — never a secret value, never the reference text when
 * it is malformed (it might be a value pasted by mistake).
 *
 * @module
 */
import { EnvelopeError, type EnvelopeErrorCode, type EnvelopeErrorOptions } from '../errors.js';

/** The stable codes of {@link SecretError} (listed once, in src/errors.ts). */
export type SecretErrorCode = Extract<EnvelopeErrorCode, `ERR_SECRET_${string}`>;

/**
 * A secret could not be resolved. `code` says why; `secret` names it (`vault/name[/version]`)
 * when known, `variable` the environment variable when resolving an environment.
 * @example `if (err instanceof SecretError && err.code === 'ERR_SECRET_ACCESS_DENIED') …`
 */
export class SecretError extends EnvelopeError {
  declare readonly code: SecretErrorCode;
  /** `https://vault/secrets/name[/version]`, when known. */
  readonly secret: string | undefined;
  /** The environment variable holding the reference, when resolving an environment. */
  readonly variable: string | undefined;

  constructor(code: SecretErrorCode, message: string, options?: EnvelopeErrorOptions & { secret?: string; variable?: string }) {
    super(code, message, options);
    this.secret = options?.secret;
    this.variable = options?.variable;
  }
}
