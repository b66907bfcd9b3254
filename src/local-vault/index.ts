/**
 * `kv-envelope/local-vault`: a local Azure Key Vault (keys, secrets and certificates data
 * planes, and Key Vault's Event Grid events) for development and tests. The real
 * `@azure/keyvault-keys`, `@azure/keyvault-secrets` and `@azure/keyvault-certificates` clients
 * run against it unmodified, in-process or over HTTPS: challenge auth, versions, rotation and
 * rotation policies, soft delete, key_ops and attribute enforcement, RBAC roles,
 * case-insensitive names, service-shaped errors, call counting and fault injection. Keys,
 * secrets and certificates share one machinery (versions, soft delete, backup, paging, RBAC,
 * events) through an object-type table; a certificate's key and secret are a managed key and
 * secret of its name.
 *
 * Options: flavours (`standard`, `premium`, `managed-hsm`), auth modes (`strict`,
 * `any-bearer`), custom RBAC roles with notDataActions and a propagation delay, weighted
 * throttling, and time travel (`vault.advanceTime('P30D')`, `POST /admin/clock`). Every option
 * and every place where it knowingly differs from the service is in docs/local-vault.md
 * ("Deviations in one place"): emulator-only inner codes such as `KeyExpired`, rotation timing,
 * backup portability, the in-progress window of delete / recover / purge (`operationDelayMs`),
 * version order, Managed HSM's RBAC and limits, events (docs/events.md), and the rest. The texts
 * callers match on come from one table (http/service-errors.ts).
 *
 * @example
 * ```ts
 * import { KeyClient } from '@azure/keyvault-keys';
 * import { LocalKeyVault } from 'kv-envelope/local-vault';
 *
 * const vault = await LocalKeyVault.start({ transport: 'https' });
 * const client = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
 * await client.createRsaKey('kek', { keySize: 3072 });
 * await vault.close();
 * ```
 *
 * @module
 */
export { LocalKeyVault, type LocalVaultClientOptions } from './local-key-vault.js';
export { VAULT_FLAVOURS, type LocalKeyVaultOptions, type VaultAuthMode, type VaultFlavour } from './options.js';
export { VAULT_ROLES, type RoleDefinition, type RolePermission, type VaultRole } from './auth/roles.js';
export type { ClockReading } from './http/admin.js';
export { VAULT_OPERATIONS, type VaultOperation } from './service/operation.js';
export type { Fault, FaultFilter, VaultFaults } from './faults.js';
export type { VaultStats } from './stats.js';
export type { VaultEvents, KeyVaultEventListener, SubscribeOptions } from './events/vault-events.js';
export { EVENT_KINDS, type KeyVaultEvent, type KeyVaultEventData, type KeyVaultEventKind, type KeyVaultEventType } from './events/schema.js';
export {
  DEFAULT_RETRY_DELAYS_MS,
  WebhookDeliveryError,
  type WebhookSubscription,
  WebhookValidationError,
  type WebhookOptions,
} from './events/webhook.js';
export type { LocalVaultEventOptions } from './options.js';
