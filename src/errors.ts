/**
 * Errors thrown by kv-envelope.
 *
 * Caller mistakes (wrong argument type or size) are plain `TypeError` / `RangeError` naming the
 * argument. Everything else is an {@link EnvelopeError} subclass with a stable `code`: match on
 * `code` or `instanceof`, never on `message` (messages may improve between releases).
 *
 * Messages never carry key material, plaintext or wrapped keys. Decryption failures are
 * deliberately uninformative: a tampered tag, a wrong key, a wrong AAD and a wrong context all
 * give the same `ERR_DECRYPTION_FAILED`.
 *
 * Messages are one line: attacker-controlled text in them (kids, algorithm names, context keys,
 * token header values) is escaped and cut with `escapeUntrusted` where it is embedded, so a kid
 * holding `\n[INFO] forged` or ESC sequences can neither forge a log line nor rewrite a terminal.
 * As a last line of defence the base class escapes any control character left in a message.
 *
 * @module
 */
import { escapeUntrusted } from './internal/escape.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
/** `message` with every control, line-separator and bidi-override character as `\uXXXX` (nothing else changes). */
const singleLine = (message: string): string =>
  String(message).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** How many key ids a {@link NoMatchingKekError} message lists before it only counts. */
const MAX_LISTED_KIDS = 4;

/** Every stable error code, as a union. */
export type EnvelopeErrorCode =
  | 'ERR_ENVELOPE_MALFORMED'
  | 'ERR_DECRYPTION_FAILED'
  | 'ERR_KEY_NOT_ALLOWED'
  | 'ERR_NO_MATCHING_KEK'
  | 'ERR_KEK_UNAVAILABLE'
  | 'ERR_KEY_ACCESS_DENIED'
  | 'ERR_KEY_DISABLED'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_UNSUPPORTED_KEY_TYPE'
  | 'ERR_LIMIT_EXCEEDED'
  | 'ERR_KEY_STORE'
  // kv-envelope/jwt (classes in src/jwt/errors.ts)
  | 'ERR_JWT_INVALID'
  | 'ERR_JWT_ALG_NOT_ALLOWED'
  | 'ERR_JWT_KEY_NOT_FOUND'
  | 'ERR_JWT_SIGNATURE'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_CLAIM_INVALID'
  | 'ERR_JWT_SIGNING_FAILED'
  // kv-envelope/secrets (src/secrets/errors.ts)
  | 'ERR_SECRET_REFERENCE'
  | 'ERR_SECRET_VAULT_NOT_ALLOWED'
  | 'ERR_SECRET_NOT_FOUND'
  | 'ERR_SECRET_ACCESS_DENIED'
  | 'ERR_SECRET_DISABLED'
  | 'ERR_SECRET_EXPIRED'
  | 'ERR_SECRET_UNAVAILABLE'
  // kv-envelope/certificates (src/certificates/errors.ts)
  | 'ERR_CERTIFICATE_NOT_FOUND'
  | 'ERR_CERTIFICATE_ACCESS_DENIED'
  | 'ERR_CERTIFICATE_DISABLED'
  | 'ERR_CERTIFICATE_EXPIRED'
  | 'ERR_CERTIFICATE_NOT_EXPORTABLE'
  | 'ERR_CERTIFICATE_MALFORMED'
  | 'ERR_CERTIFICATE_UNAVAILABLE';

/** Options accepted by every {@link EnvelopeError} constructor. */
export interface EnvelopeErrorOptions {
  /** The underlying error, if any. Never a secret. */
  cause?: unknown;
}

/**
 * Base class of every non-argument error kv-envelope throws.
 *
 * @example
 * ```ts
 * import { EnvelopeError } from 'kv-envelope';
 * try {
 *   await client.decrypt(bytes);
 * } catch (err) {
 *   if (err instanceof EnvelopeError && err.code === 'ERR_DECRYPTION_FAILED') {
 *     // tampered, wrong key or wrong context: treat the input as untrusted
 *   }
 * }
 * ```
 */
