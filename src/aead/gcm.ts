/**
 * The one validating AES-GCM / HKDF wrapper over the AEAD backends. Every layer above encrypts
 * through {@link AesGcm}; backends trust their arguments because this file checked them.
 *
 * Checks are deliberately cheap (a few `instanceof` and length compares) since `seal`/`open`
 * run once per encrypted field.
 *
 * @module
 */
import { DecryptionFailedError } from '../errors.js';
import { assertBytes } from '../internal/bytes.js';
import type { AeadBackend, AeadBackendName } from './backend.js';
import { nobleBackend } from './noble-backend.js';
import { nodeBackend } from './node-backend.js';

export type { AeadBackend, AeadBackendName } from './backend.js';

/**
 * The only accepted nonce length. Every kv-envelope format uses 96-bit nonces, random or
 * counter-built. With 96 bits, GCM uses the nonce directly as the pre-counter block
 * (NIST SP 800-38D §7.1); any other length is first run through GHASH, which weakens the
 * random-nonce collision bounds and is not portable (noble refuses IVs under 8 bytes, WebCrypto
 * and OpenSSL differ). Refusing them removes a class of misuse and interop bugs.
 */
export const GCM_NONCE_LENGTH = 12;
/** The only accepted tag length: full 128-bit tags, never truncated ones. */
export const GCM_TAG_LENGTH = 16;
/** Largest GCM plaintext: 2^39 - 256 bits (NIST SP 800-38D §5.2.1.1). */
export const GCM_MAX_PLAINTEXT_LENGTH = 2 ** 36 - 32;
/** Largest HKDF-SHA-256 output: 255 * HashLen (RFC 5869 §2.3). */
export const HKDF_SHA256_MAX_LENGTH = 255 * 32;

/** The backend used when none is named: node:crypto (OpenSSL, hardware AES). */
export const defaultBackend: AeadBackend = nodeBackend;

/**
 * Returns the backend with the given name.
 *
 * @param name - `'node'` (node:crypto) or `'noble'` (pure JS, also runs in browsers).
 * @throws {TypeError} If `name` is not a string.
 * @throws {RangeError} If `name` is not a known backend.
 */
