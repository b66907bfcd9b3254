/**
 * One Key Vault `sign` of a digest with an exact key version, over KeyVaultKek's machinery
 * (src/azure/internal): the CryptographyClient of the VERSIONED kid from the shared KeyClient
 * pipeline (a cold client GETs its key once; concurrent cold calls share that GET), our bounded
 * retry under one deadline, and the mapping of failures to typed errors.
 *
 * - The SDK refuses a version outside its nbf..exp by the REAL clock before sending anything;
 *   Key Vault enforces the same window itself, so such a refusal is retried on a remote-only
 *   client and the service decides (same as KeyVaultKek's unwrap).
 * - After "disabled", "not found", "denied" or "unsupported", the client of the kid is dropped:
 *   the SDK would keep the key it fetched forever.
 * - The returned signature is checked by the caller (length, and verification under the
 *   published public key): `SignResult.keyID` is only the id we passed in (reference jwt.md §2).
 *
 * @module
 * @internal
 */
import { CertificateClient, type CertificateClientOptions } from '@azure/keyvault-certificates';
import type { KeyClientOptions } from '@azure/keyvault-keys';
import { type CallSettings, callVault } from '../../azure/internal/call.js';
import { invalidatesClient, isSdkValidityPrecheck, type VaultOperation } from '../../azure/internal/errors.js';
import { type ParsedKeyId, versionedId } from '../../azure/internal/key-id.js';
import { type TokenCredential, VaultClients } from '../../azure/internal/vault-clients.js';
import { EnvelopeError } from '../../errors.js';
import type { JwsAlgorithm } from '../internal/algorithms.js';
import type { VaultCall } from '../rotation/key-ring.js';

/** CryptographyClients kept (one per key version that signed recently). */
const MAX_CRYPTO_CLIENTS = 8;

/** Signs digests with versions of one key. */
export class VaultSigner {
  readonly #clients: VaultClients;
  readonly #settings: CallSettings;
  readonly #credential: TokenCredential;
  readonly #options: KeyClientOptions;

  constructor(credential: TokenCredential, clientOptions: KeyClientOptions, settings: CallSettings) {
    this.#clients = new VaultClients(credential, clientOptions, MAX_CRYPTO_CLIENTS);
    this.#settings = settings;
    this.#credential = credential;
    this.#options = clientOptions;
  }

  /** A CertificateClient of the vault (its own pipeline), for reading a certificate's versions. */
  certificateClient(origin: string): CertificateClient {
    // The keys and certificates clients share every option but the service-version union.
    const { serviceVersion: _ignored, ...common } = this.#options;
    return new CertificateClient(origin, this.#credential, common as CertificateClientOptions);
  }

  /** The KeyClient of the vault (shared pipeline), for reading versions. */
  keyClient(origin: string): ReturnType<VaultClients['keyClient']> {
    return this.#clients.keyClient(origin);
  }

  /** {@link callVault} bound to our settings. */
  readonly call: VaultCall = <T>(operation: VaultOperation, kid: string, signal: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>) =>
    callVault(operation, kid, this.#settings, signal, fn);

  /**
   * Key Vault's signature of `digest` by version `id` (must be versioned) with `alg`.
   * @throws {KeyDisabledError | KeyNotFoundError | KeyAccessDeniedError | UnsupportedKeyTypeError | KekUnavailableError}
   * @throws {unknown} `signal.reason` when the signal aborts.
   */
  async sign(id: ParsedKeyId, alg: JwsAlgorithm, digest: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const kid = versionedId(id);
    try {
      const result = await this.call('sign', kid, signal, (s) =>
        this.#clients.run(id, s, (c) =>
          c.sign(alg, digest, { abortSignal: s }).catch((err: unknown) => {
            if (!isSdkValidityPrecheck(err)) throw err;
            return this.#clients.remoteOnly(id).sign(alg, digest, { abortSignal: s });
          }),
        ),
      );
      return result.result;
    } catch (err) {
      if (err instanceof EnvelopeError && invalidatesClient(err)) this.#clients.evict(kid);
      throw err;
    }
  }
}
