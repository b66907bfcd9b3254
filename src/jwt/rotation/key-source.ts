/**
 * The versions of a Key Vault key, for the key ring: `listPropertiesOfKeyVersions` (or one
 * `getKey` of a pinned version) and `getKey` per version for its public key.
 *
 * @module
 * @internal
 */
import type { KeyClient, KeyProperties, KeyVaultKey } from '@azure/keyvault-keys';
import { type ParsedKeyId, versionedId, versionlessId } from '../../azure/internal/key-id.js';
import { KekUnavailableError } from '../../errors.js';
import { materialFromVault, type PublicKeyMaterial } from '../jwks/jwk.js';
import type { VaultCall, VersionSource } from './key-ring.js';
import type { VersionTimes } from './schedule.js';

/** A key's times as the schedule reads them. */
export function keyTimes(p: Pick<KeyProperties, 'version' | 'createdOn' | 'enabled' | 'notBefore' | 'expiresOn'>, now: number, what: string): VersionTimes {
  if (p.version === undefined || p.version === '') throw new KekUnavailableError(`Key Vault returned a version of ${what} without a version id`);
  return {
    version: p.version,
    created: p.createdOn?.getTime() ?? now,
    enabled: p.enabled !== false,
    ...(p.notBefore === undefined ? {} : { notBefore: p.notBefore.getTime() }),
    ...(p.expiresOn === undefined ? {} : { expiresOn: p.expiresOn.getTime() }),
  };
}

/** The versions of one key (every version, or the pinned one). */
export class KeySource implements VersionSource {
  readonly #key: ParsedKeyId;
  readonly #client: KeyClient;
  readonly #call: VaultCall;
  /** The pinned version's key, from the last `list`. */
  #pinned: KeyVaultKey | undefined;

  constructor(key: ParsedKeyId, client: KeyClient, call: VaultCall) {
    this.#key = key;
    this.#client = client;
    this.#call = call;
  }

  async list(now: number): Promise<VersionTimes[]> {
    const key = this.#key;
    if (key.version !== undefined) {
      const k = await this.#call('getKey', versionedId(key), undefined, (s) => this.#client.getKey(key.name, { version: key.version, abortSignal: s }));
      this.#pinned = k;
      return [keyTimes({ ...k.properties, version: key.version }, now, versionlessId(key))];
    }
    const listed = await this.#call('listKeyVersions', versionlessId(key), undefined, async (s) => {
      const out: KeyProperties[] = [];
      for await (const p of this.#client.listPropertiesOfKeyVersions(key.name, { abortSignal: s })) out.push(p);
      return out;
    });
    return listed.filter((p) => typeof p.version === 'string' && p.version !== '').map((p) => keyTimes(p, now, versionlessId(key)));
  }

  kid(version: string): string {
    return versionedId(this.#key, version);
  }

  async material(version: string): Promise<PublicKeyMaterial> {
    const kid = this.kid(version);
    const k = this.#key.version === version && this.#pinned !== undefined
      ? this.#pinned
      : await this.#call('getKey', kid, undefined, (s) => this.#client.getKey(this.#key.name, { version, abortSignal: s }));
    return materialFromVault(k.key, kid);
  }
}
