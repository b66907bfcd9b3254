/**
 * A local AES key-encryption key: AES Key Wrap (RFC 3394) through node:crypto.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createSecretKey, KeyObject } from 'node:crypto';
import { inspect, type InspectOptions } from 'node:util';
import { DecryptionFailedError, KeyNotAllowedError } from '../errors.js';
import { assertBytes, assertString, asBuffer } from '../internal/bytes.js';
import type { KekOperationOptions, KeyEncryptionKey, WrappedKey } from './kek.js';

/** The JOSE names of AES Key Wrap, by key size. */
export type AesKwAlgorithm = 'A128KW' | 'A192KW' | 'A256KW';

/** Options for {@link LocalAesKek}. */
export interface LocalAesKekOptions {
  /** The KEK's id, written into every wrapped key. Local keys have no versions. */
  id: string;
  /** A 16-, 24- or 32-byte AES key, as bytes (copied) or a secret `KeyObject`. */
  key: Uint8Array | KeyObject;
}

/** RFC 3394 section 2.2.3.1 default initial value. */
const DEFAULT_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

const BY_SIZE: Readonly<Record<number, { alg: AesKwAlgorithm; cipher: string }>> = {
  16: { alg: 'A128KW', cipher: 'id-aes128-wrap' },
  24: { alg: 'A192KW', cipher: 'id-aes192-wrap' },
  32: { alg: 'A256KW', cipher: 'id-aes256-wrap' },
};

/**
 * A KEK held in process memory that wraps data keys with AES Key Wrap (RFC 3394, JOSE
 * `A128KW` / `A192KW` / `A256KW`). Wraps any key data whose length is a multiple of 8 bytes and
 * at least 16 bytes. The key bytes are copied at construction and never appear in
 * `util.inspect`, `JSON.stringify` or `String` output.
 *
 * @example
 * ```ts
 * import { LocalAesKek } from 'kv-envelope';
 * const kek = new LocalAesKek({ id: 'local/aes/1', key: crypto.getRandomValues(new Uint8Array(32)) });
 * const wrapped = await kek.wrap(dek); // { kekId: 'local/aes/1', alg: 'A256KW', bytes }
 * const same = await kek.unwrap(wrapped);
 * ```
 */
export class LocalAesKek implements KeyEncryptionKey {
  /** The configured id; also the `kekId` of every key this KEK wraps. */
  readonly id: string;
  /** The JOSE algorithm name, fixed by the key size. */
  readonly alg: AesKwAlgorithm;
  readonly #key: KeyObject;
  readonly #cipher: string;

