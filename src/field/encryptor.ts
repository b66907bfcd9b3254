/**
 * FieldEncryptor: compact encryption of database values. docs/format.md §Field.
 */
import { AesGcm, type AeadBackendName, getAeadBackend } from '../aead/gcm.js';
import { AesSiv } from '../aead/siv.js';
import { DekResolver } from '../cache/dek-resolver.js';
import { UnwrappedKeyCache } from '../cache/unwrap-cache.js';
import type { CachePartition } from '../cache/internal/partition.js';
import { bindIsCurrent, canTellCurrency } from '../cache/internal/staleness.js';
import { DecryptionFailedError, EnvelopeMalformedError } from '../errors.js';
import {
  FIELD_GCM_OVERHEAD, FIELD_GCM_VERSION, FIELD_PREFIX_LENGTH, FIELD_SIV_VERSION, type FieldKind, KEY_REF_LENGTH, fieldKind, keyRefHex,
} from '../format/field.js';
import { Limits } from '../format/limits.js';
import { assertBytes, assertString, fromUtf8, utf8 } from '../internal/bytes.js';
import type { KeyEncryptionKey } from '../keys/kek.js';
import { normalizeKeks } from '../keys/normalize.js';
import { SecretKey } from '../internal/secret.js';
import type { KeyStore } from '../store/key-store.js';
import { GcmField } from './internal/gcm-field.js';
import { NamedKeys } from './internal/named-keys.js';
import { ActiveDek, type ActiveDekMaterial, type FieldLimits, resolveFieldLimits } from './active-dek.js';
import { DEK_LENGTH, type FieldDek, type FieldKeyContext, cacheKey, createFieldDek, loadFieldDek } from './records.js';
import { type BlindIndexOptions, computeBlindIndex } from '../search/blind-index.js';
import { BlindIndexKeys } from '../search/prepared-index.js';
import { type BulkItem, type BulkResult, runBulk } from './bulk.js';
import { registerInternals } from './internal/access.js';

/** Options of {@link FieldEncryptor}. */
export interface FieldEncryptorOptions {
  /** One KEK or several: each DEK record holds the DEK wrapped under all of them. */
  keks: KeyEncryptionKey | readonly KeyEncryptionKey[];
  /** Where DEK records live; share it between every process that reads these fields. */
  keyStore: KeyStore;
  /** When the active randomized DEK is retired. */
  limits?: FieldLimits;
  /**
   * Decrypt-side cache of unwrapped DEKs; pass one to share it. Sharing is safe between tenants:
   * an encryptor is only ever served DEKs cached by an encryptor with the very same KEK objects
   * and key-store object (docs/security.md §Sharing a cache). Its clock (`now`) also drives this
   * encryptor's DEK ages and memo lifetimes.
   */
  unwrappedKeyCache?: UnwrappedKeyCache;
  /** Content-encryption backend: `'node'` (default) or `'noble'`. */
  backend?: AeadBackendName;
}

/** Options of the field operations. */
export interface FieldOptions {
  /**
   * Authenticated, not stored: bind the value to its place, e.g. `'users.ssn#42'`. Decrypt
   * must pass the same string; a value copied to another row or column fails to decrypt.
   */
  aad?: string;
  signal?: AbortSignal;
}

/** Options of {@link FieldEncryptor.encryptDeterministic}. */
export interface DeterministicOptions extends FieldOptions {
  /** Name of the shared deterministic DEK (e.g. `'users.email'`); created on first use. */
  keyName: string;
}

/**
 * Encrypts database fields with ≤ 40 bytes of overhead, keys kept in a KeyStore.
 *
 * @example
 * ```ts
 * import { FieldEncryptor, LocalAesKek, MemoryKeyStore } from 'kv-envelope';
 * const fields = new FieldEncryptor({ keks: kek, keyStore: new MemoryKeyStore() });
 * const ssn = await fields.encryptText('078-05-1120', { aad: 'users.ssn#42' });
 * await fields.decryptText(ssn, { aad: 'users.ssn#42' }); // '078-05-1120'
 * ```
 */
