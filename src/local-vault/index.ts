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
 * Where it knowingly differs from the service:
 * - `oct-HSM` keys (AES-KW, AES-GCM, AES-CBC[PAD]) exist in this vault; in Azure only Managed HSM
 *   has them. Plain `oct` is refused. Secure key release and key attestation answer 400.
 * - Rotation policies run when a request touches the key (listing keys touches all), against the
 *   injected clock, on a 1-second timer and on `vault.events.processDue()`, not on a service
 *   timer. Missed rotations are caught up, each version created at the time it was due. Notify
 *   actions publish KeyNearExpiry. Rotated versions keep the previous tags.
 * - Events (Event Grid schema, docs/events.md) go to in-process listeners and webhooks of this
 *   vault, in order, with bounded retries and no dead-lettering; no CloudEvents schema, no
 *   VaultAccessPolicyChanged.
 * - Backups restore only into a vault with the same secret (the same vault, or one started from
 *   the same state file), not into any vault of the subscription.
 * - Throttling (opt-in) uses fixed 10-second windows of the injected clock, per key class
 *   (RSA size, EC, HSM), without the service's cost weighting or subscription-wide limit.
 * - Tokens are HS256 JWTs the vault signs itself (one hour of real time); no CAE, no PoP.
 * - RBAC covers ten built-in Key Vault roles (Administrator, Crypto Officer / User / Service
 *   Encryption User / Service Release User, Secrets Officer / User, Certificates Officer,
 *   Certificate User, Reader) with their published data actions; scopes are the vault or one
 *   object (`keys/<name>`, `secrets/<name>`, `certificates/<name>`); no
 *   custom roles, notDataActions or propagation delay. getRandomBytes needs a Managed HSM action that
 *   no vault role grants: only `vault.credential()` (the built-in admin principal) gets it.
 * - Certificates: issuers `Self` and `Unknown` (merge a certificate signed elsewhere); a named
 *   CA issuer is stored but its certificates fail (there is no CA). `Self` completes at once,
 *   and cancelling an operation takes effect at once (status `cancelled`). AutoRenew runs when
 *   a request touches the certificate, its key or its secret, against the injected clock;
 *   EmailContacts sends nothing. P-256K certificate keys are refused (pkijs). The
 *   secret of a non-exportable certificate holds the chain without the key (as documented).
 *   PFX imports read OpenSSL 3's default encryption, not `-legacy` RC2/3DES. The inner codes
 *   `KeyManagedByKeyVault`, `PendingCertificateNotFound`, `CertificateAuthorityUnavailable`
 *   and the 400 messages of policy validation are this vault's own.
 * - The 400 for a secret value over 25,600 bytes and the 404 wording of `SecretNotFound` are
 *   this vault's own.
 * - Messages of input-validation 400 errors and the inner codes `KeyNotYetValid` / `KeyExpired`
 *   are this vault's own; the texts callers match on (404s, 409s of soft delete, `KeyDisabled`,
 *   `Throttled`, the challenge, the malformed backup, an unknown api-version, ...) follow the
 *   service, from one table (http/service-errors.ts).
 * - Delete, recover and purge stay in progress for `operationDelayMs` (default 1 s; Azure: 1–5
 *   s, not configurable). Version lists are in version-id order (Azure: undocumented).
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
export type { LocalKeyVaultOptions } from './options.js';
export { VAULT_ROLES, type VaultRole } from './auth/rbac.js';
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
