/**
 * Record signatures with a Key Vault key (docs/security.md §Record authentication): sign with
 * the vault's `sign` (PS256) on the exact current version, verify locally with that version's
 * public key. One vault call per new record; verifying costs nothing once the version's public
 * key is cached (one GET the first time, for a version other than the current one).
 *
 * Only versions of the configured key are trusted signers (the unwrap allow-list is about
 * where a DEK may be unwrapped, not about who may vouch for a record). A disabled or deleted
 * version cannot be fetched, so its signatures stop counting: re-wrap renews them.
 *
 * @module
 * @internal
 */
import { createHash, type KeyObject, verify } from 'node:crypto';
import type { CryptographyClient, KeyClient, KeyVaultKey } from '@azure/keyvault-keys';
import { KekUnavailableError, KeyNotFoundError, UnsupportedKeyTypeError } from '../../errors.js';
import { asBuffer } from '../../internal/bytes.js';
import type { RecordSignature } from '../../keys/kek.js';
import { isRsaSignatureAlgorithm, RSA_SIGNATURE_ALGORITHMS } from '../../keys/internal/rsa-signatures.js';
import { wrapMethodFor, type WrapMethod } from './algorithms.js';
import type { VaultOperation } from './errors.js';
import { type ParsedKeyId, parseKeyId, versionedId } from './key-id.js';
import type { VaultCall } from './version-resolver.js';

/** Public keys of versions other than the current one, kept for verification. */
const MAX_PUBLIC_KEYS = 16;

/** What the signer needs from its KeyVaultKek. */
export interface RecordSignerDeps {
  readonly key: ParsedKeyId;
  readonly keyClient: KeyClient;
  readonly call: VaultCall;
  readonly current: (signal: AbortSignal | undefined) => Promise<WrapMethod>;
  readonly remote: <T>(operation: VaultOperation, id: ParsedKeyId, signal: AbortSignal | undefined, op: (c: CryptographyClient, s: AbortSignal) => Promise<T>) => Promise<T>;
}

/** Signs and verifies record payloads with versions of one Key Vault key. */
export class RecordSigner {
  readonly #d: RecordSignerDeps;
  /** Versioned kid → its public key, or null for a version that does not exist (a made-up kid). */
  readonly #publicKeys = new Map<string, KeyObject | null>();

  constructor(deps: RecordSignerDeps) {
    this.#d = deps;
  }

  /**
   * PS256 signature of `payload` by the current version (the vault signs the SHA-256 digest).
   * @throws {UnsupportedKeyTypeError} for an oct-HSM key (its AES-KW wraps authenticate anyway).
   * @throws {KeyAccessDeniedError} without the `keys/sign/action` permission (e.g. Key Vault
   *   Crypto Service Encryption User).
   * @throws {KekUnavailableError} when the vault's signature does not verify.
   */
  async sign(payload: Uint8Array, signal: AbortSignal | undefined): Promise<RecordSignature> {
    const method = await this.#d.current(signal);
    if (method.kind !== 'rsa') throw new UnsupportedKeyTypeError(`${method.kid} is a symmetric key: it authenticates records by its AES-KW wraps and does not sign`);
    const digest = createHash('sha256').update(payload).digest();
    const id = parseKeyId(method.kid) as ParsedKeyId;
    const result = await this.#d.remote('sign', id, signal, (c, s) => c.sign('PS256', digest, { abortSignal: s }));
    const bytes = new Uint8Array(result.result);
    if (!check(method.publicKey, 'PS256', payload, bytes)) {
      throw new KekUnavailableError(`Key Vault returned a signature by ${method.kid} that does not verify under its public key`);
    }
    return { kekId: method.kid, alg: 'PS256', bytes };
  }

  /**
   * True when `signature` is by a version of the configured key and verifies. False, without
   * any vault call, for another key's signature or an unsupported algorithm.
   * @throws {EnvelopeError} when the version's public key cannot be fetched (disabled, deleted,
   *   denied, unreachable).
   */
  async verify(signature: RecordSignature, payload: Uint8Array, signal: AbortSignal | undefined): Promise<boolean> {
    const id = parseKeyId(signature?.kekId);
    const key = this.#d.key;
    if (id?.version === undefined || id.origin !== key.origin || id.name.toLowerCase() !== key.name.toLowerCase()) return false;
    if (!isRsaSignatureAlgorithm(signature.alg) || !(signature.bytes instanceof Uint8Array)) return false;
    if (key.version !== undefined && id.version !== key.version) return false;
    const publicKey = await this.#publicKey(id, signal);
    return publicKey !== undefined && check(publicKey, signature.alg, payload, signature.bytes);
  }

  async #publicKey(id: ParsedKeyId, signal: AbortSignal | undefined): Promise<KeyObject | undefined> {
    const kid = versionedId(id);
    const current = await this.#d.current(signal);
    if (current.kid === kid) return current.kind === 'rsa' ? current.publicKey : undefined;
    const cached = this.#publicKeys.get(kid);
    if (cached !== undefined) return cached ?? undefined;
    let fetched: KeyVaultKey;
    try {
      fetched = await this.#d.call('getKey', kid, signal, (s) => this.#d.keyClient.getKey(id.name, { version: id.version, abortSignal: s }));
    } catch (err) {
      // Signature kids come from the store: a version that does not exist vouches for nothing, and
      // costs one GET, not one per adoption attempt.
      if (!(err instanceof KeyNotFoundError)) throw err;
      this.#remember(kid, null);
      return undefined;
    }
    if (fetched.properties.enabled === false) return undefined; // a disabled version vouches for nothing
    const method = wrapMethodFor(fetched, kid, 'A256KW');
    const publicKey = method.kind === 'rsa' ? method.publicKey : null;
    this.#remember(kid, publicKey);
    return publicKey ?? undefined;
  }

  #remember(kid: string, publicKey: KeyObject | null): void {
    if (this.#publicKeys.size >= MAX_PUBLIC_KEYS) this.#publicKeys.delete(this.#publicKeys.keys().next().value as string);
    this.#publicKeys.set(kid, publicKey);
  }
}

function check(publicKey: KeyObject, alg: 'PS256' | 'RS256', payload: Uint8Array, signature: Uint8Array): boolean {
  const { padding, saltLength } = RSA_SIGNATURE_ALGORITHMS[alg];
  return verify('sha256', asBuffer(payload), { key: publicKey, padding, saltLength }, asBuffer(signature));
}
