/**
 * Azure RBAC for the keys and secrets data planes: the data action each operation requires,
 * and role assignments (built-in or custom roles, ./roles.ts) at vault scope or on one object
 * (a key or a secret), optionally applying only after a propagation delay as in Azure.
 *
 * @module
 */
import { SERVICE_ERRORS } from '../http/service-errors.js';
import { collectionOf, type VaultOperation } from '../service/operation.js';
import { compileRoles, type CompiledRole, type VaultRole } from './roles.js';

export { isVaultRole, VAULT_ROLES, type VaultRole } from './roles.js';

/**
 * A role assignment; `scope` undefined = the whole vault, otherwise one object: `keys/<name>`,
 * `secrets/<name>`, or a bare `<name>` (a key, as before secrets existed).
 */
export interface RoleAssignment {
  principal: string;
  /** A built-in role or the `roleName` of a custom role definition. */
  role: VaultRole | (string & {});
  scope?: string;
  /** When the assignment starts to apply (ms since the epoch, vault clock); absent = at once. */
  appliesFrom?: number;
}

/** The principal of `vault.credential()` without arguments: always Key Vault Administrator. */
export const ADMIN_PRINCIPAL = 'local-vault-admin';

const VAULTS = 'Microsoft.KeyVault/vaults/';

// Certificates (the access-policy-to-RBAC mapping table): reading pending operations and deleted
// certificates is certificates/read; cancelling and deleting an operation and merging are
// update; contacts have a single write action; issuers are certificatecas.
const CERTIFICATE_DATA_ACTIONS = {
  createCertificate: `${VAULTS}certificates/create/action`,
  importCertificate: `${VAULTS}certificates/import/action`,
  getCertificate: `${VAULTS}certificates/read`,
  getCertificates: `${VAULTS}certificates/read`,
  getCertificateVersions: `${VAULTS}certificates/read`,
  updateCertificate: `${VAULTS}certificates/update/action`,
  deleteCertificate: `${VAULTS}certificates/delete`,
  getCertificatePolicy: `${VAULTS}certificates/read`,
  updateCertificatePolicy: `${VAULTS}certificates/update/action`,
  getCertificateOperation: `${VAULTS}certificates/read`,
  updateCertificateOperation: `${VAULTS}certificates/update/action`,
  deleteCertificateOperation: `${VAULTS}certificates/update/action`,
  mergeCertificate: `${VAULTS}certificates/update/action`,
  backupCertificate: `${VAULTS}certificates/backup/action`,
  restoreCertificate: `${VAULTS}certificates/restore/action`,
  getDeletedCertificate: `${VAULTS}certificates/read`,
  getDeletedCertificates: `${VAULTS}certificates/read`,
  recoverDeletedCertificate: `${VAULTS}certificates/recover/action`,
  purgeDeletedCertificate: `${VAULTS}certificates/purge/action`,
  setCertificateContacts: `${VAULTS}certificatecontacts/write`,
  getCertificateContacts: `${VAULTS}certificatecontacts/write`,
  deleteCertificateContacts: `${VAULTS}certificatecontacts/write`,
  setCertificateIssuer: `${VAULTS}certificatecas/write`,
  updateCertificateIssuer: `${VAULTS}certificatecas/write`,
  getCertificateIssuer: `${VAULTS}certificatecas/read`,
  getCertificateIssuers: `${VAULTS}certificatecas/read`,
  deleteCertificateIssuer: `${VAULTS}certificatecas/delete`,
} as const;

// The data action each operation requires (the service's "Azure permissions for Key Vault"
// table): reading a deleted key is keys/read, recover and purge have their own actions, and
// random bytes are a Managed HSM action that no vault role grants.
const DATA_ACTIONS: Record<VaultOperation, string> = {
  createKey: `${VAULTS}keys/create/action`,
  importKey: `${VAULTS}keys/import/action`,
  getKey: `${VAULTS}keys/read`,
  getKeys: `${VAULTS}keys/read`,
  getKeyVersions: `${VAULTS}keys/read`,
  getKeyAttestation: `${VAULTS}keys/read`,
  updateKey: `${VAULTS}keys/update/action`,
  deleteKey: `${VAULTS}keys/delete`,
  rotateKey: `${VAULTS}keys/rotate/action`,
  getKeyRotationPolicy: `${VAULTS}keyrotationpolicies/read`,
  updateKeyRotationPolicy: `${VAULTS}keyrotationpolicies/write`,
  backupKey: `${VAULTS}keys/backup/action`,
  restoreKey: `${VAULTS}keys/restore/action`,
  getDeletedKey: `${VAULTS}keys/read`,
  getDeletedKeys: `${VAULTS}keys/read`,
  recoverDeletedKey: `${VAULTS}keys/recover/action`,
  purgeDeletedKey: `${VAULTS}keys/purge/action`,
  encrypt: `${VAULTS}keys/encrypt/action`,
  decrypt: `${VAULTS}keys/decrypt/action`,
  wrapKey: `${VAULTS}keys/wrap/action`,
  unwrapKey: `${VAULTS}keys/unwrap/action`,
  sign: `${VAULTS}keys/sign/action`,
  verify: `${VAULTS}keys/verify/action`,
  release: `${VAULTS}keys/release/action`,
  getRandomBytes: 'Microsoft.KeyVault/managedHsm/rng/action',
  setSecret: `${VAULTS}secrets/setSecret/action`,
  getSecret: `${VAULTS}secrets/getSecret/action`,
  updateSecret: `${VAULTS}secrets/update/action`,
  getSecrets: `${VAULTS}secrets/readMetadata/action`,
  getSecretVersions: `${VAULTS}secrets/readMetadata/action`,
  deleteSecret: `${VAULTS}secrets/delete`,
  getDeletedSecret: `${VAULTS}secrets/readMetadata/action`,
  getDeletedSecrets: `${VAULTS}secrets/readMetadata/action`,
  recoverDeletedSecret: `${VAULTS}secrets/recover/action`,
  purgeDeletedSecret: `${VAULTS}secrets/purge/action`,
  backupSecret: `${VAULTS}secrets/backup/action`,
  restoreSecret: `${VAULTS}secrets/restore/action`,
  ...CERTIFICATE_DATA_ACTIONS,
};

