/**
 * Role definitions: the built-in Key Vault roles with their published `dataActions` and
 * `notDataActions` (from the role definitions Azure serves; none of the Key Vault roles has a
 * notDataAction today, so they are all empty), and custom roles given in the Azure
 * role-definition shape. A definition grants an action when one of its permission blocks
 * matches it in `dataActions` and not in `notDataActions`; matching is case-insensitive and
 * `*` stands for any run of characters, `/` included, as in Azure.
 *
 * @module
 */

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
  'Key Vault Data Access Administrator',
] as const;

/** One built-in role name. */
export type VaultRole = (typeof VAULT_ROLES)[number];

/** One permission block of a role definition (control-plane `actions` are ignored). */
export interface RolePermission {
  dataActions?: readonly string[];
  notDataActions?: readonly string[];
}

/**
 * A role definition in Azure's shape: `{ roleName, permissions: [{ dataActions, notDataActions }] }`,
 * as `az role definition list` prints it under `properties` (that wrapper is accepted too).
 */
export interface RoleDefinition {
  roleName: string;
  permissions: readonly RolePermission[];
}

const V = 'Microsoft.KeyVault/vaults/';
const CRYPTO = ['encrypt', 'decrypt', 'wrap', 'unwrap', 'sign', 'verify'].map((op) => `${V}keys/${op}/action`);

// The built-in role definitions' dataActions as published (wildcards included). Data Access
// Administrator manages role assignments (control plane): it has no data action.
const BUILT_IN: Record<VaultRole, readonly string[]> = {
  'Key Vault Administrator': [`${V}*`],
  'Key Vault Crypto Officer': [`${V}keys/*`, `${V}keyrotationpolicies/*`],
  'Key Vault Crypto User': [`${V}keys/read`, `${V}keys/update/action`, `${V}keys/backup/action`, ...CRYPTO],
  'Key Vault Crypto Service Encryption User': [`${V}keys/read`, `${V}keys/wrap/action`, `${V}keys/unwrap/action`],
  'Key Vault Crypto Service Release User': [`${V}keys/release/action`],
  'Key Vault Secrets Officer': [`${V}secrets/*`],
  'Key Vault Secrets User': [`${V}secrets/getSecret/action`, `${V}secrets/readMetadata/action`],
  'Key Vault Certificates Officer': [`${V}certificatecas/*`, `${V}certificates/*`, `${V}certificatecontacts/write`],
  'Key Vault Certificate User': [`${V}certificates/read`, `${V}secrets/getSecret/action`, `${V}secrets/readMetadata/action`, `${V}keys/read`],
  'Key Vault Reader': [`${V}*/read`, `${V}secrets/readMetadata/action`],
  'Key Vault Data Access Administrator': [],
};

/** The built-in definitions, in the shape of a custom one. */
export const BUILT_IN_ROLE_DEFINITIONS: readonly RoleDefinition[] = VAULT_ROLES.map((roleName) => ({
  roleName,
  permissions: [{ dataActions: BUILT_IN[roleName], notDataActions: [] }],
}));

/** Type guard for the role names in {@link VAULT_ROLES}. */
export function isVaultRole(value: unknown): value is VaultRole {
  return typeof value === 'string' && (VAULT_ROLES as readonly string[]).includes(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function patternOf(action: string): RegExp {
  return new RegExp(`^${action.split('*').map(escapeRegExp).join('.*')}$`, 'i');
}

/** A role definition compiled for matching. */
export class CompiledRole {
  readonly name: string;
  readonly #blocks: readonly { allow: readonly RegExp[]; deny: readonly RegExp[] }[];

  constructor(definition: RoleDefinition) {
    this.name = definition.roleName;
    this.#blocks = definition.permissions.map((p) => ({
      allow: (p.dataActions ?? []).map(patternOf),
      deny: (p.notDataActions ?? []).map(patternOf),
    }));
  }

  /** Whether this role grants `action`: a block allows it and does not exclude it. */
  grants(action: string): boolean {
    return this.#blocks.some((b) => b.allow.some((re) => re.test(action)) && !b.deny.some((re) => re.test(action)));
  }
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((a) => typeof a === 'string' && a !== '')) {
    throw new TypeError(`${where} must be an array of non-empty strings`);
  }
  return value as string[];
}

/**
 * Validates one custom role definition given as JSON (Azure's shape, optionally wrapped in
 * `properties`; `az role definition create`'s `{ Name, DataActions, NotDataActions }` too).
 *
 * @throws {TypeError} when it has no role name or its permissions are not string arrays.
 */
export function parseRoleDefinition(value: unknown, where = 'role definition'): RoleDefinition {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${where} must be an object`);
  const raw = value as Record<string, unknown>;
  const props = raw.properties !== null && typeof raw.properties === 'object' ? (raw.properties as Record<string, unknown>) : raw;
  const roleName = props.roleName ?? props.Name ?? props.name;
  if (typeof roleName !== 'string' || roleName.trim() === '') throw new TypeError(`${where} needs a roleName`);
  let blocks: unknown = props.permissions;
  if (blocks === undefined && (props.DataActions !== undefined || props.NotDataActions !== undefined)) {
    blocks = [{ dataActions: props.DataActions, notDataActions: props.NotDataActions }];
  }
  if (!Array.isArray(blocks)) throw new TypeError(`${where} (${roleName}) needs a permissions array`);
  const permissions = blocks.map((block: unknown, i): RolePermission => {
    if (block === null || typeof block !== 'object') throw new TypeError(`${where} (${roleName}) permissions[${i}] must be an object`);
    const b = block as Record<string, unknown>;
    return {
      dataActions: stringList(b.dataActions, `${where} (${roleName}) permissions[${i}].dataActions`),
      notDataActions: stringList(b.notDataActions, `${where} (${roleName}) permissions[${i}].notDataActions`),
    };
  });
  return { roleName, permissions };
}

/**
 * The roles of one vault: the built-in ones plus `custom` (a custom role may not reuse a
 * built-in name, as in Azure where role names are unique per tenant).
 *
 * @throws {TypeError} for an invalid definition or a duplicate name.
 */
export function compileRoles(custom: readonly unknown[] = []): ReadonlyMap<string, CompiledRole> {
  const roles = new Map<string, CompiledRole>();
  for (const definition of BUILT_IN_ROLE_DEFINITIONS) roles.set(definition.roleName.toLowerCase(), new CompiledRole(definition));
  custom.forEach((value, i) => {
    const definition = parseRoleDefinition(value, `options.roleDefinitions[${i}]`);
    const key = definition.roleName.toLowerCase();
    if (roles.has(key)) throw new TypeError(`options.roleDefinitions[${i}]: a role named "${definition.roleName}" already exists`);
    roles.set(key, new CompiledRole(definition));
  });
  return roles;
}
