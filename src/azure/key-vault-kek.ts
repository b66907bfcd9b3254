/**
 * KeyVaultKek: a key-encryption key held in Azure Key Vault (or Managed HSM).
 *
 * - Version: the latest enabled, currently valid version, looked up explicitly (`getKey(name)`,
 *   falling back to `listPropertiesOfKeyVersions` when the latest is disabled/expired/not yet
 *   valid: see internal/version-resolver.ts) at most every `refreshInterval` and on `refresh()`.
 *   Every WrappedKey records that full versioned kid.
 * - Wrap: RSA / RSA-HSM keys wrap LOCALLY with RSA-OAEP-256 from the cached public key of that
 *   version (0 vault calls per wrap); oct-HSM keys wrap remotely with AES-KW.
 * - Unwrap: always remote, through the `CryptographyClient` of the exact versioned kid recorded
 *   in the wrapped key, and only for kids on the allow-list (checked before anything is sent).
 *   A cold client costs one GET per kid (the SDK fetches the key); clients are kept per kid.
 * - Record signatures (docs/security.md §Record authentication): `signRecord` is one vault
 *   `sign` (PS256) by the current version; `verifyRecord` checks locally with the signing
 *   version's public key. oct-HSM keys do not sign: their AES-KW wraps authenticate records.
 * - Retries: the Azure pipeline's own retry is switched off (`retryOptions.maxRetries = 0`) and
 *   this KEK retries 429 (with or without Retry-After), 408, 5xx and dropped connections itself,
 *   with a bound the caller sets. The pipeline alone never retries a 429 without Retry-After,
 *   and stacked on ours it would multiply attempts by 4.
 *
 * @module
 */
import { constants, publicEncrypt } from 'node:crypto';
import { inspect, type InspectOptions } from 'node:util';
import type { CryptographyClient } from '@azure/keyvault-keys';
import { DecryptionFailedError, EnvelopeError, KeyNotAllowedError } from '../errors.js';
import { assertBytes, asBuffer } from '../internal/bytes.js';
import { escapeUntrusted } from '../internal/escape.js';
import type { KekOperationOptions, KeyEncryptionKey, RecordSignature, WrappedKey } from '../keys/kek.js';
import { UNWRAP_ALGORITHMS } from './internal/algorithms.js';
import { type CallSettings, callVault } from './internal/call.js';
import { invalidatesClient, isSdkValidityPrecheck, type VaultOperation } from './internal/errors.js';
import { type ParsedKeyId, configuredId, parseKeyId, versionedId } from './internal/key-id.js';
import { RecordSigner } from './internal/record-signer.js';
import { VaultClients } from './internal/vault-clients.js';
import { VersionResolver } from './internal/version-resolver.js';
import { type KeyVaultKekOptions, type ResolvedKekOptions, resolveKekOptions } from './options.js';

/** CryptographyClients kept per KEK (one per versioned kid used for unwrapping). */
const MAX_CRYPTO_CLIENTS = 32;
/** Loose shape test for `matches`: any http(s) URL whose path is `/keys/{name}/{version}`. */
const KEY_ID_PATH = /^\/keys\/[^/]+\/[^/]+\/?$/;

/**
 * A {@link KeyEncryptionKey} backed by a Key Vault key, for `EnvelopeClient` and `FieldEncryptor`.
 *
 * @example
 * ```ts
 * import { DefaultAzureCredential } from '@azure/identity';
 * import { EnvelopeClient } from 'kv-envelope';
 * import { KeyVaultKek } from 'kv-envelope/azure';
 * const kek = new KeyVaultKek({ vaultUrl: 'https://myvault.vault.azure.net', keyName: 'kek', credential: new DefaultAzureCredential() });
 * const client = new EnvelopeClient({ keks: kek });
 * const envelope = await client.encrypt(new TextEncoder().encode('hello'));
 * ```
 */
