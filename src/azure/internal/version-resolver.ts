/**
 * Which key version new DEKs are wrapped with, resolved explicitly (never a versionless client)
 * and kept for `refreshInterval`.
 *
 * Latest mode (versionless key configured): `getKey(name)` gives the latest version. When that
 * version may not wrap now (disabled, nbf in the future, expired, key_ops without wrapKey) we do
 * not fail: `listPropertiesOfKeyVersions` finds the newest version (by `createdOn`) that is
 * enabled and valid now, and that one is used. Reason: disabling a freshly rotated version is how
 * operators roll a bad rotation back, and encryption should keep working on the previous one.
 * Only when no version qualifies is `KeyDisabledError` thrown.
 * Pinned mode (versioned key id configured): that version or `KeyDisabledError`.
 *
 * Resolution is single-flight and runs without any caller's signal (callers race their own).
 * When a periodic refresh fails with `ERR_KEK_UNAVAILABLE`, the previous resolution keeps
 * serving and the refresh is retried after `STALE_RETRY_MS`; authoritative failures (disabled,
 * deleted, access denied, EC) are thrown.
 *
 * @module
 * @internal
 */
import type { KeyClient, KeyProperties, KeyVaultKey } from '@azure/keyvault-keys';
import { KekUnavailableError, KeyDisabledError } from '../../errors.js';
import { raceAbort } from '../../internal/abort.js';
import { type OctWrapAlgorithm, type WrapMethod, assertWrappingKeyType, unusableReason, wrapMethodFor } from './algorithms.js';
import type { VaultOperation } from './errors.js';
import { type ParsedKeyId, versionedId, versionlessId } from './key-id.js';

