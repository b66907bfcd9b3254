/**
 * A local RSA key-encryption key: RSA-OAEP with SHA-256 and MGF1-SHA-256 through node:crypto.
 *
 * @module
 */
import { constants, createPrivateKey, createPublicKey, KeyObject, privateDecrypt, publicEncrypt, sign, verify } from 'node:crypto';
import { inspect, type InspectOptions } from 'node:util';
import { DecryptionFailedError, KeyNotAllowedError, UnsupportedKeyTypeError } from '../errors.js';
import { assertBytes, assertString, asBuffer } from '../internal/bytes.js';
import type { KekOperationOptions, KeyEncryptionKey, RecordSignature, WrappedKey } from './kek.js';
import { isRsaSignatureAlgorithm, RSA_SIGNATURE_ALGORITHMS } from './internal/rsa-signatures.js';

/** Options for {@link LocalRsaKek}. At least one of `publicKey` / `privateKey` is required. */
export interface LocalRsaKekOptions {
  /** The KEK's id, written into every wrapped key. Local keys have no versions. */
  id: string;
  /** The RSA public key (KeyObject or PEM). Derived from `privateKey` when omitted. */
  publicKey?: KeyObject | string;
  /** The RSA private key (KeyObject or unencrypted PEM). Without it the KEK is wrap-only. */
  privateKey?: KeyObject | string;
}