  /**
   * @throws {TypeError} when `options`, `id` or `key` has the wrong type (a `KeyObject` that is
   *   not a secret key included).
   * @throws {RangeError} when `id` is empty or `key` is not 16, 24 or 32 bytes long.
   */
  constructor(options: LocalAesKekOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object with id and key');
    }
    const { id, key } = options;
    assertString(id, 'id');
    let keyObject: KeyObject;
    if (key instanceof KeyObject) {
      if (key.type !== 'secret') throw new TypeError(`key must be a secret KeyObject, got a ${key.type} key`);
      keyObject = key;
    } else {
      assertBytes(key, 'key');
      const copy = Buffer.from(key); // createSecretKey keeps its own copy; wipe ours below
      try {
        keyObject = createSecretKey(copy);
      } finally {
        copy.fill(0);
      }
    }
    const size = keyObject.symmetricKeySize ?? 0;
    const params = BY_SIZE[size];
    if (params === undefined) throw new RangeError(`key must be 16, 24 or 32 bytes, got ${size}`);
    this.id = id;
    this.alg = params.alg;
    this.#key = keyObject;
    this.#cipher = params.cipher;
  }

  /**
   * Wraps `dek` (RFC 3394). The result names this KEK's `id` and `alg`.
   * @throws {TypeError} when `dek` is not a Uint8Array.
   * @throws {RangeError} when `dek` is shorter than 16 bytes or not a multiple of 8 bytes long.
   * @throws {unknown} `options.signal.reason` when the signal is already aborted.
   * @example
   * ```ts
   * const { kekId, alg, bytes } = await kek.wrap(dek); // bytes.length === dek.length + 8
   * ```
   */
  async wrap(dek: Uint8Array, options?: KekOperationOptions): Promise<WrappedKey> {
    options?.signal?.throwIfAborted();
    assertBytes(dek, 'dek');
    if (dek.length < 16 || dek.length % 8 !== 0) {
      throw new RangeError(`dek must be a multiple of 8 bytes and at least 16 bytes, got ${dek.length}`);
    }
    const cipher = createCipheriv(this.#cipher, this.#key, DEFAULT_IV);
    const out = Buffer.concat([cipher.update(asBuffer(dek)), cipher.final()]);
    const bytes = new Uint8Array(out);
    return { kekId: this.id, alg: this.alg, bytes };
  }

  /**
   * Unwraps a key wrapped by {@link LocalAesKek.wrap} under the same key.
   * @throws {KeyNotAllowedError} when `wrapped.kekId` is not this KEK's `id`.
   * @throws {DecryptionFailedError} when `wrapped.alg` is not this KEK's `alg`, the wrapped bytes
   *   have an impossible length, or the RFC 3394 integrity check fails (wrong key or tampering).
   * @throws {TypeError} when `wrapped` is not an object with Uint8Array `bytes`.
   * @throws {unknown} `options.signal.reason` when the signal is already aborted.
   * @example
   * ```ts
   * const dek = await kek.unwrap({ kekId: 'local/aes/1', alg: 'A256KW', bytes });
   * ```
   */
  async unwrap(wrapped: WrappedKey, options?: KekOperationOptions): Promise<Uint8Array> {
    options?.signal?.throwIfAborted();
    if (typeof wrapped !== 'object' || wrapped === null) throw new TypeError('wrapped must be a WrappedKey object');
    assertBytes(wrapped.bytes, 'wrapped.bytes');
    if (wrapped.kekId !== this.id) throw new KeyNotAllowedError(String(wrapped.kekId));
    const input = wrapped.bytes;
    // OpenSSL accepts an empty input silently; RFC 3394 needs n >= 2 blocks plus the IV block.
    if (wrapped.alg !== this.alg || input.length < 24 || input.length % 8 !== 0) {
      throw new DecryptionFailedError();
    }
    let out: Buffer;
    try {
      const decipher = createDecipheriv(this.#cipher, this.#key, DEFAULT_IV);
      out = Buffer.concat([decipher.update(asBuffer(input)), decipher.final()]);
    } catch {
      // Never surface the OpenSSL error: a failed integrity check is deliberately uninformative.
      throw new DecryptionFailedError();
    }
    const dek = new Uint8Array(out);
    out.fill(0);
    return dek;
  }

  /**
   * True when `wrapped` names this KEK's `id` and `alg`. Pure; never throws.
   * @throws {never} never.
   * @example
   * ```ts
   * if (kek.matches(wrapped)) dek = await kek.unwrap(wrapped);
   * ```
   */
  matches(wrapped: WrappedKey): boolean {
    return wrapped?.kekId === this.id && wrapped?.alg === this.alg;
  }

  /**
   * True for every wrapped key this KEK matches: AES-KW only unwraps what a holder of the key
   * wrapped, so a successful unwrap authenticates the wrap. Pure; never throws.
   * @throws {never} never.
   * @example `kek.authenticatesWrap(wrapped) // true when kek.matches(wrapped)`
   */
  authenticatesWrap(wrapped: WrappedKey): boolean {
    return this.matches(wrapped);
  }

  /** Public description only: `{ id, alg }`. */
  toJSON(): { id: string; alg: AesKwAlgorithm } {
    return { id: this.id, alg: this.alg };
  }

  toString(): string {
    return `LocalAesKek(${this.id}, ${this.alg})`;
  }

  [inspect.custom](_depth: number, opts: InspectOptions): string {
    return `LocalAesKek ${inspect({ id: this.id, alg: this.alg }, opts)}`;
  }
}
