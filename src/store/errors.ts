/**
 * The error of a key-store record that may not be used as asked (docs/security.md §Record
 * authentication).
 *
 * @module
 */
import { KeyStoreError } from '../errors.js';
import { escapeUntrusted } from '../internal/escape.js';

/**
 * Why a record was refused:
 * - `'legacy'`: it predates record authentication (no commitment). Decrypt still reads it; an
 *   encryptor will not adopt it until `rewrapKeyStore` adds authentication.
 * - `'unsigned'`: no signature by a configured KEK, and no configured symmetric KEK unwraps it.
 * - `'bad-signature'`: it carries signatures, but none verifies under a configured KEK.
 * - `'commitment-mismatch'`: the unwrapped DEK is not the one the record commits to (a wrapped
 *   key was replaced, or the record's wrapped keys disagree).
 * - `'cannot-sign'`: a named record cannot be created authenticated: no configured KEK could
 *   sign it (see `cause`) and none is symmetric.
 */
export type RecordAuthenticationReason = 'legacy' | 'unsigned' | 'bad-signature' | 'commitment-mismatch' | 'cannot-sign';

const ADVICE: Readonly<Record<RecordAuthenticationReason, string>> = {
  legacy: 'it predates record authentication; run rewrapKeyStore (kv-envelope/rewrap) with a KEK that can sign to add it',
  unsigned: 'it carries no signature and no configured symmetric KEK unwraps it',
  'bad-signature': 'none of its signatures verifies under a configured key-encryption key',
  'commitment-mismatch': 'the unwrapped data key is not the one the record commits to (a wrapped key was replaced or the wrapped keys disagree)',
  'cannot-sign':
    'no configured key-encryption key could sign it (RSA keys need the vault sign permission, e.g. Key Vault Crypto User) and none is symmetric; have an identity that can sign create it',
};

/**
 * A key-store record failed authentication. `code` is `ERR_KEY_STORE` (it is a
 * {@link KeyStoreError}); `reason` says which check failed. Nothing was encrypted under it.
 *
 * @example
 * ```ts
 * try {
 *   await fields.encryptDeterministic(email, { keyName: 'users.email' });
 * } catch (err) {
 *   if (err instanceof RecordAuthenticationError && err.reason === 'legacy') {
 *     // run rewrapKeyStore once with a KEK that can sign
 *   }
 * }
 * ```
 */
export class RecordAuthenticationError extends KeyStoreError {
  /** Which check failed. */
  readonly reason: RecordAuthenticationReason;
  /** The record's keyRef (16 hex chars), when known. */
  readonly keyRef: string | undefined;

  constructor(reason: RecordAuthenticationReason, record: { keyRef?: string; name?: string }, options?: { cause?: unknown }) {
    const what = `key store record ${record.keyRef ?? '(new)'}${record.name === undefined ? '' : ` (name "${escapeUntrusted(record.name)}")`}`;
    super(`${what} is not authenticated: ${ADVICE[reason]}`, options);
    this.reason = reason;
    this.keyRef = record.keyRef;
  }
}
