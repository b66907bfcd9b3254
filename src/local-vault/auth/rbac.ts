/**
 * Azure RBAC for the keys and secrets data planes: the built-in Key Vault roles with their real
 * `dataActions` (wildcards included, as the role definitions write them), the data action each
 * operation requires, and role assignments at vault scope or on one object (a key or a secret).
 *
 * @module
 */
import { forbidden } from '../http/errors.js';
import { collectionOf, type VaultOperation } from '../service/operation.js';

/** The built-in roles the local vault knows. */
export const VAULT_ROLES = [
  'Key Vault Administrator',
  'Key Vault Crypto Officer',
  'Key Vault Crypto User',
  'Key Vault Crypto Service Encryption User',
  'Key Vault Crypto Service Release User',
  'Key Vault Secrets Officer',
  'Key Vault Secrets User',
  'Key Vault Certificates Officer',
  'Key Vault Certificate User',
  'Key Vault Reader',
] as const;

/** One built-in role name. */
export type VaultRole = (typeof VAULT_ROLES)[number];

/**
 * A role assignment; `scope` undefined = the whole vault, otherwise one object: `keys/<name>`,
 * `secrets/<name>`, or a bare `<name>` (a key, as before secrets existed).
 */
export interface RoleAssignment {
  principal: string;
  role: VaultRole;
  scope?: string;
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

const CRYPTO = ['encrypt', 'decrypt', 'wrap', 'unwrap', 'sign', 'verify'].map((op) => `${VAULTS}keys/${op}/action`);

// The built-in role definitions' dataActions, as published (wildcards included).
const ROLE_DATA_ACTIONS: Record<VaultRole, readonly string[]> = {
  'Key Vault Administrator': [`${VAULTS}*`],
  'Key Vault Crypto Officer': [`${VAULTS}keys/*`, `${VAULTS}keyrotationpolicies/*`],
  'Key Vault Crypto User': [`${VAULTS}keys/read`, `${VAULTS}keys/update/action`, `${VAULTS}keys/backup/action`, ...CRYPTO],
  'Key Vault Crypto Service Encryption User': [`${VAULTS}keys/read`, `${VAULTS}keys/wrap/action`, `${VAULTS}keys/unwrap/action`],
  'Key Vault Crypto Service Release User': [`${VAULTS}keys/release/action`],
  'Key Vault Secrets Officer': [`${VAULTS}secrets/*`],
  'Key Vault Secrets User': [`${VAULTS}secrets/getSecret/action`, `${VAULTS}secrets/readMetadata/action`],
  'Key Vault Certificates Officer': [`${VAULTS}certificatecas/*`, `${VAULTS}certificates/*`, `${VAULTS}certificatecontacts/write`],
  'Key Vault Certificate User': [
    `${VAULTS}certificates/read`,
    `${VAULTS}secrets/getSecret/action`,
    `${VAULTS}secrets/readMetadata/action`,
    `${VAULTS}keys/read`,
  ],
  'Key Vault Reader': [`${VAULTS}*/read`, `${VAULTS}secrets/readMetadata/action`],
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Azure matches actions case-insensitively; '*' matches any run of characters, '/' included.
const ROLE_PATTERNS: Record<VaultRole, readonly RegExp[]> = Object.fromEntries(
  Object.entries(ROLE_DATA_ACTIONS).map(([role, actions]) => [
    role,
    actions.map((action) => new RegExp(`^${action.split('*').map(escapeRegExp).join('.*')}$`, 'i')),
  ]),
) as unknown as Record<VaultRole, readonly RegExp[]>;

/** The data action `operation` requires, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`. */
export function dataActionOf(operation: VaultOperation): string {
  return DATA_ACTIONS[operation];
}

/** Whether the built-in `role` grants `action`. */
export function roleGrants(role: VaultRole, action: string): boolean {
  return ROLE_PATTERNS[role].some((pattern) => pattern.test(action));
}

/** Type guard for the role names in {@link VAULT_ROLES}. */
export function isVaultRole(value: unknown): value is VaultRole {
  return typeof value === 'string' && (VAULT_ROLES as readonly string[]).includes(value);
}

/** The role assignments of one vault. */
export class RoleAssignments {
  readonly #assignments: RoleAssignment[] = [];

  /** Adds an assignment (idempotent). */
  assign(assignment: RoleAssignment): void {
    const exists = this.#assignments.some(
      (a) => a.principal === assignment.principal && a.role === assignment.role && a.scope === assignment.scope,
    );
    if (!exists) this.#assignments.push({ ...assignment });
  }

  /** Replaces every assignment (after reloading the state file). */
  replaceAll(assignments: readonly RoleAssignment[]): void {
    this.#assignments.length = 0;
    for (const assignment of assignments) this.assign(assignment);
  }

  /** A copy of every assignment, for persistence. */
  list(): RoleAssignment[] {
    return this.#assignments.map((a) => ({ ...a }));
  }

  /**
   * Allows `operation` on object `name` ('' for vault-wide operations) for `principal`, or
   * throws the service's RBAC 403 naming the missing data action. A scoped assignment covers
   * the object it names (in any letter case) and nothing else.
   *
   * @throws {VaultHttpError} 403 Forbidden, inner code `ForbiddenByRbac`.
   */
  check(principal: string, operation: VaultOperation, name: string): void {
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
    const allowed = this.#assignments.some((a) => a.principal === principal && inScope(a.scope) && roleGrants(a.role, action));
    if (allowed) return;
    const resource = name ? `/${collection}/${name}` : '/';
    throw forbidden(
      [
        'Caller is not authorized to perform action on resource.',
        'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
        `Caller: oid=${principal}`,
        `Action: '${action}'`,
        `Resource: '${resource}'`,
        'Assignment: (not found)',
        'DenyAssignmentId: null',
        'DecisionReason: null',
        'Vault: local-vault;location=local',
      ].join('\r\n'),
      'ForbiddenByRbac',
    );
  }
}
