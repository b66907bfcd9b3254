/**
 * The Azure clients a KeyVaultKek talks through: one `KeyClient` per vault origin (one pipeline,
 * so one 401 challenge and one token per vault), and a small LRU of `CryptographyClient`s, one
 * per VERSIONED kid, all made by `keyClient.getCryptographyClient(name, { keyVersion })` so they
 * share that pipeline. Never a versionless client: it would report the first version it fetched
 * as `keyID` after a rotation (reference §4).
 *
 * Kids come from ciphertexts, so an attacker chooses them. A new kid's client starts on
 * probation (a small LRU of its own) and joins the main LRU only once an operation on it has
 * succeeded. Made-up versions (each a GET that fails) churn the probation list only, so they can
 * never evict a warm client that legitimate traffic uses (issue 8 §4).
 *
 * @module
 * @internal
 */
import { CryptographyClient, KeyClient, type KeyClientOptions, type KeyVaultKey } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/core-auth';
import { raceAbort } from '../../internal/abort.js';
import { type ParsedKeyId, versionedId } from './key-id.js';

/** The credential type the Azure clients take (a named import, so the published .d.ts resolve it). */
export type { TokenCredential };

interface CryptoEntry {
  readonly kid: string;
  readonly client: CryptographyClient;
  /** Set once the SDK's client-side nbf/exp check refused an operation the service allows. */
  remoteOnly: CryptographyClient | undefined;
  /** True once an operation succeeded: the client has fetched (or given up on) its key. */
  warm: boolean;
  /** The first operation in flight, which also GETs the key. */
  warming: Promise<unknown> | undefined;
}

const noop = (): void => undefined;

/** Clients of kids not yet seen to work (made-up versions end here and go first). */
const PROBATION_CLIENTS = 8;

/** Puts `entry` last in `lru` (most recent) and drops the oldest beyond `max`. */
function touch(lru: Map<string, CryptoEntry>, entry: CryptoEntry, max: number): void {
  lru.delete(entry.kid);
  lru.set(entry.kid, entry);
  if (lru.size > max) {
    const oldest = lru.keys().next().value;
    if (oldest !== undefined) lru.delete(oldest);
  }
}

/** Owns the KeyClients and the CryptographyClient LRU. */
export class VaultClients {
  readonly #credential: TokenCredential;
  readonly #options: KeyClientOptions;
  readonly #maxCryptoClients: number;
  readonly #keyClients = new Map<string, KeyClient>();
  /** Clients that have succeeded once. Map order is LRU order: a hit is re-inserted at the end. */
  readonly #crypto = new Map<string, CryptoEntry>();
  /** Clients of kids that have not succeeded yet (same LRU order). */
  readonly #probation = new Map<string, CryptoEntry>();

  constructor(credential: TokenCredential, options: KeyClientOptions, maxCryptoClients: number) {
    this.#credential = credential;
    this.#options = options;
    this.#maxCryptoClients = maxCryptoClients;
  }

  /** The KeyClient of the vault at `origin`, made on first use. */
  keyClient(origin: string): KeyClient {
    let client = this.#keyClients.get(origin);
    if (client === undefined) {
      client = new KeyClient(origin, this.#credential, this.#options);
      this.#keyClients.set(origin, client);
    }
    return client;
  }

  /** Number of cached CryptographyClients (warm and on probation). */
  get cryptoClientCount(): number {
    return this.#crypto.size + this.#probation.size;
  }

  /**
   * Runs one attempt of `op` on the CryptographyClient of the versioned `id`. A new client
   * GETs its key on its first operation and the SDK does not share that fetch between
   * concurrent operations, so until one operation has succeeded, operations on a cold client
   * go one at a time: N concurrent cold unwraps under one kid cost 1 GET, not N.
   */
  async run<T>(id: ParsedKeyId, signal: AbortSignal, op: (client: CryptographyClient) => Promise<T>): Promise<T> {
    const entry = this.#entry(id);
    for (;;) {
      signal.throwIfAborted();
      if (entry.warm || entry.remoteOnly !== undefined) {
        const result = op(entry.remoteOnly ?? entry.client);
        if (!entry.warm) result.then(() => this.#promote(entry), noop);
        return result;
      }
      if (entry.warming === undefined) {
        const first = op(entry.client);
        entry.warming = first;
        first.then(
          () => {
            entry.warm = true;
            entry.warming = undefined;
            this.#promote(entry);
          },
          () => {
            entry.warming = undefined;
          },
        );
        return first;
      }
      await raceAbort(entry.warming.then(noop, noop), signal);
    }
  }

  /**
   * A client for `id` that never fetches the key, so every operation goes to the service and
   * only the service's checks apply. Needed for unwrapping with a version past its `exp` (or
   * before its `nbf`): Key Vault allows unwrapKey/decrypt/verify outside that window, but the
   * SDK's client-side `ensureValid` refuses every operation with the attributes it fetched.
   * Built from a stub `KeyVaultKey` (id only, no key material, no key_ops), which the SDK
   * accepts without a GET. It has its own pipeline (one extra 401 challenge): the shared
   * pipeline of `getCryptographyClient` always fetches. Kept for the kid from then on.
   */
  remoteOnly(id: ParsedKeyId): CryptographyClient {
    const entry = this.#entry(id);
    if (entry.remoteOnly === undefined) {
      const kid = versionedId(id);
      const stub: KeyVaultKey = { id: kid, name: id.name, properties: { id: kid, name: id.name, vaultUrl: id.origin, version: id.version } };
      entry.remoteOnly = new CryptographyClient(stub, this.#credential, this.#options);
    }
    return entry.remoteOnly;
  }

  /** Drops the client of `kid` (after "disabled", "not found", "denied": the SDK never refetches). */
  evict(kid: string): void {
    this.#crypto.delete(kid);
    this.#probation.delete(kid);
  }

  #entry(id: ParsedKeyId): CryptoEntry {
    const kid = versionedId(id);
    const entry = this.#crypto.get(kid) ?? this.#probation.get(kid);
    if (entry !== undefined) {
      if (this.#crypto.get(kid) === entry) touch(this.#crypto, entry, this.#maxCryptoClients);
      else touch(this.#probation, entry, Math.min(PROBATION_CLIENTS, this.#maxCryptoClients));
      return entry;
    }
    const client = this.keyClient(id.origin).getCryptographyClient(id.name, { keyVersion: id.version });
    const fresh: CryptoEntry = { kid, client, remoteOnly: undefined, warm: false, warming: undefined };
    touch(this.#probation, fresh, Math.min(PROBATION_CLIENTS, this.#maxCryptoClients));
    return fresh;
  }

  /** After a first success: out of probation, into the main LRU (even if probation dropped it). */
  #promote(entry: CryptoEntry): void {
    if (this.#probation.get(entry.kid) === entry) this.#probation.delete(entry.kid);
    touch(this.#crypto, entry, this.#maxCryptoClients);
  }
}
