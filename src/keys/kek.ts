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

/**
 * A signature over a DEK record's authenticated fields (docs/security.md §Record authentication),
 * made with a KEK's private key. Public information.
 */
export interface RecordSignature {
  /** The exact, versioned id of the key (version) that signed. */
  readonly kekId: string;
  /** The JOSE signature algorithm: `'PS256'` (what kv-envelope signs with) or `'RS256'`. */
  readonly alg: string;
  /** The signature bytes. */
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
  /**
   * Optional. True when a successful `unwrap` of `wrapped` by this KEK proves the wrap was made
   * by a holder of this KEK's secret (AES-KW: only the key holder can produce a wrap that
   * unwraps). False or absent for RSA-OAEP, where anyone holding the public key can wrap.
   * Pure and synchronous. Used to authenticate key-store records (docs/security.md).
   */
  authenticatesWrap?(wrapped: WrappedKey): boolean;
  /**
   * Optional. Signs `payload` (a DEK record's authenticated fields) with the KEK's private key,
   * so that holders of only the public key can check the record was made by a key holder.
   * @throws {UnsupportedKeyTypeError} when this KEK cannot sign (wrap-only, symmetric key).
   * @throws {EnvelopeError} `ERR_KEY_ACCESS_DENIED`, `ERR_KEK_UNAVAILABLE`, … for remote keys.
   */
  signRecord?(payload: Uint8Array, options?: KekOperationOptions): Promise<RecordSignature>;
  /**
   * Optional. True when `signature` is a valid signature of `payload` by this KEK (any version
   * it trusts); false when it is not this KEK's or does not verify. Needs only public keys.
   * @throws {EnvelopeError} when the signer's public key cannot be obtained (remote keys).
   */
  verifyRecord?(signature: RecordSignature, payload: Uint8Array, options?: KekOperationOptions): Promise<boolean>;
}
