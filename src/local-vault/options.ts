/**
 * Options of `LocalKeyVault.start()`, their defaults and validation.
 *
 * @module
 */
import { isIP } from 'node:net';
import { compileRoles, type CompiledRole, type RoleDefinition } from './auth/roles.js';

/** The vault flavours: Key Vault's two SKUs and Managed HSM (what each may hold: ./flavour.ts). */
export const VAULT_FLAVOURS = ['standard', 'premium', 'managed-hsm'] as const;

/** One vault flavour. */
export type VaultFlavour = (typeof VAULT_FLAVOURS)[number];

/** How bearer tokens are checked: see {@link LocalKeyVaultOptions.auth}. */
export type VaultAuthMode = 'strict' | 'any-bearer';

/** Options of {@link LocalKeyVault.start}. Every member is optional. */
export interface LocalKeyVaultOptions {
  /**
   * `'in-process'` (default): a custom `httpClient`, no port, no certificate.
   * `'https'`: a `node:https` server on 127.0.0.1 with a generated self-signed certificate.
   */
  transport?: 'in-process' | 'https';
  /**
   * HTTPS port; default: with `stateFile`, the port this vault listened on last time (key ids
   * name it, so envelopes made before a restart still decrypt after it), else a free port
   * chosen by the OS. 0 always asks the OS.
   */
  port?: number;
  /**
   * The host name clients use. In-process default `local.vault.azure.net`; HTTPS default
   * `127.0.0.1`. For HTTPS it is added to the certificate's SANs and must resolve to 127.0.0.1.
   */
  host?: string;
  /**
   * Persist keys, roles and secrets in this file (mode 0600) so they survive restarts. Any
   * number of vaults in any number of processes may share one file: each write is a locked
   * transaction on the freshest state, and each request first loads other processes' writes.
   */
  stateFile?: string;
  /** Milliseconds since the epoch; drives nbf/exp, rotation policies, soft-delete purge, throttle windows. */
  clock?: () => number;
  /** Soft-delete retention, 7..90 days (default 90). */
  softDeleteRetentionDays?: number;
  /** Refuse purging soft-deleted keys before their scheduled purge date (default false). */
  purgeProtection?: boolean;
  /**
   * Apply the service's per-10-second transaction limits, weighted by key type and size, and
   * answer 429 with `Retry-After` (default false).
   */
  throttle?: boolean;
  /**
   * What the vault is (default `'premium'`): `'standard'` refuses `-HSM` key types;
   * `'premium'` has them; `'managed-hsm'` adds `oct-HSM` keys, the AES algorithms and `/rng`,
   * which the other two refuse like the service. With `'managed-hsm'` the in-process host is
   * `local.managedhsm.azure.net` and tokens are for `https://managedhsm.azure.net`. A vault
   * with a `stateFile` records its flavour there: a later start without this option keeps it.
   */
  flavour?: VaultFlavour;
  /**
   * `'strict'` (default): only tokens this vault signed (`vault.credential()`).
   * `'any-bearer'`: any well-formed bearer token (JWT or opaque, as lowkey-vault does), so that
   * other languages' SDKs and tools can use their own credentials; the principal is the
   * token's `oid` (else `sub`, else `any-bearer`), and every data action is allowed until a
   * role is assigned, after which RBAC applies to every principal (unassigned ones get 403).
   */
  auth?: VaultAuthMode;
  /**
   * Custom role definitions in Azure's JSON shape,
   * `{ roleName, permissions: [{ dataActions, notDataActions }] }`, assignable by name like the
   * built-in roles.
   */
  roleDefinitions?: readonly (RoleDefinition | Record<string, unknown>)[];
  /**
   * A new role assignment applies only this many milliseconds (of the vault's clock) after it
   * was made, as Azure's take up to ~10 minutes to propagate (default 0: at once).
   */
  roleAssignmentDelayMs?: number;
  /** Where events say they come from, and how often due events are looked for (docs/events.md). */
  events?: LocalVaultEventOptions;
  /**
   * How long a delete, recover or purge stays in progress, in milliseconds (default 1000; 0
   * completes them at once). Azure takes a few seconds: meanwhile the name answers 409
   * `ObjectIsBeingDeleted` / `ObjectIsBeingRecovered`, the deleted (or recovered) object is a
   * 404, and purge-then-recreate fails. The default is below the SDK pollers' 2-second interval,
   * so `beginDeleteKey` / `beginRecoverDeletedKey` see one "still in progress" poll and complete
   * on the next, as against the service. The operation completes when the delay has passed on
   * the vault clock or on the real clock, whichever comes first: a frozen test clock never
   * blocks a poller, and advancing a test clock completes the operation at once.
   */
  operationDelayMs?: number;
}

/** Options of the vault's events (`LocalKeyVaultOptions.events`). */
export interface LocalVaultEventOptions {
  /** `data.VaultName` and the topic's vault: default the host's first label (`local` for an IP address). */
  vaultName?: string;
  /** The topic's subscription id (default `00000000-0000-0000-0000-000000000000`). */
  subscriptionId?: string;
  /** The topic's resource group (default `local`). */
  resourceGroup?: string;
  /** How often (real time, ms) the vault looks for due expiry events and rotations; 0 = only on requests and `events.processDue()` (default 1000). */
  scanIntervalMs?: number;
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  transport: 'in-process' | 'https';
  /** Undefined when not given (a persisted vault then reuses its recorded port). */
  port: number | undefined;
  host: string | undefined;
  stateFile: string | undefined;
  clock: () => number;
  softDeleteRetentionDays: number;
  purgeProtection: boolean;
  throttle: boolean;
  /** Undefined when not given (a persisted vault then keeps its recorded flavour, else premium). */
  flavour: VaultFlavour | undefined;
  auth: VaultAuthMode;
  /** Built-in and custom roles, by lower-case name. */
  roles: ReadonlyMap<string, CompiledRole>;
  roleAssignmentDelayMs: number;
  events: Required<Omit<LocalVaultEventOptions, 'vaultName'>> & { vaultName: string | undefined };
  operationDelayMs: number;
}

