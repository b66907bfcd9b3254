/**
 * SecretResolver: App Service-style Key Vault references for any Node process, with caching,
 * rotation pickup, expiry events and no value ever in a log.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { TokenCredential } from '@azure/core-auth';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { type KeyVaultRetryOptions, type RetryPolicy, resolveRetryPolicy } from '../azure/internal/retry.js';
import { assertPositiveInt } from '../internal/bytes.js';
import { SecretError } from './errors.js';
import { type FetchedSecret, fetchSecret } from './internal/fetch.js';
import { type ParseReferenceOptions, type SecretReference, isReference, parseReference, secretId } from './reference.js';

/** Options of {@link SecretResolver}. */
export interface SecretResolverOptions extends ParseReferenceOptions {
  /** Any TokenCredential (DefaultAzureCredential, ManagedIdentityCredential, the local vault's). */
  credential: TokenCredential;
  /** Vault URLs (`https://myvault.vault.azure.net`) references may name; others fail before any request. Default: any. */
  allowedVaults?: readonly string[];
  /** How often a versionless reference is re-read, ms (default 5 min, ±10% jitter; the background timer waits at most 24.8 days). */
  refreshInterval?: number;
  /** How long before `expiresOn` a value counts as near expiry (default 30 days, like Event Grid's SecretNearExpiry). */
  nearExpiryWindow?: number;
  /** Passed to every SecretClient (e.g. the local vault's `clientOptions`). */
  clientOptions?: SecretClientOptions;
  retry?: KeyVaultRetryOptions;
  /** Per-read deadline, ms (default 30 s). */
  timeoutMs?: number;
  /** Clock, ms since the epoch (default Date.now): inject to test refresh and expiry. */
  now?: () => number;
}

/** What the resolver's events carry: the secret's identity, never its value. */
export interface SecretEvent {
  readonly secret: string;
  readonly name: string;
  readonly version: string | undefined;
  readonly previousVersion?: string;
  readonly expiresOn?: Date;
  readonly error?: SecretError;
}

interface Entry {
  readonly ref: SecretReference;
  current: FetchedSecret | undefined;
  nextRefreshAt: number;
  inflight: Promise<FetchedSecret> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  notified: Set<string>;
}

/**
 * A Key Vault event in the Event Grid event schema, as Event Grid (or the local vault) delivers
 * it ("Azure Key Vault as Event Grid source"): `data` members are PascalCase on the wire, `NBF`
 * and `EXP` seconds since the epoch. Only `eventType` and `data` are read; the rest is typed so
 * that a whole delivered event can be passed as it is.
 */
export interface KeyVaultEvent {
  readonly id?: string;
  readonly topic?: string;
  readonly subject?: string;
  /** e.g. `Microsoft.KeyVault.SecretNewVersionCreated`, `…SecretNearExpiry`, `…SecretExpired`. */
  readonly eventType: string;
  readonly eventTime?: string;
  readonly data?: {
    /** The versioned object id, `https://{vault}/secrets/{name}/{version}`. */
    readonly Id?: string;
    readonly VaultName?: string;
    readonly ObjectType?: string;
    readonly ObjectName?: string;
    readonly Version?: string;
    readonly NBF?: number | null;
    readonly EXP?: number | null;
  };
  readonly dataVersion?: string;
  readonly metadataVersion?: string;
}

/** Whether `event` (by `data.Id`'s host and port when present, else by `data.VaultName`) names the vault at `vaultUrl`. */
function eventNamesVault(data: NonNullable<KeyVaultEvent['data']>, vaultUrl: string): boolean {
  const vault = new URL(vaultUrl);
  if (typeof data.Id === 'string') {
    try {
      return new URL(data.Id).host.toLowerCase() === vault.host.toLowerCase();
    } catch {
      return false;
    }
  }
  return data.VaultName?.toLowerCase() === vault.hostname.split('.')[0]?.toLowerCase();
}

/**
 * Resolves `@Microsoft.KeyVault(...)` references. Versioned references are read once and cached
 * for good; versionless ones are re-read every `refreshInterval` (and at once when
 * {@link handleEvent} gets a `SecretNewVersionCreated`), so a rotation is picked up within the
 * interval. Concurrent requests for one secret make one call; throttling backs off; a failed
 * refresh keeps serving the last good value (emitting `refreshFailed`) until that value expires.
 *
 * Events: `rotated`, `nearExpiry`, `expired`, `refreshFailed` — each a {@link SecretEvent}.
 *
 * @throws {TypeError | RangeError} from the constructor on invalid options.
 * @example
 * ```ts
 * import { SecretResolver } from 'kv-envelope/secrets';
 * const secrets = new SecretResolver({ credential: new DefaultAzureCredential() });
 * const env = await secrets.resolveEnv(process.env); // every reference replaced by its value
 * secrets.on('rotated', (e) => log.info('secret rotated', e.secret));
 * ```
 */