export function getAeadBackend(name: AeadBackendName): AeadBackend {
  if (name === 'node') return nodeBackend;
  if (name === 'noble') return nobleBackend;
  if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${typeof name}`);
  throw new RangeError(`name must be 'node' or 'noble', got '${String(name).slice(0, 32)}'`);
}

/** For integer-argument messages: the value if it is a number, else its type. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value;
}

function assertKey(key: unknown): asserts key is Uint8Array {
  assertBytes(key, 'key');
  const n = key.length;
  if (n !== 32 && n !== 16 && n !== 24) throw new RangeError(`key must be 16, 24 or 32 bytes, got ${n}`);
}

/**
 * Validating AES-GCM (16/24/32-byte keys, 12-byte nonces, 16-byte tags) and HKDF-SHA-256 over
 * one {@link AeadBackend}. Stateless: one instance can be shared freely.
 *
 * @example
 * ```ts
 * const aead = new AesGcm();
 * const sealed = aead.seal(key, nonce, plaintext, aad); // ciphertext || tag
 * const plain = aead.open(key, nonce, sealed.subarray(0, -16), sealed.subarray(-16), aad);
 * ```
 */
export class AesGcm {
  /** The backend doing the work. */
  readonly backend: AeadBackend;

  /**
   * @param backend - The backend to use; defaults to {@link defaultBackend}.
   * @throws {TypeError} If `backend` does not look like an {@link AeadBackend}.
   */
  constructor(backend: AeadBackend = defaultBackend) {
    if (
      typeof backend !== 'object' || backend === null ||
      typeof backend.gcmSeal !== 'function' || typeof backend.gcmOpen !== 'function' ||
      typeof backend.hkdfSha256 !== 'function'
    ) {
      throw new TypeError('backend must be an AeadBackend');
    }
    this.backend = backend;
  }

  /**
   * AES-GCM encrypts `plaintext`. Returns a new array of `prefixLength + plaintext.length + 16`
   * bytes: `prefixLength` zero bytes for the caller to fill (e.g. a header, saving a copy), the
   * ciphertext, then the 16-byte tag.
   *
   * Never call twice with the same key and nonce: GCM then leaks the XOR of the plaintexts and
   * lets the authentication key be recovered.
   *
   * @param key - AES key, 16, 24 or 32 bytes (the product uses 32).
   * @param nonce - 12-byte nonce, unique per key (see {@link GCM_NONCE_LENGTH}).
   * @param plaintext - Data to encrypt (any length up to {@link GCM_MAX_PLAINTEXT_LENGTH}).
   * @param aad - Optional associated data, authenticated but not encrypted.
   * @param prefixLength - Zero bytes to reserve before the ciphertext (default 0).
   * @throws {TypeError} If an argument has the wrong type (the message names it).
   * @throws {RangeError} If `key`, `nonce`, `plaintext` or `prefixLength` has a wrong size.
   */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array, prefixLength = 0): Uint8Array {
    assertKey(key);
    assertBytes(nonce, 'nonce', GCM_NONCE_LENGTH);
    assertBytes(plaintext, 'plaintext');
    if (plaintext.length > GCM_MAX_PLAINTEXT_LENGTH) {
      throw new RangeError(`plaintext must be at most ${GCM_MAX_PLAINTEXT_LENGTH} bytes`);
    }
    if (aad !== undefined) assertBytes(aad, 'aad');
    if (prefixLength !== 0) {
      if (!Number.isSafeInteger(prefixLength)) throw new TypeError(`prefixLength must be an integer, got ${show(prefixLength)}`);
      if (prefixLength < 0) throw new RangeError(`prefixLength must not be negative, got ${prefixLength}`);
    }
    return this.backend.gcmSeal(key, nonce, plaintext, aad, prefixLength);
  }

  /**
   * {@link seal} writing `ciphertext ‖ tag` into `out` at `offset` instead of allocating.
   * @throws {RangeError} If `out` has fewer than `plaintext.length + 16` bytes after `offset`.
   */
  sealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, offset: number): void {
    assertKey(key);
    assertBytes(nonce, 'nonce', GCM_NONCE_LENGTH);
    assertBytes(plaintext, 'plaintext');
    if (aad !== undefined) assertBytes(aad, 'aad');
    assertBytes(out, 'out');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + plaintext.length + GCM_TAG_LENGTH > out.length) {
      throw new RangeError('out is too small for the ciphertext and tag at offset');
    }
    this.backend.gcmSealInto(key, nonce, plaintext, aad, out, offset);
  }

  /**
   * AES-GCM decrypts and authenticates. Returns the plaintext only if the tag verifies.
   *
   * @param key - AES key, 16, 24 or 32 bytes.
   * @param nonce - The 12-byte nonce used to seal.
   * @param ciphertext - Ciphertext without the tag (may be empty).
   * @param tag - The 16-byte authentication tag.
   * @param aad - The associated data used to seal, if any.
   * @throws {TypeError} If an argument has the wrong type (the message names it).
   * @throws {RangeError} If `key`, `nonce` or `tag` has a wrong size.
   * @throws {DecryptionFailedError} If authentication fails (wrong key, nonce, AAD, or tampered
   *   bytes; deliberately indistinguishable). No plaintext is released.
   */
  open(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad?: Uint8Array): Uint8Array {
    assertKey(key);
    assertBytes(nonce, 'nonce', GCM_NONCE_LENGTH);
    assertBytes(ciphertext, 'ciphertext');
    assertBytes(tag, 'tag', GCM_TAG_LENGTH);
    if (aad !== undefined) assertBytes(aad, 'aad');
    const plaintext = this.backend.gcmOpen(key, nonce, ciphertext, tag, aad);
    if (plaintext === undefined) throw new DecryptionFailedError();
    return plaintext;
  }

  /**
   * HKDF-SHA-256 (RFC 5869): extract with `salt`, expand with `info` to `length` bytes.
   * An empty `salt` is the RFC's "not provided" (32 zero bytes).
   *
   * @param ikm - Input keying material.
   * @param salt - Salt (may be empty).
   * @param info - Context and application-specific information (may be empty).
   * @param length - Output length in bytes, 1 to {@link HKDF_SHA256_MAX_LENGTH}.
   * @throws {TypeError} If an argument has the wrong type (the message names it).
   * @throws {RangeError} If `length` is out of range.
   */
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    assertBytes(ikm, 'ikm');
    assertBytes(salt, 'salt');
    assertBytes(info, 'info');
    if (!Number.isSafeInteger(length)) throw new TypeError(`length must be an integer, got ${show(length)}`);
    if (length < 1 || length > HKDF_SHA256_MAX_LENGTH) {
      throw new RangeError(`length must be between 1 and ${HKDF_SHA256_MAX_LENGTH}, got ${length}`);
    }
    return this.backend.hkdfSha256(ikm, salt, info, length);
  }
}