const MIN_MODULUS_BITS = 2048;
const OAEP_SHA256_OVERHEAD = 2 * 32 + 2;
const PRIVATE_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function toKeyObject(value: unknown, name: string, kind: 'public' | 'private'): KeyObject {
  let key: KeyObject;
  if (value instanceof KeyObject) {
    if (value.type !== kind) throw new TypeError(`${name} must be a ${kind} KeyObject, got a ${value.type} key`);
    key = value;
  } else if (typeof value === 'string') {
    if (kind === 'public' && PRIVATE_PEM.test(value)) {
      throw new TypeError(`${name} is a private key PEM; pass it as privateKey`);
    }
    try {
      key = kind === 'public' ? createPublicKey(value) : createPrivateKey(value);
    } catch (cause) {
      throw new TypeError(`${name} is not a valid unencrypted ${kind} key PEM`, { cause });
    }
  } else {
    throw new TypeError(`${name} must be a KeyObject or a PEM string, got ${value === null ? 'null' : typeof value}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new TypeError(`${name} must be an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_MODULUS_BITS) {
    throw new RangeError(`${name} must have a modulus of at least ${MIN_MODULUS_BITS} bits, got ${bits}`);
  }
  return key;
}

/**
 * A KEK held in process memory that wraps data keys with RSA-OAEP-256 (JOSE `RSA-OAEP-256`:
 * OAEP, SHA-256, MGF1-SHA-256, empty label). Configured with only a public key it is wrap-only.
 * Keys must be RSA (not RSA-PSS) with a modulus of at least 2048 bits.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { LocalRsaKek } from 'kv-envelope';
 * const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
 * const kek = new LocalRsaKek({ id: 'local/rsa/1', privateKey });
 * const dek = await kek.unwrap(await kek.wrap(dek0));
 * ```
 */
export class LocalRsaKek implements KeyEncryptionKey {
  /** The configured id; also the `kekId` of every key this KEK wraps. */
  readonly id: string;
  /** Always `'RSA-OAEP-256'`. */
  readonly alg = 'RSA-OAEP-256' as const;
  /** The RSA modulus size in bits. */
  readonly modulusLength: number;
  readonly #modulusBytes: number;
  readonly #publicKey: KeyObject;
  readonly #privateKey: KeyObject | undefined;

  /**
   * @throws {TypeError} when `options` or `id` has the wrong type, neither key is given, a key is
   *   not a KeyObject/PEM of the right kind, is not RSA, or the two keys do not form a pair.
   * @throws {RangeError} when `id` is empty or a key's modulus is below 2048 bits.
   */
  constructor(options: LocalRsaKekOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object with id and publicKey and/or privateKey');
    }
    const { id, publicKey, privateKey } = options;
    assertString(id, 'id');
    if (publicKey === undefined && privateKey === undefined) {
      throw new TypeError('publicKey or privateKey is required');
    }
    const priv = privateKey === undefined ? undefined : toKeyObject(privateKey, 'privateKey', 'private');
    let pub: KeyObject;
    if (publicKey === undefined) {
      pub = createPublicKey(priv as KeyObject);
    } else {
      pub = toKeyObject(publicKey, 'publicKey', 'public');
      if (priv !== undefined) {
        const derived = createPublicKey(priv).export({ type: 'spki', format: 'der' });
        if (!derived.equals(pub.export({ type: 'spki', format: 'der' }))) {
          throw new TypeError('publicKey does not match privateKey');
        }
      }
    }
    this.id = id;
    this.modulusLength = pub.asymmetricKeyDetails?.modulusLength ?? 0;
    this.#modulusBytes = Math.ceil(this.modulusLength / 8);
    this.#publicKey = pub;
    this.#privateKey = priv;
  }

  /** True when a private key was configured, so {@link LocalRsaKek.unwrap} can work. */
  get canUnwrap(): boolean {
    return this.#privateKey !== undefined;
  }

  /**
   * Wraps `dek` with RSA-OAEP-256 under the public key.
   * @throws {TypeError} when `dek` is not a Uint8Array.
   * @throws {RangeError} when `dek` is empty or longer than OAEP allows (modulus bytes - 66).
   * @throws {unknown} `options.signal.reason` when the signal is already aborted.
   * @example
   * ```ts
   * const wrapped = await kek.wrap(dek); // { kekId: kek.id, alg: 'RSA-OAEP-256', bytes }
   * ```
   */
  async wrap(dek: Uint8Array, options?: KekOperationOptions): Promise<WrappedKey> {
    options?.signal?.throwIfAborted();
    assertBytes(dek, 'dek');
    const max = this.#modulusBytes - OAEP_SHA256_OVERHEAD;
    if (dek.length === 0 || dek.length > max) {
      throw new RangeError(`dek must be 1 to ${max} bytes for this key, got ${dek.length}`);
    }
    const out = publicEncrypt(
      { key: this.#publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      asBuffer(dek),
    );
    return { kekId: this.id, alg: this.alg, bytes: new Uint8Array(out) };
  }

  /**
   * Unwraps a key wrapped by {@link LocalRsaKek.wrap} (or any RSA-OAEP-256 encryptor, empty label).
   * @throws {UnsupportedKeyTypeError} when the KEK is wrap-only (no private key configured).
   * @throws {KeyNotAllowedError} when `wrapped.kekId` is not this KEK's `id`.
   * @throws {DecryptionFailedError} when `wrapped.alg` is not `'RSA-OAEP-256'`, the ciphertext is
   *   not exactly the modulus size, or OAEP decoding fails.
   * @throws {TypeError} when `wrapped` is not an object with Uint8Array `bytes`.
   * @throws {unknown} `options.signal.reason` when the signal is already aborted.
   * @example
   * ```ts
   * const dek = await kek.unwrap(wrapped);
   * ```
   */
  async unwrap(wrapped: WrappedKey, options?: KekOperationOptions): Promise<Uint8Array> {
    options?.signal?.throwIfAborted();
    if (typeof wrapped !== 'object' || wrapped === null) throw new TypeError('wrapped must be a WrappedKey object');
    assertBytes(wrapped.bytes, 'wrapped.bytes');
    if (this.#privateKey === undefined) {
      throw new UnsupportedKeyTypeError(`LocalRsaKek ${this.id} is wrap-only: it has no privateKey`);
    }
    if (wrapped.kekId !== this.id) throw new KeyNotAllowedError(String(wrapped.kekId));
    if (wrapped.alg !== this.alg || wrapped.bytes.length !== this.#modulusBytes) {
      throw new DecryptionFailedError();
    }
    let out: Buffer;
    try {
      out = privateDecrypt(
        { key: this.#privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        asBuffer(wrapped.bytes),
      );
    } catch {
      // No cause: distinguishable OAEP failures are a padding oracle (Manger's attack).
      throw new DecryptionFailedError();
    }
    const dek = new Uint8Array(out);
    out.fill(0);
    return dek;
  }

  /**
   * True when `wrapped` names this KEK's `id` and `'RSA-OAEP-256'` (also for a wrap-only KEK, so
   * that unwrapping reports it is wrap-only). Pure; never throws.
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
   * Signs a DEK record's authenticated fields with RSASSA-PSS (SHA-256, 32-byte salt: JOSE
   * `PS256`) under the private key. Local: no service call.
   * @throws {UnsupportedKeyTypeError} when the KEK is wrap-only (no private key).
   * @throws {TypeError} when `payload` is not a Uint8Array.
   * @throws {unknown} `options.signal.reason` when the signal is already aborted.
   * @example `const signature = await kek.signRecord(payload); // { kekId: kek.id, alg: 'PS256', bytes }`
   */
  async signRecord(payload: Uint8Array, options?: KekOperationOptions): Promise<RecordSignature> {
    options?.signal?.throwIfAborted();
    assertBytes(payload, 'payload');
    if (this.#privateKey === undefined) {
      throw new UnsupportedKeyTypeError(`LocalRsaKek ${this.id} cannot sign: it has no privateKey`);
    }
    const { padding, saltLength } = RSA_SIGNATURE_ALGORITHMS.PS256;
    const bytes = sign('sha256', asBuffer(payload), { key: this.#privateKey, padding, saltLength });
    return { kekId: this.id, alg: 'PS256', bytes: new Uint8Array(bytes) };
  }

  /**
   * Checks a record signature with the public key (a wrap-only KEK verifies too). False when
   * the signature names another key, an algorithm other than PS256/RS256, or does not verify.
   * @throws {TypeError} when `payload` is not a Uint8Array.
   * @throws {unknown} `options.signal.reason` when the signal is already aborted.
   * @example `if (await kek.verifyRecord(signature, payload)) adopt(record);`
   */
  async verifyRecord(signature: RecordSignature, payload: Uint8Array, options?: KekOperationOptions): Promise<boolean> {
    options?.signal?.throwIfAborted();
    assertBytes(payload, 'payload');
    if (signature?.kekId !== this.id || !(signature.bytes instanceof Uint8Array)) return false;
    if (!isRsaSignatureAlgorithm(signature.alg) || signature.bytes.length !== this.#modulusBytes) return false;
    const alg = RSA_SIGNATURE_ALGORITHMS[signature.alg];
    return verify('sha256', asBuffer(payload), { key: this.#publicKey, padding: alg.padding, saltLength: alg.saltLength }, asBuffer(signature.bytes));
  }

  /** Public description only. */
  toJSON(): { id: string; alg: 'RSA-OAEP-256'; modulusLength: number; canUnwrap: boolean } {
    return { id: this.id, alg: this.alg, modulusLength: this.modulusLength, canUnwrap: this.canUnwrap };
  }

  toString(): string {
    return `LocalRsaKek(${this.id}, ${this.alg}, ${this.modulusLength} bits${this.canUnwrap ? '' : ', wrap-only'})`;
  }

  [inspect.custom](_depth: number, opts: InspectOptions): string {
    return `LocalRsaKek ${inspect(this.toJSON(), opts)}`;
  }
}
