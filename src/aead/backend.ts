/**
 * The AEAD backend seam. Everything above this file is runtime-neutral; node:crypto lives only
 * in `node-backend.ts`, so the noble backend can stand alone (browsers, edge workers).
 */

/** AES-GCM bound to one key: see {@link AeadBackend.gcmKey}. */
export interface GcmKey {
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, prefixLength: number): Uint8Array;
  open(nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array | undefined): Uint8Array | undefined;
}

/** Names of the available backends. */
export type AeadBackendName = 'node' | 'noble';

/**
 * Raw primitives a backend provides. Callers go through the validating wrapper in `gcm.ts`,
 * which checks key, nonce and tag lengths once; backends trust their arguments.
 */
export interface AeadBackend {
  readonly name: AeadBackendName;
  /**
   * AES-GCM encrypt. Returns a new array of `prefixLength + plaintext.length + 16` bytes:
   * `prefixLength` zero bytes the caller fills in (saves a copy), then ciphertext, then tag.
   */
  gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, prefixLength: number): Uint8Array;
  /**
   * AES-GCM encrypt into `out` at `offset`: ciphertext, then the 16-byte tag. Lets framed
   * encryption write every frame straight into the final envelope buffer (one copy, as a raw
   * createCipheriv + concat makes).
   */
  gcmSealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, offset: number): void;
  /** AES-GCM decrypt of `ciphertext` with a separate 16-byte `tag`. Returns undefined when authentication fails. */
  gcmOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array | undefined): Uint8Array | undefined;
  /**
   * Per-key state for AES-GCM under one long-lived key (a field DEK that seals or opens many
   * values): the same results as {@link gcmSeal} / {@link gcmOpen} with `key`. The node backend
   * keeps a `KeyObject`, so no call copies the key into a fresh OpenSSL key source (~4% of a
   * 100-byte value). The caller must not change `key`'s bytes while it uses the returned object.
   */
  gcmKey?(key: Uint8Array): GcmKey;
  /** HKDF-SHA-256 (RFC 5869). */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /**
   * AES-SIV encrypt (RFC 5297 §2.6) with a 32/48/64-byte key and at most 126 associated-data
   * components. Returns a new array: the 16-byte synthetic IV, then the ciphertext.
   */
  sivSeal(key: Uint8Array, plaintext: Uint8Array, associatedData: readonly Uint8Array[]): Uint8Array;
  /**
   * AES-SIV decrypt (RFC 5297 §2.7) of `sealed` (at least 16 bytes). Returns undefined when the
   * synthetic IV does not verify; no candidate plaintext is released or left behind.
   */
  sivOpen(key: Uint8Array, sealed: Uint8Array, associatedData: readonly Uint8Array[]): Uint8Array | undefined;
}
