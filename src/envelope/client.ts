/**
 * EnvelopeClient: self-contained envelopes for blobs, messages, files and streams.
 * docs/format.md §Envelope describes the bytes; docs/security.md the guarantees.
 */
import { randomBytes } from 'node:crypto';
import { Duplex, type Transform } from 'node:stream';
import { AesGcm, getAeadBackend, type AeadBackendName } from '../aead/gcm.js';
import { DekResolver } from '../cache/dek-resolver.js';
import { type DataKeyMaterial, EncryptionKeyCache, type ReuseLimits, resolveReuseLimits } from '../cache/encryption-key-cache.js';
import { bindIsCurrent } from '../cache/internal/staleness.js';
import { UnwrappedKeyCache } from '../cache/unwrap-cache.js';
import { type EncryptionContext, encodeContext, parseContext } from '../format/context.js';
import { type EnvelopeHeader, MESSAGE_ID_LENGTH, WrappedKeysMemo, encodeWrappedKeys } from '../format/envelope.js';
import { SectionMacs, hmacFor } from '../format/internal/key-schedule.js';
import { Limits } from '../format/limits.js';
import { DEFAULT_SUITE } from '../format/suites.js';
import { assertBytes, assertPositiveInt } from '../internal/bytes.js';
import { SecretKey } from '../internal/secret.js';
import { pooledRandom } from '../internal/random.js';
import type { KeyEncryptionKey } from '../keys/kek.js';
import { wrapUnderAll } from '../keys/multi.js';
import { normalizeKeks } from '../keys/normalize.js';
import { openEnvelope, parseEnvelopeHeader, sealEnvelope, type SealParams } from './one-shot.js';
import { type DecryptStreamOptions, type EncryptStreamOptions, createDecryptStream, createEncryptStream } from './stream.js';

/** Options of {@link EnvelopeClient}. */
export interface EnvelopeClientOptions {
  /** One KEK or several: each DEK is wrapped under all of them; any one alone decrypts. */
  keks: KeyEncryptionKey | readonly KeyEncryptionKey[];
  /** Encrypt-side DEK reuse limits, or `false` for a new DEK per envelope. On by default. */
  cache?: ReuseLimits | false;
  /**
   * Decrypt-side cache of unwrapped DEKs; pass one to share it between clients. Sharing is safe
   * between tenants: a client is only ever served DEKs cached by a client with the very same KEK
   * objects (docs/security.md §Sharing a cache). Its clock (`now`) also drives encrypt-side reuse.
   */
  unwrappedKeyCache?: UnwrappedKeyCache;
  /**
   * Envelopes naming more wrapped keys are refused (`ERR_LIMIT_EXCEEDED`) before any unwrap,
   * like the AWS SDK's `maxEncryptedDataKeys`. 1..16, at least the number of `keks`; default 16
   * (the format's own cap). Set it to the most KEKs your writers use.
   */
  maxWrappedKeys?: number;
  /**
   * Frame size for new envelopes, bytes. By default `encrypt` writes a message of up to 4 MiB as
   * one frame (decrypt then returns the cipher's output without a copy) and larger ones, and
   * streams, in 1 MiB frames.
   */
  frameSize?: number;
  /** Content-encryption backend: `'node'` (default) or `'noble'` (portable). */
  backend?: AeadBackendName;
}

/** Options of {@link EnvelopeClient.encrypt}. */
export interface EncryptOptions {
  /** Authenticated and stored in the envelope (readable without decrypting: not secret). */
  context?: EncryptionContext;
  /** Authenticated but NOT stored: decrypt must supply the same map. Keys must not overlap `context`. */
  requiredContext?: EncryptionContext;
  signal?: AbortSignal;
}

/** Options of {@link EnvelopeClient.decrypt}. */
export interface DecryptOptions {
  /** The required context given at encryption. */
  requiredContext?: EncryptionContext;
  signal?: AbortSignal;
}

/** Result of {@link EnvelopeClient.decrypt}. */
export interface DecryptResult {
  readonly plaintext: Uint8Array;
  /** The stored (authenticated) context. */
  readonly context: Record<string, string>;
}

/**
 * Encrypts and decrypts envelopes under one or more KEKs.
 *
 * @example
 * ```ts
 * import { EnvelopeClient, LocalAesKek } from 'kv-envelope';
 * const client = new EnvelopeClient({ keks: new LocalAesKek({ id: 'k1', key: crypto.getRandomValues(new Uint8Array(32)) }) });
 * const envelope = await client.encrypt(new TextEncoder().encode('hello'), { context: { purpose: 'demo' } });
 * const { plaintext, context } = await client.decrypt(envelope);
 * ```
 */
