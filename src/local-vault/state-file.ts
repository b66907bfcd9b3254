/**
 * Persistence of a vault across restarts: keys (with private material), rotation policies,
 * soft-delete state, role assignments, the vault secret and the TLS identity, as one JSON file
 * written atomically (temp file mode 0600, fsync, rename, directory fsync). The file holds
 * private keys and the token-signing secret: keep it out of version control.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isVaultRole, type RoleAssignment } from './auth/rbac.js';
import { replaceAtomic } from '../store/internal/file-io.js';
import type { KeyRecord } from './service/state.js';
import type { TlsIdentity } from './transport/certificate.js';

const FORMAT = 'kv-envelope/local-vault-state';
const VERSION = 1;

/** Everything a vault persists. */
export interface VaultSnapshot {
  tenantId: string;
  /** The master secret, base64url. */
  secret: string;
  keys: KeyRecord[];
  roleAssignments: RoleAssignment[];
  tls?: TlsIdentity | undefined;
}

/**
 * Reads a state file; `undefined` when it does not exist yet.
 *
 * @throws {Error} when the file exists but is not a state file of this version.
 */
export async function readStateFile(path: string): Promise<VaultSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new Error(`The local vault state file ${path} is not valid JSON.`, { cause });
  }
  if (parsed.format !== FORMAT || parsed.version !== VERSION) {
    throw new Error(`The file ${path} is not a local vault state file (format ${FORMAT} v${VERSION}).`);
  }
  const secret = typeof parsed.secret === 'string' ? Buffer.from(parsed.secret, 'base64url') : Buffer.alloc(0);
  if (secret.length !== 32 || typeof parsed.tenantId !== 'string' || !Array.isArray(parsed.keys)) {
    throw new Error(`The local vault state file ${path} is incomplete or corrupt.`);
  }
  const roles = Array.isArray(parsed.roleAssignments) ? (parsed.roleAssignments as RoleAssignment[]) : [];
  return {
    tenantId: parsed.tenantId,
    secret: parsed.secret as string,
    keys: parsed.keys as KeyRecord[],
    roleAssignments: roles.filter((a) => typeof a?.principal === 'string' && isVaultRole(a.role)),
    tls: parsed.tls as TlsIdentity | undefined,
  };
}

/** Writes `snapshot` to `path` atomically with mode 0600. */
export async function writeStateFile(path: string, snapshot: VaultSnapshot): Promise<void> {
  const absolute = resolve(path);
  const json = JSON.stringify({ format: FORMAT, version: VERSION, ...snapshot });
  await replaceAtomic(dirname(absolute), absolute, Buffer.from(json, 'utf8'));
}