export class FieldEncryptor {
  readonly #ctx: FieldKeyContext;
  readonly #cache: CachePartition;
  readonly #gcm: GcmField;
  readonly #siv: AesSiv;
  readonly #now: () => number;
  readonly #active: ActiveDek;
  readonly #canTellCurrency: boolean;
  readonly #named: NamedKeys;
  readonly #indexes = new BlindIndexKeys();
  #hot: { readonly version: number; readonly keyRef: Uint8Array; readonly dek: SecretKey; readonly expiresAt: number } | undefined;

  /** @throws {TypeError | RangeError} on invalid options, naming the option. */
  constructor(options: FieldEncryptorOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const keks = normalizeKeks(options.keks, 'options.keks');
    const store = options.keyStore;
    if (store === null || typeof store !== 'object' || typeof store.get !== 'function' || typeof store.createIfAbsent !== 'function') {
      throw new TypeError('options.keyStore must implement KeyStore');
    }
    const cache = (options.unwrappedKeyCache ?? new UnwrappedKeyCache()).partition({ keks, store });
    // Records are cached by keyRef (below); the resolver caches nothing, so a DEK takes one entry.
    const resolver = new DekResolver(keks, cache, { cacheDeks: false, maxWrappedKeys: Limits.MAX_WRAPPED_KEYS });
    this.#ctx = { keks, store, cache, resolver };
    this.#cache = cache;
    this.#named = new NamedKeys(this.#ctx, cache);
    this.#canTellCurrency = canTellCurrency(keks);
    this.#now = cache.now;
    const backend = getAeadBackend(options.backend ?? 'node');
    this.#gcm = new GcmField(new AesGcm(backend).backend);
    // The same backend for both modes: `backend: 'noble'` means no node:crypto in content encryption.
    this.#siv = new AesSiv(backend);
    this.#active = new ActiveDek(resolveFieldLimits(options.limits), () => this.#newActiveDek(), cache.now);
    registerInternals(this, {
      reserve: async (count, signal) => {
        const now = this.#active.reserve(count);
        if (now !== undefined) return now;
        const dek = await this.#active.next(signal);
        const more = count > 1 ? this.#active.reserve(count - 1) : undefined;
        return { dek, count: 1 + (more !== undefined && more.dek === dek ? more.count : 0) };
      },
      dekFor: async (ciphertext, signal) => this.#hotDek(ciphertext) ?? (await this.#coldDek(ciphertext, fieldKind(ciphertext), signal)),
    });
  }