const EVENT_NAME = /^[0-9A-Za-z][0-9A-Za-z._()-]{0,89}$/;

function eventOptions(options: LocalVaultEventOptions | undefined): ResolvedOptions['events'] {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new TypeError('options.events must be an object');
  const { vaultName, subscriptionId = '00000000-0000-0000-0000-000000000000', resourceGroup = 'local', scanIntervalMs = 1000 } = options ?? {};
  for (const [name, value] of Object.entries({ vaultName, subscriptionId, resourceGroup })) {
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new TypeError(`options.events.${name} must be a string, got ${typeof value}`);
    if (!EVENT_NAME.test(value)) throw new RangeError(`options.events.${name} must be 1-90 letters, digits or ._()- (a resource name), got ${value}`);
  }
  if (!Number.isInteger(scanIntervalMs) || scanIntervalMs < 0) throw new RangeError(`options.events.scanIntervalMs must be an integer ≥ 0, got ${scanIntervalMs}`);
  return { vaultName, subscriptionId, resourceGroup, scanIntervalMs };
}

/** Default of {@link LocalKeyVaultOptions.operationDelayMs}. */
export const DEFAULT_OPERATION_DELAY_MS = 1000;
// A minute is far beyond the service's few seconds; more would only hang callers' pollers.
const MAX_OPERATION_DELAY_MS = 60_000;

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean, got ${typeof value}`);
  return value;
}

/**
 * Validates `options` and applies defaults.
 *
 * @throws {TypeError} for a member of the wrong type, an unknown flavour or auth mode, or an
 *   invalid role definition.
 * @throws {RangeError} for a port outside 0..65535, a retention outside 7..90 days, an
 *   operation delay outside 0..60000 ms, a negative assignment delay, or a host that is neither
 *   a DNS name nor an IP address.
 */
export function resolveOptions(options: LocalKeyVaultOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const transport = options.transport ?? 'in-process';
  if (transport !== 'in-process' && transport !== 'https') {
    throw new TypeError(`options.transport must be 'in-process' or 'https', got ${String(transport)}`);
  }
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new RangeError(`options.port must be an integer in 0..65535, got ${port}`);
  const host = options.host;
  if (host !== undefined && (typeof host !== 'string' || (!HOST_NAME.test(host) && isIP(host) === 0))) {
    throw new RangeError(`options.host must be a DNS name or an IP address, got ${String(host)}`);
  }
  if (options.stateFile !== undefined && (typeof options.stateFile !== 'string' || options.stateFile === '')) {
    throw new TypeError('options.stateFile must be a non-empty string');
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new TypeError('options.clock must be a function');
  const retention = options.softDeleteRetentionDays ?? 90;
  if (!Number.isInteger(retention) || retention < 7 || retention > 90) {
    throw new RangeError(`options.softDeleteRetentionDays must be an integer in 7..90, got ${retention}`);
  }
  const delay = options.operationDelayMs ?? DEFAULT_OPERATION_DELAY_MS;
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_OPERATION_DELAY_MS) {
    throw new RangeError(`options.operationDelayMs must be an integer in 0..${MAX_OPERATION_DELAY_MS}, got ${delay}`);
  }
  const flavour = options.flavour;
  if (flavour !== undefined && !(VAULT_FLAVOURS as readonly unknown[]).includes(flavour)) {
    throw new TypeError(`options.flavour must be one of ${VAULT_FLAVOURS.join(', ')}, got ${String(flavour)}`);
  }
  const auth = options.auth ?? 'strict';
  if (auth !== 'strict' && auth !== 'any-bearer') throw new TypeError(`options.auth must be 'strict' or 'any-bearer', got ${String(auth)}`);
  if (options.roleDefinitions !== undefined && !Array.isArray(options.roleDefinitions)) throw new TypeError('options.roleDefinitions must be an array');
  const assignmentDelay = options.roleAssignmentDelayMs ?? 0;
  if (!Number.isSafeInteger(assignmentDelay) || assignmentDelay < 0) {
    throw new RangeError(`options.roleAssignmentDelayMs must be a non-negative integer, got ${assignmentDelay}`);
  }
  return {
    transport,
    port,
    host,
    stateFile: options.stateFile,
    clock: options.clock ?? Date.now,
    softDeleteRetentionDays: retention,
    purgeProtection: optionalBoolean(options.purgeProtection, 'purgeProtection', false),
    throttle: optionalBoolean(options.throttle, 'throttle', false),
    events: eventOptions(options.events),
    operationDelayMs: delay,
    flavour,
    auth,
    roles: compileRoles(options.roleDefinitions),
    roleAssignmentDelayMs: assignmentDelay,
  };
}

/** `host` as it appears in a URL authority (IPv6 in brackets). */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