export class SecretResolver extends EventEmitter {
  readonly #o: Required<Pick<SecretResolverOptions, 'refreshInterval' | 'nearExpiryWindow' | 'timeoutMs' | 'now'>> & SecretResolverOptions;
  readonly #retry: RetryPolicy;
  readonly #allowed: ReadonlySet<string> | undefined;
  readonly #clients = new Map<string, SecretClient>();
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(options: SecretResolverOptions) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    if (options.credential === null || typeof options.credential?.getToken !== 'function') throw new TypeError('options.credential must be a TokenCredential');
    this.#o = { refreshInterval: 5 * 60_000, nearExpiryWindow: 30 * 86_400_000, timeoutMs: 30_000, now: Date.now, ...options };
    assertPositiveInt(this.#o.refreshInterval, 'options.refreshInterval');
    assertPositiveInt(this.#o.nearExpiryWindow, 'options.nearExpiryWindow');
    assertPositiveInt(this.#o.timeoutMs, 'options.timeoutMs');
    this.#retry = resolveRetryPolicy(options.retry);
    this.#allowed = options.allowedVaults === undefined ? undefined : new Set(options.allowedVaults.map(normalizeVault));
    // An 'error' event with no listener would throw: failures are reported as 'refreshFailed'.
  }

  /**
   * The value of `reference` (text or parsed).
   * @throws {SecretError} `ERR_SECRET_REFERENCE`, `ERR_SECRET_VAULT_NOT_ALLOWED` (before any request),
   *   `ERR_SECRET_NOT_FOUND`, `ERR_SECRET_ACCESS_DENIED` (names Key Vault Secrets User),
   *   `ERR_SECRET_DISABLED`, `ERR_SECRET_EXPIRED`, `ERR_SECRET_UNAVAILABLE`.
   */
  async resolve(reference: string | SecretReference, options?: { signal?: AbortSignal }): Promise<string> {
    if (this.#closed) throw new Error('the resolver is closed');
    const ref = typeof reference === 'string' ? parseReference(reference, this.#o) : reference;
    if (this.#allowed !== undefined && !this.#allowed.has(normalizeVault(ref.vaultUrl))) {
      throw new SecretError('ERR_SECRET_VAULT_NOT_ALLOWED', `${secretId(ref)}: the vault is not in allowedVaults; nothing was sent`, { secret: secretId(ref) });
    }
    const entry = this.#entry(ref);
    const now = this.#o.now();
    if (entry.current !== undefined && (ref.version !== undefined || now < entry.nextRefreshAt)) return this.#serve(entry, entry.current);
    try {
      return this.#serve(entry, await this.#refresh(entry, options?.signal));
    } catch (err) {
      options?.signal?.throwIfAborted();
      const last = entry.current;
      // Keep serving the last good value through a failed refresh; once it has expired,
      // #serve answers ERR_SECRET_EXPIRED (emitting `expired`) with the failure as the cause.
      if (last !== undefined && err instanceof SecretError) return this.#serve(entry, last, err);
      throw err;
    }
  }

  /**
   * A copy of `env` with every value that is a Key Vault reference replaced by the secret's value.
   * @throws {SecretError} for the first variable that fails, naming the variable (never its value); `variable` is set.
   */
  async resolveEnv(env: Readonly<Record<string, string | undefined>> = process.env, options?: { signal?: AbortSignal }): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const jobs: Promise<void>[] = [];
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) continue;
      out[k] = v;
      if (!isReference(v)) continue;
      jobs.push(this.resolve(v, options).then(
        (value) => {
          out[k] = value;
        },
        (err: unknown) => {
          if (!(err instanceof SecretError)) throw err;
          throw new SecretError(err.code, `environment variable ${k}: ${err.message}`, { cause: err.cause, ...(err.secret === undefined ? {} : { secret: err.secret }), variable: k });
        },
      ));
    }
    await Promise.all(jobs);
    return out;
  }

  /**
   * Feeds a Key Vault event (Event Grid schema; one or an array): a `SecretNewVersionCreated`
   * for a secret this resolver serves triggers an immediate re-read; near-expiry and expired
   * events are re-emitted for the secrets they name. An event names a secret by `data.Id`'s
   * host (and port) and `data.ObjectName`; without `data.Id`, by `data.VaultName` (the vault
   * host's first label). Events of other types or vaults are ignored.
   */
  handleEvent(event: KeyVaultEvent | readonly KeyVaultEvent[]): void {
    if (this.#closed) return;
    for (const e of Array.isArray(event) ? event : [event as KeyVaultEvent]) {
      const data = e?.data;
      const name = typeof data?.ObjectName === 'string' ? data.ObjectName.toLowerCase() : undefined;
      if (data === undefined || name === undefined) continue;
      for (const entry of this.#entries.values()) {
        if (entry.ref.name.toLowerCase() !== name || !eventNamesVault(data, entry.ref.vaultUrl)) continue;
        if (e.eventType === 'Microsoft.KeyVault.SecretNewVersionCreated' && entry.ref.version === undefined) {
          entry.nextRefreshAt = 0;
          this.#refresh(entry).catch(() => undefined);
        } else if (e.eventType === 'Microsoft.KeyVault.SecretNearExpiry') this.emit('nearExpiry', this.#event(entry, data.Version));
        else if (e.eventType === 'Microsoft.KeyVault.SecretExpired') this.emit('expired', this.#event(entry, data.Version));
      }
    }
  }

  /** Stops every refresh timer and forgets the values; later resolve() calls throw, later events are ignored. */
  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) if (e.timer !== undefined) clearTimeout(e.timer);
    this.#entries.clear();
  }

  /** Names only: never a value. */
  toJSON(): { secrets: string[] } {
    return { secrets: [...this.#entries.keys()] };
  }

  [inspect.custom](): string {
    return `SecretResolver { secrets: ${JSON.stringify(this.toJSON().secrets)} }`;
  }

  #entry(ref: SecretReference): Entry {
    // why: Key Vault names are case-insensitive; `Db` and `db` are one secret, one cache entry, one call.
    const key = secretId(ref).toLowerCase();
    let e = this.#entries.get(key);
    if (e === undefined) {
      e = { ref, current: undefined, nextRefreshAt: 0, inflight: undefined, timer: undefined, notified: new Set() };
      this.#entries.set(key, e);
    }
    return e;
  }

  #client(vaultUrl: string): SecretClient {
    let c = this.#clients.get(vaultUrl);
    if (c === undefined) {
      // Our own bounded retry runs instead of the pipeline's (which skips a 429 without Retry-After).
      c = new SecretClient(vaultUrl, this.#o.credential, { ...this.#o.clientOptions, retryOptions: { maxRetries: 0 } });
      this.#clients.set(vaultUrl, c);
    }
    return c;
  }

  /** Single-flight read; updates the entry, schedules the next refresh, emits rotation and failures. */
  #refresh(entry: Entry, signal?: AbortSignal): Promise<FetchedSecret> {
    entry.inflight ??= fetchSecret(this.#client(entry.ref.vaultUrl), entry.ref, this.#retry, this.#o.timeoutMs).then(
      (fetched) => {
        entry.inflight = undefined;
        const previous = entry.current;
        entry.current = fetched;
        this.#schedule(entry);
        if (previous !== undefined && previous.version !== fetched.version) {
          this.emit('rotated', { ...this.#event(entry, fetched.version), previousVersion: previous.version });
        }
        return fetched;
      },
      (err: unknown) => {
        entry.inflight = undefined;
        this.#schedule(entry);
        if (entry.current !== undefined && err instanceof SecretError) this.emit('refreshFailed', { ...this.#event(entry, entry.current.version), error: err });
        throw err;
      },
    );
    if (signal === undefined) return entry.inflight;
    return Promise.race([entry.inflight, new Promise<never>((_, reject) => {
      signal.throwIfAborted();
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    })]);
  }

  #schedule(entry: Entry): void {
    if (entry.ref.version !== undefined || this.#closed) return;
    const jitter = 1 + (Math.random() * 0.2 - 0.1);
    const delay = Math.round(this.#o.refreshInterval * jitter);
    entry.nextRefreshAt = this.#o.now() + delay;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    // why: setTimeout fires after 1 ms when given more than 2^31-1 ms (24.8 days): a refresh loop.
    entry.timer = setTimeout(() => {
      this.#refresh(entry).catch(() => undefined);
    }, Math.min(delay, MAX_TIMER_MS));
    entry.timer.unref();
  }

  /** Returns the value, emitting nearExpiry / expired once per version as the clock passes them. */
  #serve(entry: Entry, s: FetchedSecret, refreshError?: SecretError): string {
    const now = this.#o.now();
    if (s.expiresOn !== undefined) {
      const exp = s.expiresOn.getTime();
      if (now >= exp) {
        if (!entry.notified.has(`x:${s.version}`)) {
          entry.notified.add(`x:${s.version}`);
          this.emit('expired', this.#event(entry, s.version));
        }
        throw new SecretError('ERR_SECRET_EXPIRED', `${secretId(entry.ref)}: the value expired at ${s.expiresOn.toISOString()} and no newer version could be read`, {
          secret: secretId(entry.ref),
          ...(refreshError === undefined ? {} : { cause: refreshError }),
        });
      }
      if (now >= exp - this.#o.nearExpiryWindow && !entry.notified.has(`n:${s.version}`)) {
        entry.notified.add(`n:${s.version}`);
        this.emit('nearExpiry', this.#event(entry, s.version));
      }
    }
    return s.value;
  }

  #event(entry: Entry, version: string | undefined): SecretEvent {
    const c = entry.current;
    return { secret: secretId(entry.ref), name: entry.ref.name, version, ...(c?.expiresOn === undefined ? {} : { expiresOn: c.expiresOn }) };
  }
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function normalizeVault(url: string): string {
  if (typeof url !== 'string') throw new TypeError('options.allowedVaults must hold vault URLs');
  const u = new URL(url.includes('://') ? url : `https://${url}`);
  // why: the port is part of the vault's identity (a local vault on 127.0.0.1:PORT).
  return `https://${u.host.toLowerCase()}`;
}