export class KeyVaultKek implements KeyEncryptionKey {
  /** The configured key, versionless (`https://host/keys/name`) unless a version was pinned. */
  readonly id: string;
  readonly #o: ResolvedKekOptions;
  readonly #clients: VaultClients;
  readonly #resolver: VersionResolver;
  readonly #settings: CallSettings;
  readonly #signer: RecordSigner;

  /**
   * @throws {TypeError | RangeError} on invalid options, naming the option.
   * @throws {UnsupportedKeyTypeError} when `options.key` is an EC key (Key Vault EC keys only sign).
   */
  constructor(options: KeyVaultKekOptions) {
    this.#o = resolveKekOptions(options);
    const key = this.#o.key;
    this.id = configuredId(key);
    this.#settings = { retry: this.#o.retry, timeoutMs: this.#o.timeoutMs };
    this.#clients = new VaultClients(this.#o.credential, this.#o.clientOptions, MAX_CRYPTO_CLIENTS);
    this.#resolver = new VersionResolver({
      key,
      keyClient: this.#clients.keyClient(key.origin),
      call: (op, kid, signal, fn) => callVault(op, kid, this.#settings, signal, fn),
      octAlgorithm: this.#o.octWrapAlgorithm,
      refreshIntervalMs: this.#o.refreshIntervalMs,
      now: this.#o.now,
    });
    this.#signer = new RecordSigner({
      key,
      keyClient: this.#clients.keyClient(key.origin),
      call: (op, kid, signal, fn) => callVault(op, kid, this.#settings, signal, fn),
      current: (signal) => this.#resolver.current(signal),
      remote: (op, id, signal, fn) => this.#remote(op, id, signal, fn),
    });
  }

  /** The versioned kid new DEKs are wrapped with, once resolved (undefined before first use). */
  get currentKeyId(): string | undefined {
    return this.#resolver.currentKid;
  }

  /**
   * Looks up the latest enabled key version now (e.g. right after `keyClient.rotateKey`), and
   * returns its versioned kid. Concurrent calls share one lookup.
   * @throws {KeyDisabledError} when no version is enabled and valid now (or the pinned one is not).
   * @throws {KeyNotFoundError | KeyAccessDeniedError | KekUnavailableError} from Key Vault.
   * @throws {UnsupportedKeyTypeError} when the key is EC.
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   * @example
   * ```ts
   * await keyClient.rotateKey('kek');
   * const kid = await kek.refresh(); // wraps from now on name the new version
   * ```
   */
  async refresh(options?: KekOperationOptions): Promise<string> {
    return (await this.#resolver.refresh(options?.signal)).kid;
  }

  /**
   * Wraps `dek` under the current key version (resolved at most every `refreshInterval`).
   * RSA: RSA-OAEP-256 in-process, no vault call. oct-HSM: one remote AES-KW `wrapKey`.
   * @throws {TypeError} when `dek` is not a Uint8Array.
   * @throws {RangeError} when `dek` is empty or longer than RSA-OAEP-256 allows for the key.
   * @throws {UnsupportedKeyTypeError} when the key is EC (or has no wrapping key type).
   * @throws {KeyDisabledError | KeyNotFoundError | KeyAccessDeniedError | KekUnavailableError} from Key Vault.
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   * @example
   * ```ts
   * const wrapped = await kek.wrap(dek); // { kekId: 'https://…/keys/kek/<version>', alg: 'RSA-OAEP-256', bytes }
   * ```
   */
  async wrap(dek: Uint8Array, options?: KekOperationOptions): Promise<WrappedKey> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    assertBytes(dek, 'dek');
    if (dek.length === 0) throw new RangeError('dek must not be empty');
    const method = await this.#resolver.current(signal);
    if (method.kind === 'rsa') {
      if (dek.length > method.maxDekBytes) throw new RangeError(`dek must be at most ${method.maxDekBytes} bytes for ${method.kid}`);
      const bytes = publicEncrypt({ key: method.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, asBuffer(dek));
      return { kekId: method.kid, alg: method.alg, bytes: new Uint8Array(bytes) };
    }
    const id = parseKeyId(method.kid) as ParsedKeyId;
    const result = await this.#remote('wrapKey', id, signal, (c, s) => c.wrapKey(method.alg, dek, { abortSignal: s }));
    return { kekId: method.kid, alg: method.alg, bytes: new Uint8Array(result.result) };
  }

  /**
   * Unwraps a DEK through Key Vault, with the exact key version named in `wrapped.kekId`.
   * @throws {KeyNotAllowedError} when the kekId is not an https Key Vault key id on the
   *   allow-list (nothing is sent).
   * @throws {DecryptionFailedError} when the algorithm or length cannot be ours (nothing is
   *   sent), or Key Vault rejects the bytes (400).
   * @throws {KeyDisabledError | KeyNotFoundError | KeyAccessDeniedError | KekUnavailableError} from Key Vault.
   * @throws {UnsupportedKeyTypeError} when the kid's key_ops do not allow unwrapKey (e.g. an EC key).
   * @throws {TypeError} when `wrapped` is not a WrappedKey.
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   * @example
   * ```ts
   * const dek = await kek.unwrap(wrapped);
   * ```
   */
  async unwrap(wrapped: WrappedKey, options?: KekOperationOptions): Promise<Uint8Array> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    if (wrapped === null || typeof wrapped !== 'object') throw new TypeError('wrapped must be a WrappedKey object');
    assertBytes(wrapped.bytes, 'wrapped.bytes');
    const id = parseKeyId(wrapped.kekId);
    if (id === undefined || id.version === undefined) {
      throw new KeyNotAllowedError(String(wrapped.kekId), `not a versioned https Key Vault key id, nothing was sent: ${escapeUntrusted(wrapped.kekId)}`);
    }
    // An attacker-supplied kid must never make us send a token and a ciphertext to their host.
    if (!this.#o.allowList.allows(id)) throw new KeyNotAllowedError(wrapped.kekId);
    const alg = Object.hasOwn(UNWRAP_ALGORITHMS, wrapped.alg) ? UNWRAP_ALGORITHMS[wrapped.alg] : undefined;
    if (alg === undefined || !alg.validLength(wrapped.bytes.length)) {
      throw new DecryptionFailedError();
    }
    const result = await this.#remote('unwrapKey', id, signal, (c, s) => c.unwrapKey(wrapped.alg as 'RSA-OAEP-256', wrapped.bytes, { abortSignal: s }));
    const dek = new Uint8Array(result.result);
    result.result.fill(0);
    return dek;
  }

  /**
   * True when `wrapped.kekId` has the shape of a versioned Key Vault key id, allowed or not, so
   * that `unwrap` can refuse a foreign one with `ERR_KEY_NOT_ALLOWED`. Pure; never throws.
   * @throws {never} never.
   * @example
   * ```ts
   * kek.matches({ kekId: 'https://evil.example/keys/k/1', alg: 'RSA-OAEP-256', bytes }); // true (unwrap refuses it)
   * ```
   */
  matches(wrapped: WrappedKey): boolean {
    const kekId: unknown = wrapped?.kekId;
    if (typeof kekId !== 'string' || kekId.length > 1024 || !URL.canParse(kekId)) return false;
    const url = new URL(kekId);
    return (url.protocol === 'https:' || url.protocol === 'http:') && KEY_ID_PATH.test(url.pathname);
  }

  /**
   * False when `wrapped` names a version of this key other than the one new DEKs are wrapped
   * with now (rotated, or disabled and fallen back from), as far as the last resolution knows;
   * true otherwise (also before the first resolution). When that resolution is older than
   * `refreshInterval`, a background refresh starts (errors swallowed). Never throws, never waits.
   * @throws {never} never.
   * @example
   * ```ts
   * await keyClient.rotateKey('kek'); await kek.refresh();
   * kek.isCurrent(oldWrapped); // false: retire the DEK wrapped under the old version
   * ```
   */
  isCurrent(wrapped: WrappedKey): boolean {
    const kid = this.#resolver.peek();
    return kid === undefined || wrapped?.kekId === kid;
  }

  /**
   * True for AES-KW wrapped keys (oct-HSM): only a holder of the vault key can make a wrap that
   * unwraps. False for RSA-OAEP-256, which anyone with the public key can produce.
   * @throws {never} never.
   * @example `kek.authenticatesWrap(wrapped) // true for an oct-HSM key's A256KW wraps`
   */
  authenticatesWrap(wrapped: WrappedKey): boolean {
    return this.matches(wrapped) && typeof wrapped.alg === 'string' && Object.hasOwn(UNWRAP_ALGORITHMS, wrapped.alg) && UNWRAP_ALGORITHMS[wrapped.alg]!.kind === 'oct';
  }

  /**
   * Signs a DEK record's authenticated fields: one vault `sign` (PS256) by the current version,
   * checked locally against that version's public key before it is returned.
   * @throws {UnsupportedKeyTypeError} for an oct-HSM key.
   * @throws {KeyAccessDeniedError} without the sign permission (Key Vault Crypto Service
   *   Encryption User has none; Crypto User and Crypto Officer do).
   * @throws {KeyDisabledError | KeyNotFoundError | KekUnavailableError} from Key Vault.
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   * @example `const signature = await kek.signRecord(payload); // { kekId: '…/keys/kek/<version>', alg: 'PS256', bytes }`
   */
  async signRecord(payload: Uint8Array, options?: KekOperationOptions): Promise<RecordSignature> {
    options?.signal?.throwIfAborted();
    assertBytes(payload, 'payload');
    return this.#signer.sign(payload, options?.signal);
  }

  /**
   * Verifies a record signature locally with the public key of the version it names. False,
   * without a vault call, when it names another key or an algorithm other than PS256/RS256.
   * A version other than the current one costs one GET the first time.
   * @throws {KeyNotFoundError | KeyAccessDeniedError | KekUnavailableError} when that version's
   *   public key cannot be fetched.
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   * @example `if (await kek.verifyRecord(signature, payload)) adopt(record);`
   */
  async verifyRecord(signature: RecordSignature, payload: Uint8Array, options?: KekOperationOptions): Promise<boolean> {
    options?.signal?.throwIfAborted();
    assertBytes(payload, 'payload');
    return this.#signer.verify(signature, payload, options?.signal);
  }

  async #remote<T>(
    operation: VaultOperation,
    id: ParsedKeyId,
    signal: AbortSignal | undefined,
    op: (client: CryptographyClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const kid = versionedId(id);
    try {
      return await callVault(operation, kid, this.#settings, signal, (s) =>
        this.#clients.run(id, s, (c) =>
          op(c, s).catch((err: unknown) => {
            // Key Vault unwraps with a version past exp / before nbf; the SDK's pre-check does not.
            if (operation !== 'unwrapKey' || !isSdkValidityPrecheck(err)) throw err;
            return op(this.#clients.remoteOnly(id), s);
          }),
        ),
      );
    } catch (err) {
      if (err instanceof EnvelopeError && invalidatesClient(err)) {
        this.#clients.evict(kid);
        if (operation === 'wrapKey') this.#resolver.invalidate();
      }
      throw err;
    }
  }

  /** Public description only (no credential, no key material). */
  toJSON(): { id: string; currentKeyId: string | undefined; allowedKeys: string[] } {
    return { id: this.id, currentKeyId: this.currentKeyId, allowedKeys: this.#o.allowList.entries() };
  }

  toString(): string {
    return `KeyVaultKek(${this.id})`;
  }

  [inspect.custom](_depth: number, opts: InspectOptions): string {
    return `KeyVaultKek ${inspect(this.toJSON(), opts)}`;
  }
}