/** Runs one vault operation with deadline, retries and error mapping (callVault, bound). */
export type VaultCall = <T>(operation: VaultOperation, kid: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** What the resolver needs. */
export interface ResolverSettings {
  readonly key: ParsedKeyId;
  readonly keyClient: KeyClient;
  readonly call: VaultCall;
  readonly octAlgorithm: OctWrapAlgorithm;
  readonly refreshIntervalMs: number;
  readonly now: () => number;
}

/** How soon a failed periodic refresh is tried again while the stale version keeps serving. */
const STALE_RETRY_MS = 30_000;
/** Fallback candidates fetched before giving up (each costs one GET). */
const MAX_FALLBACK_CANDIDATES = 3;

/** Resolves and caches the wrap method of the current key version. */
export class VersionResolver {
  readonly #s: ResolverSettings;
  #current: WrapMethod | undefined;
  #nextRefreshAt = 0;
  #inflight: Promise<WrapMethod> | undefined;
  #inflightForced = false;

  constructor(settings: ResolverSettings) {
    this.#s = settings;
  }

  /** The last resolved versioned kid, if any. */
  get currentKid(): string | undefined {
    return this.#current?.kid;
  }

  /** The wrap method to use now: cached, or resolved (joining a resolution in flight). */
  async current(signal: AbortSignal | undefined): Promise<WrapMethod> {
    const cached = this.#current;
    if (cached !== undefined && this.#s.now() < this.#nextRefreshAt) return cached;
    try {
      return await raceAbort(this.#start(false), signal);
    } catch (err) {
      signal?.throwIfAborted();
      const stale = this.#current;
      if (stale !== undefined && (err as { code?: unknown }).code === 'ERR_KEK_UNAVAILABLE') {
        this.#nextRefreshAt = Math.max(this.#nextRefreshAt, this.#s.now() + Math.min(STALE_RETRY_MS, this.#s.refreshIntervalMs));
        return stale;
      }
      throw err;
    }
  }

  /**
   * The last resolved kid without waiting; when it is older than the refresh interval, a
   * background resolution starts (its failure is swallowed: `current()` reports it later).
   */
  peek(): string | undefined {
    if (this.#s.now() >= this.#nextRefreshAt && this.#inflight === undefined) {
      this.#start(false).catch(() => {
        // Not once per call while the vault is down: wait as a failed periodic refresh does.
        this.#nextRefreshAt = Math.max(this.#nextRefreshAt, this.#s.now() + Math.min(STALE_RETRY_MS, this.#s.refreshIntervalMs));
      });
    }
    return this.#current?.kid;
  }

  /** Resolves now, whatever the cache holds (joins only another forced resolution). */
  refresh(signal: AbortSignal | undefined): Promise<WrapMethod> {
    return raceAbort(this.#start(true), signal);
  }

  /** Makes the next `current()` resolve again (e.g. the vault said the version is disabled). */
  invalidate(): void {
    this.#nextRefreshAt = 0;
  }

  #start(forced: boolean): Promise<WrapMethod> {
    if (this.#inflight !== undefined && (!forced || this.#inflightForced)) return this.#inflight;
    const p = this.#resolve().then(
      (method) => {
        if (this.#inflight === p) {
          this.#current = method;
          this.#nextRefreshAt = this.#s.now() + this.#s.refreshIntervalMs;
        }
        return method;
      },
    );
    p.finally(() => {
      if (this.#inflight === p) this.#inflight = undefined;
    }).catch(() => undefined);
    this.#inflight = p;
    this.#inflightForced = forced;
    return p;
  }

  async #resolve(): Promise<WrapMethod> {
    const { key, keyClient, call } = this.#s;
    const versionless = versionlessId(key);
    if (key.version !== undefined) {
      const kid = versionedId(key);
      const pinned = await call('getKey', kid, undefined, (s) => keyClient.getKey(key.name, { version: key.version, abortSignal: s }));
      return this.#methodOf(pinned, true);
    }
    let latest: KeyVaultKey | undefined;
    try {
      latest = await call('getKey', versionless, undefined, (s) => keyClient.getKey(key.name, { abortSignal: s }));
    } catch (err) {
      // A vault may refuse to return a disabled latest version: look for an older one.
      if (!(err instanceof KeyDisabledError)) throw err;
    }
    if (latest !== undefined) {
      assertWrappingKeyType(latest);
      if (unusableReason(latest, this.#s.now()) === undefined) return this.#methodOf(latest, true);
    }
    const versions = await call('listKeyVersions', versionless, undefined, async (s) => {
      const out: KeyProperties[] = [];
      for await (const p of keyClient.listPropertiesOfKeyVersions(key.name, { abortSignal: s })) out.push(p);
      return out;
    });
    const now = this.#s.now();
    const candidates = versions
      .filter((p) => p.version !== undefined && p.version !== latest?.properties.version && unusableReason({ properties: p }, now) === undefined)
      .sort((a, b) => (b.createdOn?.getTime() ?? 0) - (a.createdOn?.getTime() ?? 0))
      .slice(0, MAX_FALLBACK_CANDIDATES);
    for (const p of candidates) {
      const kid = versionedId(key, p.version);
      const k = await call('getKey', kid, undefined, (s) => keyClient.getKey(key.name, { version: p.version, abortSignal: s }));
      const method = this.#methodOf(k, false);
      if (method !== undefined) return method;
    }
    throw new KeyDisabledError(`${versionless} has no version that is enabled, currently valid and allows wrapKey`);
  }

  #methodOf(k: KeyVaultKey, mustUse: true): WrapMethod;
  #methodOf(k: KeyVaultKey, mustUse: false): WrapMethod | undefined;
  #methodOf(k: KeyVaultKey, mustUse: boolean): WrapMethod | undefined {
    const version = k.properties.version;
    if (version === undefined) throw new KekUnavailableError(`Key Vault returned ${versionlessId(this.#s.key)} without a version`);
    const kid = versionedId(this.#s.key, version);
    assertWrappingKeyType(k);
    const reason = unusableReason(k, this.#s.now());
    if (reason === undefined) return wrapMethodFor(k, kid, this.#s.octAlgorithm);
    if (mustUse) throw new KeyDisabledError(`${kid} ${reason}`);
    return undefined;
  }
}
