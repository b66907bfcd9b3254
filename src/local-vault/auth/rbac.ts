/**
 * Azure RBAC for the keys data plane: the five built-in Key Vault roles, their data actions, and
 * role assignments at vault scope or on one key.
 *
 * @module
 */
import { forbidden } from '../http/errors.js';
import type { VaultOperation } from '../service/operation.js';

/** The built-in roles the local vault knows. */
export const VAULT_ROLES = [
  'Key Vault Administrator',
  'Key Vault Crypto Officer',
  'Key Vault Crypto User',
  'Key Vault Crypto Service Encryption User',
  'Key Vault Reader',
] as const;

/** One built-in role name. */
export type VaultRole = (typeof VAULT_ROLES)[number];

/** A role assignment; `scope` undefined = the whole vault, otherwise one key name. */
export interface RoleAssignment {
  principal: string;
  role: VaultRole;
  scope?: string;
}

/** The principal of `vault.credential()` without arguments: always Key Vault Administrator. */
export const ADMIN_PRINCIPAL = 'local-vault-admin';

// Data action (under Microsoft.KeyVault/vaults/) each operation requires.
const DATA_ACTIONS: Record<VaultOperation, string> = {
  createKey: 'keys/create/action',
  importKey: 'keys/import/action',
  getKey: 'keys/read',
  getKeys: 'keys/read',
  getKeyVersions: 'keys/read',
  getKeyAttestation: 'keys/read',
  updateKey: 'keys/update/action',
  deleteKey: 'keys/delete',
  rotateKey: 'keys/rotate/action',
  getKeyRotationPolicy: 'keyrotationpolicies/read',
  updateKeyRotationPolicy: 'keyrotationpolicies/write',
  backupKey: 'keys/backup/action',
  restoreKey: 'keys/restore/action',
  getDeletedKey: 'deletedkeys/read',
  getDeletedKeys: 'deletedkeys/read',
  recoverDeletedKey: 'deletedkeys/recover/action',
  purgeDeletedKey: 'deletedkeys/delete',
  encrypt: 'keys/encrypt/action',
  decrypt: 'keys/decrypt/action',
  wrapKey: 'keys/wrap/action',
  unwrapKey: 'keys/unwrap/action',
  sign: 'keys/sign/action',
  verify: 'keys/verify/action',
  release: 'keys/release/action',
  getRandomBytes: 'rng/action',
};

const CRYPTO = ['keys/encrypt/action', 'keys/decrypt/action', 'keys/wrap/action', 'keys/unwrap/action', 'keys/sign/action', 'keys/verify/action'];

// Built-in role definitions (dataActions), reduced to the keys data plane.
const ROLE_ACTIONS: Record<VaultRole, ReadonlySet<string> | 'all'> = {
  'Key Vault Administrator': 'all',
  'Key Vault Crypto Officer': new Set(Object.values(DATA_ACTIONS)),
  'Key Vault Crypto User': new Set(['keys/read', 'keys/update/action', 'keys/backup/action', 'rng/action', ...CRYPTO]),
  'Key Vault Crypto Service Encryption User': new Set(['keys/read', 'keys/wrap/action', 'keys/unwrap/action']),
  'Key Vault Reader': new Set(['keys/read', 'keyrotationpolicies/read', 'deletedkeys/read']),
};

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
   * Allows `operation` on key `keyName` ('' for vault-wide operations) for `principal`, or
   * throws the service's RBAC 403.
   *
   * @throws {VaultHttpError} 403 Forbidden, inner code `ForbiddenByRbac`.
   */
  check(principal: string, operation: VaultOperation, keyName: string): void {
    if (principal === ADMIN_PRINCIPAL) return;
    const action = DATA_ACTIONS[operation];
    const allowed = this.#assignments.some((a) => {
      if (a.principal !== principal || (a.scope !== undefined && a.scope !== keyName)) return false;
      const actions = ROLE_ACTIONS[a.role];
      return actions === 'all' || actions.has(action);
    });
    if (allowed) return;
    const resource = keyName ? `/keys/${keyName}` : '/';
    throw forbidden(
      [
        'Caller is not authorized to perform action on resource.',
        'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
        `Caller: oid=${principal}`,
        `Action: 'Microsoft.KeyVault/vaults/${action}'`,
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
