/**
 * `LocalKeyVault`: the local Key Vault (keys and secrets data planes) that the real, unmodified
 * `KeyClient` and `CryptographyClient` from `@azure/keyvault-keys` and `SecretClient` from
 * `@azure/keyvault-secrets` talk to, in-process or over HTTPS.
 *
 * @module
 */
import { isIP } from 'node:net';
import type { TokenCredential } from '@azure/core-auth';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { MANAGED_HSM_RESOURCE, VAULT_RESOURCE, vaultCredential } from './auth/tokens.js';
import { ADMIN_PRINCIPAL, type RoleAssignments, type VaultRole } from './auth/rbac.js';
import { VaultEvents } from './events/vault-events.js';
import { VaultFaults } from './faults.js';
import { advanceClock, readClock, type ClockReading } from './http/admin.js';
import { VaultHandler } from './http/handler.js';
import { resolveOptions, urlHost, type LocalKeyVaultOptions, type ResolvedOptions } from './options.js';
import type { VaultSecrets } from './secrets.js';
import { VaultService } from './service/vault-service.js';
import { openVaultState } from './persistence/vault-home.js';
import { VaultStats } from './stats.js';
import type { HttpsServerHandle } from './transport/https-server.js';
import { listenPersisted, tlsIdentity } from './transport/persisted-server.js';
import { inProcessHttpClient } from './transport/in-process.js';

/**
 * Options to pass to `new KeyClient(url, credential, options)` and
 * `new CryptographyClient(kid, credential, options)`: a custom `httpClient` (in-process) or the
 * certificate to trust (`tlsOptions.ca`, https), plus `disableChallengeResourceVerification`
 * because a local host is never a subdomain of `vault.azure.net`.
 */
export interface LocalVaultClientOptions {
  httpClient?: HttpClient;
  tlsOptions?: { ca: string };
  disableChallengeResourceVerification: true;
}

/** Events' `VaultName` by default: the host's first label (`local` for an IP address). */
function defaultVaultName(url: string): string {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? 'local' : (host.split('.')[0] ?? 'local');
}

const SCOPE = /^(?:(?:keys|secrets|certificates)\/)?[0-9a-zA-Z-]{1,127}$/;

/**
 * A local Key Vault. Start one with {@link LocalKeyVault.start}, point the real Azure clients
 * at `vault.url` with `vault.credential()` and `vault.clientOptions`, and close it when done.
 *
 * @example
 * ```ts
 * import { KeyClient } from '@azure/keyvault-keys';
 * import { LocalKeyVault } from 'kv-envelope/local-vault';
 *
 * const vault = await LocalKeyVault.start();
 * const client = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
 * const kek = await client.createRsaKey('kek', { keySize: 3072 });
 * console.log(vault.stats.byOperation.createKey); // 1
 * await vault.close();
 * ```
 */
export class LocalKeyVault {
  /** The vault URL: `https://local.vault.azure.net` in-process, `https://127.0.0.1:PORT` over https. */
  readonly url: string;
  /** Client options that make the unmodified Azure clients work against this vault. */
  readonly clientOptions: LocalVaultClientOptions;
  /**
   * The resource the vault's challenge names and its tokens are for: `https://vault.azure.net`,
   * or `https://managedhsm.azure.net` for the `managed-hsm` flavour.
   */
  readonly resource: string;
  /** The self-signed certificate (PEM) of the https transport; `undefined` in-process. */
  readonly caPem: string | undefined;
  /** Call counters. */
  readonly stats: VaultStats;
  /** Fault injection. */
  readonly faults: VaultFaults;
  /** Events in the Event Grid schema: `subscribe`, `addWebhook`, `processDue` (docs/events.md). */
  readonly events: VaultEvents;
  readonly #service: VaultService;
  readonly #roles: RoleAssignments;
  readonly #secrets: VaultSecrets;
  readonly #server: HttpsServerHandle | undefined;
  readonly #persisted: boolean;
  #open = true;
  #persistError: unknown;

  private constructor(init: {
    url: string;
    resource: string;
    clientOptions: LocalVaultClientOptions;
    caPem: string | undefined;
    stats: VaultStats;
    faults: VaultFaults;
    service: VaultService;
    roles: RoleAssignments;
    secrets: VaultSecrets;
    server: HttpsServerHandle | undefined;
    persisted: boolean;
    opts: ResolvedOptions;
  }) {
    this.url = init.url;
    this.resource = init.resource;
    this.clientOptions = init.clientOptions;
    this.caPem = init.caPem;
    this.stats = init.stats;
    this.faults = init.faults;
    this.#service = init.service;
    this.#roles = init.roles;
    this.#secrets = init.secrets;
    this.#server = init.server;
    this.#persisted = init.persisted;
    const { vaultName, subscriptionId, resourceGroup, scanIntervalMs } = init.opts.events;
    const source = { vaultUrl: init.url, vaultName: vaultName ?? defaultVaultName(init.url), subscriptionId, resourceGroup };
    // The vault's clock, time travel included.
    this.events = new VaultEvents(init.service, source, () => init.service.state.nowMs(), scanIntervalMs);
  }