export class EnvelopeClient {
  readonly #keks: readonly KeyEncryptionKey[];
  readonly #aead: AesGcm;
  /** v2 section MACs memoized per DEK (computed once per cached DEK, verified once per DEK and section). */
  readonly #sectionMacs: SectionMacs;
  /** The last wrapped-key section decrypt parsed (envelopes under one DEK share it). */
  readonly #parsedSection = new WrappedKeysMemo();
  /** Undefined: the default framing (see {@link EnvelopeClientOptions.frameSize}). */
  readonly #frameSize: number | undefined;
  readonly #encryptCache: EncryptionKeyCache | undefined;
  readonly #resolver: DekResolver;

  /** @throws {TypeError | RangeError} on invalid options, naming the option. */
  constructor(options: EnvelopeClientOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    this.#keks = normalizeKeks(options.keks, 'options.keks');
    this.#aead = new AesGcm(getAeadBackend(options.backend ?? 'node'));
    this.#sectionMacs = new SectionMacs(hmacFor(this.#aead));
    this.#frameSize = options.frameSize;
    if (this.#frameSize !== undefined) {
      assertPositiveInt(this.#frameSize, 'options.frameSize');
      if (this.#frameSize < Limits.MIN_FRAME_SIZE || this.#frameSize > Limits.MAX_FRAME_SIZE) {
        throw new RangeError(`options.frameSize must be ${Limits.MIN_FRAME_SIZE}..${Limits.MAX_FRAME_SIZE}`);
      }
    }
    const maxWrappedKeys = options.maxWrappedKeys ?? Limits.MAX_WRAPPED_KEYS;
    assertPositiveInt(maxWrappedKeys, 'options.maxWrappedKeys');
    if (maxWrappedKeys > Limits.MAX_WRAPPED_KEYS || maxWrappedKeys < this.#keks.length) {
      throw new RangeError(`options.maxWrappedKeys must be ${this.#keks.length}..${Limits.MAX_WRAPPED_KEYS} (at least one per KEK)`);
    }
    const cache = (options.unwrappedKeyCache ?? new UnwrappedKeyCache()).partition({ keks: this.#keks });
    this.#encryptCache = options.cache === false ? undefined : new EncryptionKeyCache(resolveReuseLimits(options.cache, 'options.cache'), {
      now: cache.now,
      isCurrentOf: (m) => bindIsCurrent(this.#keks, m.wrappedKeys),
    });
    this.#resolver = new DekResolver(this.#keks, cache, { cacheDeks: true, maxWrappedKeys });
  }

  /**
   * Retires the encrypt-side DEK now: the next envelope gets a new DEK, wrapped under each KEK's
   * current version. Use it after a KEK rotation (KEKs that implement `isCurrent`, such as
   * `KeyVaultKek`, make this automatic) or when a DEK may be compromised. Envelopes being
   * encrypted finish under the old DEK; decryption is unaffected.
   * @example
   * ```ts
   * await kek.refresh(); // sees the new version
   * client.retireDataKey(); // the next envelope names it
   * ```
   */
  retireDataKey(): void {
    this.#encryptCache?.clear();
  }

  /**
   * Encrypts `plaintext` into a self-contained envelope.
   * @throws {TypeError | RangeError} on invalid arguments.
   * @throws {EnvelopeError} when a KEK fails to wrap (e.g. `ERR_KEK_UNAVAILABLE`).
   */
  async encrypt(plaintext: Uint8Array, options: EncryptOptions = {}): Promise<Uint8Array> {
    assertBytes(plaintext, 'plaintext');
    const contexts = encodeContexts(options);
    options.signal?.throwIfAborted();
    const material = await this.#material(plaintext.length, options.signal);
    return sealEnvelope(this.#aead, this.#sectionMacs, this.#sealParams(material, contexts, oneShotFrameSize(this.#frameSize, plaintext.length)), plaintext);
  }

  /**
   * Decrypts an envelope. No plaintext is returned unless every byte authenticated.
   * @throws {EnvelopeMalformedError} when `envelope` is not a well-formed envelope.
   * @throws {DecryptionFailedError} when it was tampered with, or the required context differs.
   * @throws {NoMatchingKekError} when none of this client's KEKs wrapped its DEK.
   * @throws {EnvelopeError} when the KEK fails (`ERR_KEK_UNAVAILABLE`, `ERR_KEY_NOT_ALLOWED`, …).
   */
  decrypt(envelope: Uint8Array, options: DecryptOptions = {}): Promise<DecryptResult> {
    // Not `async`: with the DEK in the resolver's hot memo, decrypt settles without an await.
    try {
      assertBytes(envelope, 'envelope');
      // Read only below: an absent required context shares one encoding instead of a new array per call.
      const requiredContextBytes = options.requiredContext === undefined ? EMPTY_CONTEXT : encodeContext(options.requiredContext, 'requiredContext');
      const header = parseEnvelopeHeader(envelope, this.#parsedSection);
      const context = parseContext(header.contextBytes);
      options.signal?.throwIfAborted();
      const hot = this.#resolver.resolveHot(header.wrappedKeys, header.suite.dekLength);
      if (hot !== undefined) return Promise.resolve(this.#open(envelope, header, hot, requiredContextBytes, context));
      return this.#resolver.resolve(header.wrappedKeys, header.suite.dekLength, options.signal)
        .then((dek) => this.#open(envelope, header, dek, requiredContextBytes, context));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Opens a parsed envelope with its DEK (used synchronously: a cached key may be wiped later). */
  #open(envelope: Uint8Array, header: EnvelopeHeader, dek: SecretKey, requiredContextBytes: Uint8Array, context: Record<string, string>): DecryptResult {
    return { plaintext: openEnvelope(this.#aead, this.#sectionMacs, envelope, header, dek.expose(), requiredContextBytes), context };
  }

  /**
   * A Node.js Transform that encrypts what is written to it into one envelope. Memory stays at
   * about two frames whatever the input size. Use `Duplex.toWeb()` for web streams.
   */
  encryptStream(options: EncryptStreamOptions = {}): Transform {
    const contexts = encodeContexts(options);
    return createEncryptStream(this.#aead, this.#sectionMacs, {
      material: (signal) => this.#material(0, signal),
      params: (m) => this.#sealParams(m, contexts, this.#frameSize ?? Limits.DEFAULT_FRAME_SIZE),
      onBytes: (m, n) => this.#encryptCache?.addBytes(m, n),
    }, options);
  }

  /**
   * A Node.js Transform that decrypts an envelope written to it. Each frame's plaintext is
   * pushed only after its tag verifies; a stream that ends early or is tampered with errors
   * with an EnvelopeError, so treat output as valid only once the stream finishes.
   */
  decryptStream(options: DecryptStreamOptions = {}): Transform {
    return createDecryptStream(this.#aead, this.#sectionMacs, (w, signal) => this.#resolver.resolve(w, DEFAULT_SUITE.dekLength, signal), options);
  }

  /**
   * {@link encryptStream} as a web `TransformStream`-shaped pair, for `readable.pipeThrough()`.
   * @example
   * ```ts
   * const encrypted = file.stream().pipeThrough(client.encryptWebStream());
   * ```
   */
  encryptWebStream(options: EncryptStreamOptions = {}): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } {
    return Duplex.toWeb(this.encryptStream(options)) as { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  }

  /** {@link decryptStream} as a web `TransformStream`-shaped pair. */
  decryptWebStream(options: DecryptStreamOptions = {}): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } {
    return Duplex.toWeb(this.decryptStream(options)) as { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  }

  async #material(byteCount: number, signal?: AbortSignal): Promise<DataKeyMaterial> {
    if (this.#encryptCache === undefined) return this.#newDataKey(signal);
    return this.#encryptCache.acquire(byteCount, () => this.#newDataKey(), signal);
  }

  async #newDataKey(signal?: AbortSignal): Promise<DataKeyMaterial> {
    const dekBytes = randomBytes(DEFAULT_SUITE.dekLength);
    const wrappedKeys = await wrapUnderAll(this.#keks, dekBytes, { signal });
    const dek = new SecretKey(new Uint8Array(dekBytes));
    dekBytes.fill(0);
    this.#resolver.prime(wrappedKeys, dek);
    return { dek, wrappedKeys, wrappedSection: encodeWrappedKeys(wrappedKeys) };
  }

  /** The seal inputs of one message; `dek` is the cache's live key, used synchronously by the seal only. */
  #sealParams(m: DataKeyMaterial, c: EncodedContexts, frameSize: number): SealParams {
    return {
      suite: DEFAULT_SUITE,
      dek: m.dek.expose(),
      messageId: pooledRandom(MESSAGE_ID_LENGTH),
      wrappedSection: m.wrappedSection,
      contextBytes: c.context,
      requiredContextBytes: c.required,
      frameSize,
    };
  }
}

/**
 * The frame size of a one-shot message: the configured one, or by default one frame for up to
 * 4 MiB (a single frame decrypts with no copy) and 1 MiB frames beyond.
 */
function oneShotFrameSize(configured: number | undefined, length: number): number {
  if (configured !== undefined) return configured;
  if (length > Limits.MAX_FRAME_SIZE) return Limits.DEFAULT_FRAME_SIZE;
  return Math.max(Limits.MIN_FRAME_SIZE, length);
}

/** The §Context encoding of no context (a zero count), shared by decrypts that pass none. */
const EMPTY_CONTEXT = encodeContext(undefined);

interface EncodedContexts {
  readonly context: Uint8Array;
  readonly required: Uint8Array;
}

function encodeContexts(options: EncryptOptions): EncodedContexts {
  const context = encodeContext(options.context, 'context');
  const required = encodeContext(options.requiredContext, 'requiredContext');
  if (options.context !== undefined && options.requiredContext !== undefined) {
    for (const k of Object.keys(options.requiredContext)) {
      if (Object.hasOwn(options.context, k)) throw new RangeError(`requiredContext key ${k} is also in context`);
    }
  }
  return { context, required };
}