  /**
   * Randomized encryption (AES-256-GCM, random 96-bit nonce): 37 bytes of overhead.
   * @throws {TypeError | RangeError} on invalid arguments.
   * @throws {EnvelopeError} when a new DEK must be made and a KEK or the key store fails.
   */
  encrypt(value: string | Uint8Array, options?: FieldOptions): Promise<Uint8Array> {
    // Not `async`: the common case (an active DEK) settles without an async frame or an await.
    try {
      const plaintext = toBytes(value);
      checkAad(options?.aad);
      const dek = this.#active.current();
      if (dek !== undefined) return Promise.resolve(this.#gcm.seal(dek.dek.expose(), dek.keyRef, plaintext, options?.aad));
      return this.#encryptUnderNext(plaintext, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #encryptUnderNext(plaintext: Uint8Array, options: FieldOptions | undefined): Promise<Uint8Array> {
    const dek = await this.#active.next(options?.signal);
    return this.#gcm.seal(dek.dek.expose(), dek.keyRef, plaintext, options?.aad);
  }

  /**
   * Deterministic encryption (AES-SIV): equal values under one `keyName` and `aad` give equal
   * ciphertexts, so the column can be searched by equality. Leaks equality, nothing else.
   */
  encryptDeterministic(value: string | Uint8Array, options: DeterministicOptions): Promise<Uint8Array> {
    // Not `async`: with the named key loaded (the common case) it settles without an await.
    try {
      const plaintext = toBytes(value);
      if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
      assertString(options.keyName, 'options.keyName', 256);
      if (options.keyName.startsWith(BLIND_INDEX_PREFIX)) throw new RangeError(`options.keyName must not start with ${BLIND_INDEX_PREFIX} (reserved for blind index keys)`);
      // Stores key names by their UTF-8 bytes: names differing only in lone surrogates would collide.
      if (!options.keyName.isWellFormed()) throw new RangeError('options.keyName must be well-formed Unicode (no lone surrogates)');
      checkAad(options.aad);
      const aad = aadBytes(options.aad);
      options.signal?.throwIfAborted();
      const dek = this.#named.peek(options.keyName);
      if (dek !== undefined) return Promise.resolve(this.#sealSiv(dek, plaintext, aad));
      return this.#named.get(options.keyName, options.signal).then((d) => this.#sealSiv(d, plaintext, aad));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #sealSiv(dek: FieldDek, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const prefix = new Uint8Array(FIELD_PREFIX_LENGTH);
    prefix[0] = FIELD_SIV_VERSION;
    prefix.set(dek.keyRef, 1);
    const sealed = this.#siv.seal(dek.dek.expose(), plaintext, prefix, aad);
    const out = new Uint8Array(FIELD_PREFIX_LENGTH + sealed.length);
    out.set(prefix, 0);
    out.set(sealed, FIELD_PREFIX_LENGTH);
    return out;
  }

  /**
   * Decrypts a value from {@link encrypt} or {@link encryptDeterministic}.
   * @throws {EnvelopeMalformedError} when the bytes are not a field ciphertext.
   * @throws {DecryptionFailedError} when tampered, or the `aad` differs.
   * @throws {KeyNotFoundError} when the key store has no record for its keyRef.
   */
  decrypt(ciphertext: Uint8Array, options?: FieldOptions): Promise<Uint8Array> {
    // Not `async`: a hot-memo hit settles without an async frame or an await.
    try {
      assertBytes(ciphertext, 'ciphertext');
      const aad = options?.aad;
      checkAad(aad);
      // The common case first: a randomized value under the DEK read last (checks as fieldKind's).
      if (ciphertext[0] === FIELD_GCM_VERSION && ciphertext.length >= FIELD_GCM_OVERHEAD) {
        const dek = this.#hotDek(ciphertext);
        if (dek !== undefined) return Promise.resolve(this.#gcm.open(dek.expose(), ciphertext, aad));
      }
      const kind = fieldKind(ciphertext);
      const dek = this.#hotDek(ciphertext);
      if (dek !== undefined) return Promise.resolve(this.#open(dek, ciphertext, kind, aad));
      return this.#decryptCold(ciphertext, kind, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #decryptCold(ciphertext: Uint8Array, kind: FieldKind, options: FieldOptions | undefined): Promise<Uint8Array> {
    const dek = await this.#coldDek(ciphertext, kind, options?.signal);
    return this.#open(dek, ciphertext, kind, options?.aad);
  }

  #open(dek: SecretKey, ciphertext: Uint8Array, kind: FieldKind, aad: string | undefined): Uint8Array {
    if (kind === 'siv') {
      return this.#siv.open(dek.expose(), ciphertext.subarray(FIELD_PREFIX_LENGTH), ciphertext.subarray(0, FIELD_PREFIX_LENGTH), aadBytes(aad));
    }
    return this.#gcm.open(dek.expose(), ciphertext, aad);
  }

  /** {@link encrypt} for text columns: UTF-8 in, base64url text out. */
  async encryptText(value: string, options?: FieldOptions): Promise<string> {
    if (typeof value !== 'string') throw new TypeError('value must be a string');
    return Buffer.from(await this.encrypt(value, options)).toString('base64url');
  }

  /** {@link encryptDeterministic} for text columns: base64url text out. */
  async encryptDeterministicText(value: string, options: DeterministicOptions): Promise<string> {
    if (typeof value !== 'string') throw new TypeError('value must be a string');
    return Buffer.from(await this.encryptDeterministic(value, options)).toString('base64url');
  }

  /**
   * Decrypts the base64url text of {@link encryptText} / {@link encryptDeterministicText}.
   * @throws {EnvelopeMalformedError} when `text` is not base64url or the plaintext is not UTF-8.
   */
  async decryptText(text: string, options?: FieldOptions): Promise<string> {
    if (typeof text !== 'string') throw new TypeError('text must be a string');
    if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new EnvelopeMalformedError('field text is not base64url');
    const bytes = Buffer.from(text, 'base64url');
    // Node decodes leniently (a dangling 6th-bit char, non-zero pad bits): accept only the canonical text.
    if (bytes.toString('base64url') !== text) throw new EnvelopeMalformedError('field text is not canonical base64url');
    const plaintext = await this.decrypt(bytes, options);
    try {
      return fromUtf8(plaintext);
    } catch {
      throw new EnvelopeMalformedError('field plaintext is not UTF-8 text: use decrypt() for binary values');
    }
  }

  /**
   * A blind index of `value` (or of several values, for a compound index): an integer in
   * `[0, 2^bits)` to store in an indexed column and query by equality. HMAC-SHA-256 under a key
   * derived from the named key-store record `blind-index:<name>` (created on first use, shared
   * and authenticated like a deterministic key; never a value's DEK), truncated to `bits`.
   * `transform` normalizes first and, with `name`, `bits` and `aad`, is part of the index
   * definition. What it leaks and how to pick `bits`: docs/searchable.md, `planBlindIndex`.
   * @throws {TypeError | RangeError} on invalid arguments (bits outside 1..32, unknown transform, …).
   * @throws {EnvelopeError} when the index key must be made or unwrapped and the KEK or store fails.
   * @example
   * ```ts
   * const emailIndex = { name: 'users.email', bits: 16, transform: ['trim', 'lowercase'] } as const;
   * await db.query('INSERT INTO users (email, email_bidx) VALUES ($1, $2)', [await fields.encrypt(email, { aad }), await fields.blindIndex(email, emailIndex)]);
   * const candidates = await db.query('SELECT * FROM users WHERE email_bidx = $1', [await fields.blindIndex(query, emailIndex)]);
   * ```
   */
  blindIndex(value: string | Uint8Array | readonly (string | Uint8Array)[], options: BlindIndexOptions): Promise<number> {
    // Not `async`: with the index key loaded (the common case) it settles without an await.
    try {
      const values: readonly (string | Uint8Array)[] = Array.isArray(value) ? value : [value as string | Uint8Array];
      if (values.length === 0) throw new RangeError('value must hold at least one value');
      const definition = this.#indexes.definition(options, values.length);
      options.signal?.throwIfAborted();
      const record = this.#named.peek(definition.keyName);
      if (record !== undefined) return Promise.resolve(computeBlindIndex(this.#indexes.key(record, definition), definition, values));
      return this.#named.get(definition.keyName, options.signal).then((r) => computeBlindIndex(this.#indexes.key(r, definition), definition, values));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * {@link encrypt} for many values, with a result per item: one bad item (or a failure) never
   * throws away the others. Items are a value, or `{ value, aad }`.
   * @throws {TypeError} when `items` is not iterable.
   * @example
   * ```ts
   * const results = await fields.encryptMany(rows.map((r) => ({ value: r.ssn, aad: `users.ssn#${r.id}` })));
   * for (const r of results) if (!r.ok) console.error(r.index, r.error.code);
   * ```
   */
  encryptMany(items: Iterable<BulkItem<string | Uint8Array>>, options?: { signal?: AbortSignal }): Promise<BulkResult<Uint8Array>[]> {
    return runBulk(items, options?.signal, (value, aad, signal) => this.encrypt(value, { aad, signal }));
  }

  /**
   * {@link decrypt} for many ciphertexts, a result per item; each distinct keyRef is resolved
   * once (the cache and its single-flight see to it), whatever the number of rows.
   * @throws {TypeError} when `items` is not iterable.
   * @example `const results = await fields.decryptMany(rows.map((r) => ({ value: r.ssn, aad: \`users.ssn#${r.id}\` })));`
   */
  decryptMany(items: Iterable<BulkItem<Uint8Array>>, options?: { signal?: AbortSignal }): Promise<BulkResult<Uint8Array>[]> {
    return runBulk(items, options?.signal, (value, aad, signal) => this.decrypt(value, { aad, signal }));
  }

  /**
   * Retires the encrypt-side data keys now: the next {@link encrypt} makes a new DEK (wrapped
   * under each KEK's current version), and named keys are read again from the key store (their
   * DEK stays the same: equality search depends on it). Use it after a KEK rotation, or when a
   * DEK may be compromised. Encryptions already past their `await` finish under the old DEK.
   * KEKs that implement `isCurrent` (`KeyVaultKek`) make this automatic after a rotation.
   * @example
   * ```ts
   * await kek.refresh(); // sees the new version
   * fields.retireDataKey(); // new values go to a DEK wrapped under it
   * ```
   */
  retireDataKey(): void {
    this.#active.retire();
    this.#named.retireAll();
  }

  /**
   * @deprecated Same as {@link retireDataKey} (the name both clients share).
   * @example `fields.retireActiveDek();`
   */
  retireActiveDek(): void {
    this.retireDataKey();
  }

  async #newActiveDek(): Promise<ActiveDekMaterial> {
    const dek = await createFieldDek(this.#ctx, 'gcm', undefined);
    if (!this.#canTellCurrency) return { dek };
    // The record as readers see it names the KEK versions this DEK is under. If the read fails
    // the DEK is still good; it just ends by its limits instead of by a rotation.
    const record = await this.#ctx.store.get(dek.keyRefHex).catch(() => undefined);
    return { dek, isCurrent: record === undefined ? undefined : bindIsCurrent(this.#ctx.keks, record.wrappedDeks) };
  }

  /**
   * The DEK of the last keyRef decrypted, when `ciphertext` names it again (the common case:
   * a table read under one DEK). Skips the hex key and cache lookup: ~25% of a 100-byte decrypt.
   * The memo holds the cache's own SecretKey, so a cache eviction (which wipes it) ends its use.
   */
  #hotDek(ciphertext: Uint8Array): SecretKey | undefined {
    const hot = this.#hot;
    if (hot === undefined || hot.dek.wiped || ciphertext[0] !== hot.version) return undefined;
    for (let i = 0; i < KEY_REF_LENGTH; i++) if (ciphertext[i + 1] !== hot.keyRef[i]) return undefined;
    // The memo ends with its cache entry's TTL, not only with its wipe (which lags up to a sweep).
    return this.#now() < hot.expiresAt ? hot.dek : undefined;
  }

  async #coldDek(ciphertext: Uint8Array, kind: FieldKind, signal?: AbortSignal): Promise<SecretKey> {
    const ref = keyRefHex(ciphertext);
    const dek = this.#cache.get(cacheKey(ref, kind)) ?? (await loadFieldDek(this.#ctx, ref, kind, signal)).dek;
    // Partitioned, kind-keyed entries make this impossible; never hand a DEK to the wrong cipher.
    if (dek.length !== DEK_LENGTH[kind]) throw new DecryptionFailedError();
    this.#hot = { version: ciphertext[0]!, keyRef: ciphertext.slice(1, 1 + KEY_REF_LENGTH), dek, expiresAt: this.#cache.expiresAt(dek) };
    return dek;
  }

}

function toBytes(value: unknown): Uint8Array {
  if (typeof value === 'string') return utf8(value);
  assertBytes(value, 'value');
  return value;
}

const EMPTY = new Uint8Array(0);
const BLIND_INDEX_PREFIX = 'blind-index:';

/** Validates a caller's `aad` (before any key work, so a bad argument costs nothing). */
function checkAad(aad: unknown): asserts aad is string | undefined {
  if (aad === undefined) return;
  if (typeof aad !== 'string') throw new TypeError('options.aad must be a string');
  // UTF-8 maps every lone surrogate to U+FFFD, so two different aad strings would bind alike.
  if (!aad.isWellFormed()) throw new RangeError('options.aad must be well-formed Unicode (no lone surrogates)');
  // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only when the length alone can't decide.
  if (aad.length > Limits.MAX_FIELD_AAD_BYTES || (aad.length * 3 > Limits.MAX_FIELD_AAD_BYTES && Buffer.byteLength(aad) > Limits.MAX_FIELD_AAD_BYTES)) {
    throw new RangeError(`options.aad must be at most ${Limits.MAX_FIELD_AAD_BYTES} bytes`);
  }
}

/** The caller's aad as UTF-8 (deterministic mode's second AD component). */
function aadBytes(aad: string | undefined): Uint8Array {
  return aad === undefined ? EMPTY : utf8(aad);
}
