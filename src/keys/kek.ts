/**
 * The key-encryption-key (KEK) contract. A KEK wraps and unwraps data keys (DEKs); it never
 * sees content. Implementations: {@link LocalAesKek} (AES-KW), {@link LocalRsaKek}
 * (RSA-OAEP-256), and `KeyVaultKek` in `kv-envelope/azure`.
 *
 * @module
 */

/** A data key wrapped by one KEK, as stored next to ciphertext or in a key store. */
export interface WrappedKey {
  /**
   * The exact, versioned id of the KEK (version) that wrapped the DEK, e.g. a Key Vault kid
   * `https://v.vault.azure.net/keys/name/0123abcd…`. Public information.
   */
  readonly kekId: string;
  /** The wrapping algorithm as its JOSE spec string: `'A256KW'`, `'RSA-OAEP-256'`, … */
  readonly alg: string;
  /** The wrapped DEK bytes. */
  readonly bytes: Uint8Array;
}

/** Options bag taken by every KEK operation. */
export interface KekOperationOptions {
  /** Aborts the operation; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * What a KEK must do. Implementations must be safe to call concurrently.
 *
 * @example
 * ```ts
 * import { LocalAesKek } from 'kv-envelope';
 * const kek = new LocalAesKek({ id: 'local/aes/1', key: crypto.getRandomValues(new Uint8Array(32)) });
 * const wrapped = await kek.wrap(dek);
 * const same = await kek.unwrap(wrapped);
 * ```
 */
export interface KeyEncryptionKey {
  /** The KEK's configured id (may be versionless; `WrappedKey.kekId` is always versioned). */
  readonly id: string;
  /**
   * Wraps `dek` with the KEK's current version.
   * @throws {EnvelopeError} `ERR_KEK_UNAVAILABLE`, `ERR_KEY_DISABLED`, `ERR_KEY_ACCESS_DENIED`, …
   */
  wrap(dek: Uint8Array, options?: KekOperationOptions): Promise<WrappedKey>;
  /**
   * Unwraps a DEK previously wrapped by this KEK (any of its versions).
   * @throws {DecryptionFailedError} when the wrapped bytes do not authenticate under this KEK.
   * @throws {KeyNotAllowedError} when `wrapped.kekId` is outside this KEK's allow-list.
   */
  unwrap(wrapped: WrappedKey, options?: KekOperationOptions): Promise<Uint8Array>;
  /**
   * True when `wrapped` was (or claims to be) produced by this KEK, so `unwrap` may be asked to
   * open it. Pure and synchronous: it must never contact a service.
   */
  matches(wrapped: WrappedKey): boolean;
  /**
   * Optional. False when `wrapped` was made by a version this KEK would no longer wrap with
   * (rotated, disabled, deleted), as far as the KEK knows now; true otherwise. Encrypt-side
   * caches call it to retire a DEK whose wrapped form names a stale version. Must be cheap,
   * synchronous and never throw; a KEK whose knowledge is older than its refresh interval may
   * start a background refresh here (errors swallowed) and answer from what it knows.
   */
  isCurrent?(wrapped: WrappedKey): boolean;
}