  /**
   * Starts a vault. With `stateFile`, keys, role assignments and the vault secret are loaded
   * from it (created when absent); every change is a transaction on that file under its lock,
   * and every request first loads what other vaults on the same file wrote, so any number of
   * processes can share it without losing a write.
   *
   * @throws {TypeError | RangeError} for invalid options.
   * @throws {Error} when the state file is corrupt or cannot be created, or the https port
   *   cannot be bound (for a persisted vault's recorded port, saying so).
   */
  static async start(options?: LocalKeyVaultOptions): Promise<LocalKeyVault> {
    const opts = resolveOptions(options);
    const opened = await openVaultState(opts);
    const { state, roles, secrets, durable } = opened;
    const service = new VaultService({ state, secrets, throttle: opts.throttle, sync: durable });
    const stats = new VaultStats();
    const faults = new VaultFaults();
    const hsm = state.settings.flavour === 'managed-hsm';
    const resource = hsm ? MANAGED_HSM_RESOURCE : VAULT_RESOURCE;
    let origin = '';
    const handler = new VaultHandler({ service, secrets, roles, faults, stats, origin: () => origin, authMode: opts.auth, resource });
    const init = { stats, faults, service, roles, secrets, resource, persisted: durable !== undefined, opts };
    if (opts.transport === 'https') {
      const tls = await tlsIdentity(opts, opened);
      const server = await listenPersisted(handler, tls, opts, opened);
      const url = `https://${urlHost(opts.host ?? '127.0.0.1')}:${server.port}`;
      origin = url;
      const clientOptions: LocalVaultClientOptions = { tlsOptions: { ca: tls.certPem }, disableChallengeResourceVerification: true };
      return new LocalKeyVault({ ...init, url, clientOptions, caPem: tls.certPem, server });
    }
    origin = `https://${urlHost(opts.host ?? (hsm ? 'local.managedhsm.azure.net' : 'local.vault.azure.net'))}`;
    let vault: LocalKeyVault | undefined;
    const httpClient = inProcessHttpClient(handler, () => (vault ? vault.#open : true));
    vault = new LocalKeyVault({
      ...init,
      url: origin,
      clientOptions: { httpClient, disableChallengeResourceVerification: true },
      caPem: undefined,
      server: undefined,
    });
    return vault;
  }

  /**
   * A `TokenCredential` whose tokens this vault signed. Without `principal`: the built-in
   * administrator (always Key Vault Administrator). Any other principal can do nothing until
   * {@link LocalKeyVault.assignRole} gives it a role.
   *
   * @throws {TypeError} when `principal` is not a non-empty string.
   */
  credential(principal: string = ADMIN_PRINCIPAL): TokenCredential {
    if (typeof principal !== 'string' || principal === '') throw new TypeError('principal must be a non-empty string');
    return vaultCredential(this.#secrets, principal);
  }

  /**
   * Assigns a role to `principal`, on the whole vault or (with `scope`) on one object:
   * `'keys/<name>'`, `'secrets/<name>'`, `'certificates/<name>'`, or a bare key name. `role` is a built-in role or the
   * `roleName` of one of `options.roleDefinitions`. With `options.roleAssignmentDelayMs` the
   * assignment applies only once that much of the vault's clock has passed.
   *
   * @throws {TypeError} for an empty principal or a role this vault does not define.
   * @throws {RangeError} for a scope that is not an object name, optionally prefixed by `keys/`, `secrets/` or `certificates/`.
   */
  assignRole(principal: string, role: VaultRole | (string & {}), scope?: string): void {
    if (typeof principal !== 'string' || principal === '') throw new TypeError('principal must be a non-empty string');
    if (typeof role !== 'string' || !this.#roles.knows(role)) {
      throw new TypeError(`role must be a built-in Key Vault role or one of options.roleDefinitions, got ${String(role)}`);
    }
    if (scope !== undefined && (typeof scope !== 'string' || !SCOPE.test(scope))) {
      throw new RangeError(`scope must be [keys/|secrets/|certificates/]<name> (1-127 characters of 0-9, a-z, A-Z, '-'), got ${String(scope)}`);
    }
    const assignment = scope === undefined ? { principal, role } : { principal, role, scope };
    if (!this.#persisted) {
      this.#roles.assign(assignment, this.#service.state.nowMs());
      return;
    }
    // Queued before any later request, which therefore sees it; written under the state lock.
    this.#service
      .mutate(() => {
        this.#roles.assign(assignment, this.#service.state.nowMs());
        this.#service.state.markChanged();
      })
      .catch((error: unknown) => {
        this.#persistError ??= error;
      });
  }

  /**
   * Time travel: moves the vault's clock forward by an ISO 8601 `duration` (`'P30D'`,
   * `'PT1H'`, `'P1Y2M'`), then runs what the service runs on its timers: due rotations of
   * rotation policies and the purge of soft-deleted objects past retention. The offset is
   * persisted with a `stateFile`, so a restart (and every process on the file) keeps it. The
   * same as `POST /admin/clock {"advance": duration}` and `kv-envelope vault time advance`.
   *
   * @throws {VaultHttpError} (400) when `duration` is not an ISO 8601 duration.
   * @example
   * ```ts
   * const vault = await LocalKeyVault.start();
   * const { now } = await vault.advanceTime('P30D');
   * await vault.close();
   * ```
   */
  advanceTime(duration: string): Promise<ClockReading> {
    return advanceClock(this.#service, duration);
  }

  /** The vault's clock (the injected clock plus any time travel). */
  readClock(): Promise<ClockReading> {
    return readClock(this.#service);
  }

  /**
   * Stops the vault: the https server closes its connections; in-process clients get
   * `ECONNREFUSED`. Waits for pending state-file writes. Idempotent.
   *
   * @throws {Error} when a background state-file write (after `assignRole`) failed.
   */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.events.close();
    await this.#server?.close();
    await this.#service.idle();
    if (this.#persistError !== undefined) throw this.#persistError;
  }
}
