/**
 * Maps what the Azure SDK throws to kv-envelope's typed errors. Messages name the key id and
 * the operation, never key bytes; the original error is kept as `cause` (except for failed
 * unwraps: see {@link toEnvelopeError}).
 *
 * @module
 * @internal
 */
import { escapeUntrusted } from '../../internal/escape.js';
import {
  DecryptionFailedError, EnvelopeError, KekUnavailableError, KeyAccessDeniedError, KeyDisabledError,
  KeyNotFoundError, UnsupportedKeyTypeError,
} from '../../errors.js';

/** The vault operations KeyVaultKek (and JwtSigner: `sign`) performs. */
export type VaultOperation = 'getKey' | 'listKeyVersions' | 'wrapKey' | 'unwrapKey' | 'sign' | 'getCertificate' | 'listCertificateVersions';

interface RestErrorLike {
  readonly message: string;
  readonly statusCode?: number;
  readonly code?: string;
  readonly details?: unknown;
}

/** Duck-typed: RestError classes differ between core-rest-pipeline and ts-http-runtime copies. */
function asRestError(err: unknown): RestErrorLike | undefined {
  return err instanceof Error && err.name === 'RestError' ? (err as RestErrorLike) : undefined;
}

/** `error.code` and `error.innererror.code` of a Key Vault error body, plus the message. */
function serviceCodes(err: RestErrorLike): string {
  // The SDK's deserializer renames `innererror` to `innerError`; accept both spellings.
  type Inner = { code?: unknown };
  const body = err.details as { error?: { code?: unknown; message?: unknown; innererror?: Inner; innerError?: Inner } } | undefined;
  const e = body?.error;
  return [err.code, e?.code, e?.innerError?.code, e?.innererror?.code, e?.message, err.message].filter((s) => typeof s === 'string').join(' ');
}

/** 403s that mean "this version may not be used now", as opposed to "you may not use it". */
const DISABLED = /\b(?:KeyDisabled|KeyExpired|KeyNotYetValid|disabled|expired|not yet valid|not valid before)\b/i;
/** The SDK's own pre-checks (CryptographyClient.ensureValid) throw plain Errors with these texts. */
const SDK_NOT_VALID = /can't be used before|expired at/;
const SDK_OP_NOT_ALLOWED = /^Operation \w+ is not supported on key/;
const TLS_CODE = /^(?:CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(?:VERIFY|GET_ISSUER))/;

/**
 * True for the SDK's client-side refusal of a key version outside its nbf..exp window (a plain
 * Error from `CryptographyClient.ensureValid`), which the service may not share (unwrapKey).
 */
export function isSdkValidityPrecheck(err: unknown): boolean {
  return err instanceof Error && err.name !== 'RestError' && SDK_NOT_VALID.test(err.message);
}

function label(err: RestErrorLike): string {
  return escapeUntrusted([err.statusCode, err.code].filter((x) => x !== undefined).join(' ') || 'unknown error', 64);
}

/**
 * The typed error for a failed `operation` on `kid` (a versioned kid, or a versionless id when
 * resolving). `timedOut` says our own deadline fired (the SDK reports that as an AbortError).
 *
 * A 400 from `unwrapKey` is a `DecryptionFailedError` without `cause`: the service's reasons
 * (bad padding, wrong length) must not become an oracle, same as `LocalRsaKek`.
 */
export function toEnvelopeError(err: unknown, operation: VaultOperation, kid: string, timedOut: boolean, timeoutMs: number): EnvelopeError {
  if (err instanceof EnvelopeError) return err;
  const where = `Key Vault ${operation} on ${escapeUntrusted(kid)}`; // the kid may come from a ciphertext
  if (timedOut) return new KekUnavailableError(`${where} timed out after ${timeoutMs} ms`, { cause: err });
  const rest = asRestError(err);
  if (rest === undefined) {
    const message = err instanceof Error ? err.message : '';
    if (SDK_NOT_VALID.test(message)) return new KeyDisabledError(`${where}: the key version is expired or not yet valid`, { cause: err });
    if (SDK_OP_NOT_ALLOWED.test(message)) {
      const hint = operation === 'sign' ? '' : ' (Key Vault EC keys can only sign; use an RSA or oct-HSM key)';
      return new UnsupportedKeyTypeError(`${where}: the key's key_ops do not allow ${operation}${hint}`, { cause: err });
    }
    const name = err instanceof Error ? err.name : typeof err;
    if (name === 'CredentialUnavailableError' || name === 'AuthenticationError' || name === 'AggregateAuthenticationError') {
      return new KeyAccessDeniedError(`${where}: the credential could not get a token (${name})`, { cause: err });
    }
    return new KekUnavailableError(`${where} failed (${name})`, { cause: err });
  }
  const status = rest.statusCode;
  if (status === undefined) {
    const tls = rest.code !== undefined && TLS_CODE.test(rest.code);
    return new KekUnavailableError(`${where}: ${tls ? 'TLS failure' : 'network failure'} (${escapeUntrusted(rest.code ?? 'no code', 64)})`, { cause: err });
  }
  switch (true) {
    case status === 400 && operation === 'unwrapKey':
      return new DecryptionFailedError();
    case status === 401:
      return new KeyAccessDeniedError(`${where}: not authenticated (${label(rest)})`, { cause: err });
    case status === 403 && /\bKeyOperationForbidden\b/.test(serviceCodes(rest)):
      return new UnsupportedKeyTypeError(`${where}: the key's key_ops do not allow ${operation} (${label(rest)})`, { cause: err });
    case status === 403 && DISABLED.test(serviceCodes(rest)):
      return new KeyDisabledError(`${where}: the key version is disabled, expired or not yet valid (${label(rest)})`, { cause: err });
    case status === 403:
      return new KeyAccessDeniedError(`${where}: access denied (${label(rest)})`, { cause: err });
    case status === 404:
      return new KeyNotFoundError(`${where}: key or version not found, or deleted (${label(rest)})`, { cause: err });
    default:
      return new KekUnavailableError(`${where} failed (${label(rest)})`, { cause: err });
  }
}

/**
 * Whether a cached CryptographyClient for the kid should be dropped after this error. The SDK
 * caches the fetched key (and its nbf/exp) forever, so after "disabled", "not found" or "denied"
 * a later attempt (after re-enable, recover, role assignment) must start from a fresh client.
 */
export function invalidatesClient(err: EnvelopeError): boolean {
  return err.code === 'ERR_KEY_DISABLED' || err.code === 'ERR_KEY_NOT_FOUND' || err.code === 'ERR_KEY_ACCESS_DENIED'
    || err.code === 'ERR_UNSUPPORTED_KEY_TYPE';
}