export class EnvelopeError extends Error {
  /** Stable machine-readable code. */
  readonly code: EnvelopeErrorCode;

  constructor(code: EnvelopeErrorCode, message: string, options?: EnvelopeErrorOptions) {
    super(singleLine(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** The input is not a well-formed envelope or field ciphertext (bad version, length, bounds). */
export class EnvelopeMalformedError extends EnvelopeError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_ENVELOPE_MALFORMED', message, options);
  }
}

/**
 * Authentication failed: tampered bytes, wrong key, wrong AAD or wrong context. The message is
 * the same for all of these on purpose; no plaintext is ever released.
 */
export class DecryptionFailedError extends EnvelopeError {
  constructor(message = 'decryption failed', options?: EnvelopeErrorOptions) {
    super('ERR_DECRYPTION_FAILED', message, options);
  }
}

/**
 * A ciphertext names a key that is not on the allow-list: nothing was sent to it. The message
 * shows the kid escaped and cut ({@link escapeUntrusted}); `kekId` holds it as it came. A custom
 * `message` must escape what it embeds.
 */
export class KeyNotAllowedError extends EnvelopeError {
  /** The key id the ciphertext named (public information, not a secret; attacker-controlled: escape before printing). */
  readonly kekId: string;
  constructor(kekId: string, message?: string, options?: EnvelopeErrorOptions) {
    super('ERR_KEY_NOT_ALLOWED', message ?? `key is not allowed: ${escapeUntrusted(kekId)}`, options);
    this.kekId = kekId;
  }
}

/**
 * None of the configured KEKs can unwrap any of the wrapped data keys in the ciphertext. The
 * message lists the first few kids, escaped and cut; `kekIds` holds them all as they came.
 */
export class NoMatchingKekError extends EnvelopeError {
  /** The key ids the ciphertext named (attacker-controlled: escape before printing). */
  readonly kekIds: readonly string[];
  constructor(kekIds: readonly string[], options?: EnvelopeErrorOptions) {
    const listed = kekIds.slice(0, MAX_LISTED_KIDS).map((id) => escapeUntrusted(id)).join(', ');
    const more = kekIds.length > MAX_LISTED_KIDS ? `, … ${kekIds.length} in all` : '';
    super('ERR_NO_MATCHING_KEK', `no configured key-encryption key matches the wrapped data keys (${listed}${more})`, options);
    this.kekIds = kekIds;
  }
}

/** The KEK could not be reached or answered with a transient failure after bounded retries. */
export class KekUnavailableError extends EnvelopeError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_KEK_UNAVAILABLE', message, options);
  }
}

/** The caller's identity may not use this key for this operation. */
export class KeyAccessDeniedError extends EnvelopeError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_KEY_ACCESS_DENIED', message, options);
  }
}

/** The key (version) is disabled, expired or not yet valid. */
export class KeyDisabledError extends EnvelopeError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_KEY_DISABLED', message, options);
  }
}

/** The key, key version or key-store record does not exist (or was deleted). */
export class KeyNotFoundError extends EnvelopeError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_KEY_NOT_FOUND', message, options);
  }
}

/** The key's type cannot do what was asked (e.g. a Key Vault EC key used as a KEK). */
export class UnsupportedKeyTypeError extends EnvelopeError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_UNSUPPORTED_KEY_TYPE', message, options);
  }
}

/** A bound of the format or of a configured limit was exceeded. */
export class LimitExceededError extends EnvelopeError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_LIMIT_EXCEEDED', message, options);
  }
}

/** The key store failed (I/O error, corrupt record, conflicting write). */
export class KeyStoreError extends EnvelopeError {
  constructor(message: string, options?: EnvelopeErrorOptions) {
    super('ERR_KEY_STORE', message, options);
  }
}