/** The data action `operation` requires, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`. */
export function dataActionOf(operation: VaultOperation): string {
  return DATA_ACTIONS[operation];
}

/** Options of {@link RoleAssignments}. */
export interface RoleAssignmentsOptions {
  /** The roles assignments may name (built-in and custom), by lower-case name. */
  roles?: ReadonlyMap<string, CompiledRole>;
  /** A new assignment applies this many ms (of the vault's clock) after it was made. */
  propagationMs?: number;
}

const DENIED_RESOURCE = '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/local/providers/microsoft.keyvault/vaults/local-vault';

/** The role assignments of one vault. */
export class RoleAssignments {
  readonly #assignments: RoleAssignment[] = [];
  readonly #roles: ReadonlyMap<string, CompiledRole>;
  readonly #propagationMs: number;

  constructor(options: RoleAssignmentsOptions = {}) {
    this.#roles = options.roles ?? compileRoles();
    this.#propagationMs = options.propagationMs ?? 0;
  }

  /** Whether `role` names a built-in or custom role of this vault (case-insensitively). */
  knows(role: string): boolean {
    return this.#roles.has(role.toLowerCase());
  }

  /**
   * Adds an assignment (idempotent: repeating one keeps its original start). With a
   * propagation delay it applies from `nowMs + delay`.
   */
  assign(assignment: RoleAssignment, nowMs?: number): void {
    const exists = this.#assignments.some(
      (a) => a.principal === assignment.principal && a.role === assignment.role && a.scope === assignment.scope,
    );
    if (exists) return;
    const added: RoleAssignment = { ...assignment };
    if (nowMs !== undefined && this.#propagationMs > 0) added.appliesFrom = nowMs + this.#propagationMs;
    this.#assignments.push(added);
  }

  /** Replaces every assignment (after reloading the state file). */
  replaceAll(assignments: readonly RoleAssignment[]): void {
    this.#assignments.length = 0;
    for (const assignment of assignments) this.#assignments.push({ ...assignment });
  }

  /** A copy of every assignment, for persistence. */
  list(): RoleAssignment[] {
    return this.#assignments.map((a) => ({ ...a }));
  }

  /** Whether any assignment exists (the any-bearer mode then enforces RBAC). */
  configured(): boolean {
    return this.#assignments.length > 0;
  }

  /**
   * Allows `operation` on object `name` ('' for vault-wide operations) for `principal` at
   * `nowMs`, or throws the service's RBAC 403 naming the missing data action. A scoped
   * assignment covers the object it names (in any letter case) and nothing else; an
   * assignment still propagating, or naming a role this vault does not define, grants nothing.
   *
   * @throws {VaultHttpError} 403 Forbidden, inner code `ForbiddenByRbac`.
   */
  check(principal: string, operation: VaultOperation, name: string, nowMs: number = Date.now()): void {
    if (principal === ADMIN_PRINCIPAL) return;
    const action = DATA_ACTIONS[operation];
    const collection = collectionOf(operation);
    const inScope = (scope: string | undefined): boolean => {
      if (scope === undefined) return true;
      const slash = scope.indexOf('/');
      const [scopeCollection, scopeName] = slash < 0 ? ['keys', scope] : [scope.slice(0, slash), scope.slice(slash + 1)];
      // Names compare case-insensitively, as everywhere in the vault.
      return scopeCollection === collection && name !== '' && scopeName.toLowerCase() === name.toLowerCase();
    };
    const allowed = this.#assignments.some(
      (a) =>
        a.principal === principal &&
        (a.appliesFrom === undefined || a.appliesFrom <= nowMs) &&
        inScope(a.scope) &&
        this.#roles.get(a.role.toLowerCase())?.grants(action) === true,
    );
    if (allowed) return;
    throw SERVICE_ERRORS.forbiddenByRbac(principal, action, `${DENIED_RESOURCE}${name ? `/${collection}/${name}` : ''}`);
  }
}
